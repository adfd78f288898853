"""A tiny regression trained by the one training loop, runnable in a subprocess that a test
kills: `python tests/toy_training.py ROOT [--slow] [--die-in-checkpoint-write]`."""

import os
import signal
import sys
import time
from pathlib import Path

import torch

STEPS, CHECKPOINT_EVERY = 60, 10
TOY_CFG = {"steps": STEPS, "lr": 1e-2, "checkpoint_every": CHECKPOINT_EVERY}


def toy_problem(slow: float = 0.0, nan_at: int | None = None, value=float("nan")):
    """(model, loss_fn) of the tiny regression; the loss returns `value` times itself at call
    `nan_at` and sleeps `slow` seconds per call."""
    from interdiff_core.train.loop import on_model_device

    torch.manual_seed(0)
    model, X, Y = torch.nn.Linear(3, 1), torch.randn(64, 3), torch.randn(64, 1)
    calls = {"n": 0}

    def loss_fn(m, gen):
        calls["n"] += 1
        time.sleep(slow)
        b = torch.randint(64, (8,), generator=gen)
        xb, yb = on_model_device(m, X[b], Y[b])
        loss = ((m(xb) - yb) ** 2).mean()
        return loss * value if calls["n"] == nan_at else loss

    return model, loss_fn


def toy_training(root, slow: float = 0.0, nan_at: int | None = None, value=float("nan")):
    """Train the toy under `root`; returns the loss history."""
    from interdiff_core.train.loop import train

    model, loss_fn = toy_problem(slow, nan_at, value)
    root = Path(root)
    return train(
        model, loss_fn, TOY_CFG, {"stage": "toy"}, 1, root / "ckpt", root / "model.safetensors"
    )


def _die_inside_checkpoint_write():
    """Replace the tensor-file writer with one that writes the whole file, then SIGKILLs
    this process before `atomic_path` can rename it into place."""
    import interdiff_core.io as io

    real = io.save_file

    def write_then_die(tensors, path, metadata=None):
        real(tensors, path, metadata=metadata)
        os.kill(os.getpid(), signal.SIGKILL)

    io.save_file = write_then_die


if __name__ == "__main__":
    from interdiff_core.runtime import setup

    setup(None, threads=1)  # log to stderr, where the test reads "resumed from"
    if "--die-in-checkpoint-write" in sys.argv:
        _die_inside_checkpoint_write()
    toy_training(sys.argv[1], slow=0.05 if "--slow" in sys.argv else 0.0)
