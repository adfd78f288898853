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


def test_a_finished_run_leaves_only_the_final_model(tmp_path):
    _run(tmp_path)
    assert not list((tmp_path / "ckpt").glob("ckpt-*"))
