"""Training on `run.device`: batches are built on the CPU from the loop's generator and moved to
the model's device. Without a GPU, the meta device stands in for CUDA: like CUDA it refuses to
mix its tensors with CPU ones, so a loss that leaves one tensor on the CPU fails here.
The workflow-level check of every training stage is in test_workflow.py (it needs the micro
DAG's artifacts); the CUDA tests run only where a GPU is."""

import pytest
import torch
from conftest import run_on_meta, stage_on_meta
from toy_training import STEPS, TOY_CFG, toy_problem

from interdiff_core.data.windows import AlternatingWindows, window_loss_fn
from interdiff_core.diffusion.flow import shortcut_loss
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.two_phase import refine_step, teacher_fn
from interdiff_core.train.loop import on_model_device, train

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_a_batch_left_on_the_cpu_fails_on_meta_as_on_cuda():
    model = SequenceTransformer(2, 4, d_model=16, n_layers=1, n_heads=2, max_len=8)
    x, cond = torch.randn(6, 8, 2), torch.randn(6, 4)

    def forgot_the_move(model, gen):
        return shortcut_loss(teacher_fn(model, cond, 8), x, 4, gen)

    with pytest.raises((RuntimeError, NotImplementedError), match="device"):
        run_on_meta(model, forgot_the_move)

    def moved(model, gen):
        xb, c = on_model_device(model, x, cond)
        return shortcut_loss(teacher_fn(model, c, 8), xb, 4, gen)

    run_on_meta(model, moved)


def test_refinement_and_windowed_teacher_losses_stay_on_the_model_device():
    T = 8
    refiner = SequenceTransformer(2, 4, d_model=16, n_layers=1, n_heads=2, max_len=T, n_levels=2)
    x, cond = torch.randn(6, T, 2), torch.randn(6, 4)
    idx = torch.tensor([[0, 3, 7]] * 6)

    def refine_loss(model, gen):
        xb, keys, i, c = on_model_device(model, x, x[:, [0, 3, 7]], idx, cond)
        return ((refine_step(model, keys, i, 1, c, T, 0.3, gen) - xb) ** 2).mean()

    run_on_meta(refiner, refine_loss)

    clips, clip_cond = torch.randn(4, 12, 2, 2, 2), torch.randn(4, 4)
    windows = AlternatingWindows(
        clips,
        clip_cond,
        dict(short_len=4, long_len=8, short_batch=4, long_batch=2, long_ratio=0.5, stride=1),
        seed=0,
    )
    teacher = SequenceTransformer(8, 4, d_model=16, n_layers=1, n_heads=2, max_len=12, n_steps=3)
    run_on_meta(teacher, window_loss_fn(windows, k_max=4), steps=6)


def _toy(tmp_path, device):
    """The toy regression of the fault tests, trained on `device`: (model, loss history)."""
    model, loss_fn = toy_problem()
    ckpt, out = tmp_path / device / "ckpt", tmp_path / device / "model.safetensors"
    history = train(model, loss_fn, TOY_CFG, {"stage": "toy"}, 1, ckpt, out, device=device)
    return model, history


def test_cuda_without_a_gpu_fails_naming_run_device(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="run.device is 'cuda' but this job sees no CUDA"):
        _toy(tmp_path, "cuda")
    assert not (tmp_path / "cuda" / "model.safetensors").exists()


def test_training_returns_the_model_to_where_it_was(tmp_path):
    model, history = _toy(tmp_path, "cpu")
    assert next(model.parameters()).device.type == "cpu" and len(history) == STEPS


@cuda
def test_cuda_training_draws_the_cpu_runs_batches(tmp_path):
    cpu_model, cpu_history = _toy(tmp_path, "cpu")
    gpu_model, gpu_history = _toy(tmp_path, "cuda")
    assert next(gpu_model.parameters()).device.type == "cpu"  # back where it came from
    # the same batches and noise: the curves differ only by floating-point rounding
    torch.testing.assert_close(torch.tensor(gpu_history), torch.tensor(cpu_history), rtol=1e-3,
                               atol=1e-5)  # fmt: skip


def test_video_training_stages_run_on_the_models_device(tmp_path):
    from test_interpolator import write_linear_clips

    from interdiff_core.io import save_tensors

    write_linear_clips(tmp_path / "clips")
    cfg = dict(model=dict(width=8, depth=1, residual_width=8), max_gap=12, batch_size=8,
               unc_weight=0.1, steps=30, lr=3e-3, checkpoint_every=100)  # fmt: skip
    stage_on_meta("train_interpolator", tmp_path / "clips", "t", "ck", cfg, 0)

    frames = torch.randint(0, 256, (2, 3, 8, 8, 3), dtype=torch.uint8)
    save_tensors(tmp_path / "raw.safetensors", {"train.frames": frames})
    cfg = dict(latent_channels=2, downsample=2, width=8, batch_size=4, edge_weight=0.5,
               steps=5, lr=1e-3, checkpoint_every=5)  # fmt: skip
    stage_on_meta("train_tokenizer", tmp_path / "raw.safetensors", "t", "ck", cfg, 0)


@cuda
@pytest.mark.workflow
def test_micro_dag_trains_on_cuda(workflow_copy):
    from conftest import edit_config, snakemake

    from interdiff_core.io import load_checkpoint

    edit_config(workflow_copy, "run", "device", "cuda")
    snakemake(workflow_copy)
    res = workflow_copy / "results" / "micro" / "base" / "seed0"
    assert (res / "eval" / "metrics.csv").exists()
    for stage in ("teacher", "dphi", "selector", "phase1", "phase2"):
        log = (res / "logs" / f"train_{stage}.log").read_text()
        assert f"train_{stage}: done" in log
        _, extra, _ = load_checkpoint(res / "models" / f"{stage}.safetensors")
        assert torch.isfinite(extra["loss_history"]).all()


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_two_ranks_train_over_nccl_one_gpu_each(tmp_path, monkeypatch):
    from conftest import REPO, write_maze_shards

    from interdiff_core.distributed import run_stage
    from interdiff_core.io import load_checkpoint

    write_maze_shards(tmp_path / "shards", n=64, T=16)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    cfg = dict(model=dict(d_model=16, n_layers=1, n_heads=2), steps=40, batch_size=8, lr=1e-3,
               k_max=4, diffusion_forcing=True, checkpoint_every=20, nproc=2)  # fmt: skip
    args = dict(train_dir=str(tmp_path / "shards"), out_path=str(tmp_path / "t.safetensors"),
                ckpt_dir=str(tmp_path / "ck"), cfg=cfg, seed=0, device="cuda")  # fmt: skip
    run_stage("train_teacher", args, 2, str(tmp_path / "log"), threads=1)
    _, extra, meta = load_checkpoint(tmp_path / "t.safetensors")
    assert meta["world_size"] == 2 and len(extra["loss_history"]) == 40
    assert "backend nccl" in (tmp_path / "log").read_text()
