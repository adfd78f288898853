"""The one training loop: resume after a kill, NaN guard."""

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


def test_killed_run_resumes_and_ends_identical(tmp_path):
    clean_state, clean_extra, _ = _run(tmp_path / "clean")
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "killed", fail_at=10)
    assert not (tmp_path / "killed" / "model.safetensors").exists()
    _, _, meta = load_checkpoint(sorted((tmp_path / "killed" / "ckpt").glob("ckpt-*"))[-1])
    assert meta["step"] == 8
    state, extra, meta = _run(tmp_path / "killed")
    for k in clean_state:
        torch.testing.assert_close(state[k], clean_state[k], rtol=0, atol=0)
    assert len(extra["loss_history"]) == 12
    torch.testing.assert_close(extra["loss_history"], clean_extra["loss_history"])


def test_nan_loss_stops_with_stage_and_step_and_keeps_checkpoint(tmp_path):
    with pytest.raises(FloatingPointError, match="toy: loss is nan at step 5.*ckpt-00000004"):
        _run(tmp_path, nan_at=6)
    assert (tmp_path / "ckpt" / "ckpt-00000004.safetensors").exists()
    assert not (tmp_path / "model.safetensors").exists()


def test_checkpoints_of_another_config_are_not_resumed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "a", fail_at=6)
    _run(tmp_path / "fresh", steps=20)
    _run(tmp_path / "a", steps=20)  # stale checkpoint at step 4 of a 12-step run: start over
    fresh, _, _ = load_checkpoint(tmp_path / "fresh" / "model.safetensors")
    state, _, _ = load_checkpoint(tmp_path / "a" / "model.safetensors")
    for k in fresh:
        torch.testing.assert_close(state[k], fresh[k], rtol=0, atol=0)


def test_a_finished_run_leaves_only_the_final_model(tmp_path):
    _run(tmp_path)
    assert not list((tmp_path / "ckpt").glob("ckpt-*"))
