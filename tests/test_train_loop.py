"""The one training loop: what it resumes and what it leaves (kills and NaN: test_faults_core)."""

import pytest
import torch

from interdiff_core.io import load_checkpoint
from interdiff_core.train.loop import train


def _problem():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1), torch.randn(64, 3), torch.randn(64, 1)


def _run(tmp, steps=12, fail_at=None, nan_at=None):
    model, X, Y = _problem()
    calls = {"n": 0}

    def loss_fn(m, gen):
        calls["n"] += 1
        b = torch.randint(64, (8,), generator=gen)
        if fail_at is not None and calls["n"] == fail_at:
            raise KeyboardInterrupt("killed")
        loss = ((m(X[b]) - Y[b]) ** 2).mean()
        return loss * float("nan") if calls["n"] == nan_at else loss

    cfg = {"steps": steps, "lr": 1e-2, "checkpoint_every": 4}
    train(
        model, loss_fn, cfg, {"stage": "toy"}, 1, tmp / "ckpt", tmp / "model.safetensors", warmup=2
    )
    return load_checkpoint(tmp / "model.safetensors")


def test_checkpoints_of_another_config_are_not_resumed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "a", fail_at=6)
    _run(tmp_path / "fresh", steps=20)
    _run(tmp_path / "a", steps=20)  # stale checkpoint at step 4 of a 12-step run: start over
    fresh, _, _ = load_checkpoint(tmp_path / "fresh" / "model.safetensors")
    state, _, _ = load_checkpoint(tmp_path / "a" / "model.safetensors")
    for k in fresh:
        torch.testing.assert_close(state[k], fresh[k], rtol=0, atol=0)


def test_a_finished_run_keeps_one_checkpoint_and_rewrites_a_lost_model_without_training(
    tmp_path, caplog
):
    """Snakemake sent SIGINT while a training job runs may record the finished model incomplete
    and delete it on the rerun (test_faults_workflow); the finished run must not train again."""
    state, extra, _ = _run(tmp_path)
    assert [p.name for p in (tmp_path / "ckpt").glob("ckpt-*")] == ["ckpt-00000012.safetensors"]
    (tmp_path / "model.safetensors").unlink()
    with caplog.at_level("INFO"):
        again, again_extra, meta = _run(tmp_path, fail_at=1)  # any loss_fn call would raise
    assert "at step 12 (training had finished" in caplog.text
    assert meta["step"] == 12
    torch.testing.assert_close(again_extra["loss_history"], extra["loss_history"], rtol=0, atol=0)
    for k in state:
        torch.testing.assert_close(again[k], state[k], rtol=0, atol=0)
    _run(tmp_path, steps=16)  # another config: trains from step 0, keeps only its own
    assert [p.name for p in (tmp_path / "ckpt").glob("ckpt-*")] == ["ckpt-00000016.safetensors"]


def test_a_stage_s_initial_weights_follow_its_seed_not_the_process_history(tmp_path):
    """Training seeds must differ in initialisation, not only in batches and noise, and a stage
    run twice in one process (a notebook) must give the same model."""
    from interdiff_core.io import save_tensors
    from interdiff_core.stages.train_dphi import train_dphi

    gen = torch.Generator().manual_seed(0)
    T, N = 9, 16
    i = torch.randint(0, T - 2, (N, 4), generator=gen)
    seg = torch.stack([i, i + 2], -1)
    save_tensors(tmp_path / "targets.safetensors",
                 {"cond": torch.randn(N, 5, generator=gen), "seg": seg,
                  "cost": torch.rand(N, 4, generator=gen) + 0.1}, {"T": T})  # fmt: skip
    cfg = {"model": {"d_model": 8}, "loss": {"mse": 1.0}, "steps": 1, "batch_size": 4,
           "lr": 1e-9, "checkpoint_every": 10}  # fmt: skip

    def weights(seed, name):
        torch.rand(7)  # whatever ran before in the process
        out = tmp_path / f"{name}.safetensors"
        train_dphi(tmp_path / "targets.safetensors", out, tmp_path / name, cfg, seed)
        return torch.cat([v.flatten() for v in load_checkpoint(out)[0].values()])

    first, again, other = weights(0, "a"), weights(0, "b"), weights(1, "c")
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert (first - other).abs().max() > 1e-3
