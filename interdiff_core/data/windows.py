"""Training windows over video clips, with alternating short/long batch lengths (DreamerV4 §3.4).

A window is `length` contiguous frames of one clip, starting on a stride grid. Most batches are
short windows (many of them); occasionally (probability `long_ratio`) a batch is long windows
(fewer of them). Whether step s is long depends only on (seed, s), never on a data generator, so
every rank of a multi-process run agrees on the batch length of every step and a resumed run
keeps the schedule; which windows a batch holds is drawn from the caller's generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

WINDOW_FIELDS = ("short_len", "long_len", "short_batch", "long_batch", "long_ratio", "stride")


def window_starts(lengths: Sequence[int], length: int, stride: int) -> torch.Tensor:
    """Every (clip, start) with start on the stride grid and start + length <= the clip's
    length, as a LongTensor [M, 2], clips in order."""
    if length < 1 or stride < 1:
        raise ValueError(f"window length and stride must be >= 1, got {length}, {stride}")
    rows = [(c, s) for c, n in enumerate(lengths) for s in range(0, n - length + 1, stride)]
    return torch.tensor(rows, dtype=torch.long).view(-1, 2)


def is_long_step(step: int, seed: int, long_ratio: float) -> bool:
    """The seeded, rank-independent choice: is optimizer step `step` a long batch?"""
    return bool(np.random.default_rng([seed, step]).random() < long_ratio)


class AlternatingWindows:
    """Batches of windows over clips `x` [N, T, ...] (with per-clip conditioning `cond` [N, ...]).

    cfg: short_len, long_len, short_batch, long_batch, long_ratio (in [0, 1]), stride.
    """

    def __init__(self, x: torch.Tensor, cond: torch.Tensor, cfg: dict, seed: int):
        missing = [k for k in WINDOW_FIELDS if k not in cfg]
        if missing:
            raise KeyError(f"windows config: missing field(s) {missing}")
        if not 0.0 <= cfg["long_ratio"] <= 1.0:
            raise ValueError(f"windows.long_ratio must be in [0, 1], got {cfg['long_ratio']}")
        if cfg["short_len"] > cfg["long_len"]:
            raise ValueError(
                f"windows.short_len ({cfg['short_len']}) exceeds long_len ({cfg['long_len']})"
            )
        if len(x) != len(cond):
            raise ValueError(f"{len(x)} clips but {len(cond)} conditioning rows")
        self.x, self.cond, self.cfg, self.seed = x, cond, cfg, seed
        T = x.shape[1]
        self.starts = {}
        for kind in ("short", "long"):
            L = cfg[f"{kind}_len"]
            if L > T:
                raise ValueError(f"windows.{kind}_len = {L} exceeds the clip length {T}")
            self.starts[kind] = window_starts([T] * len(x), L, cfg["stride"])

    def kind(self, step: int) -> str:
        return "long" if is_long_step(step, self.seed, self.cfg["long_ratio"]) else "short"

    def batch(self, step: int, gen: torch.Generator):
        """(x [B, L, ...], cond [B, ...], where [B, 2] = (clip, start)) for step `step`."""
        kind = self.kind(step)
        L, B = self.cfg[f"{kind}_len"], self.cfg[f"{kind}_batch"]
        starts = self.starts[kind]
        where = starts[torch.randint(len(starts), (B,), generator=gen)]
        frames = where[:, 1:] + torch.arange(L)
        x = self.x[where[:, :1], frames]
        return x, self.cond[where[:, 0]], where


def flat_frames(x: torch.Tensor) -> torch.Tensor:
    """[B, L, C, h, w] latents -> [B, L, C·h·w] frame tokens for the sequence transformer."""
    return x.flatten(2)


def window_loss_fn(
    windows: AlternatingWindows, k_max: int, per_frame: bool = True, step_sampling: str = "uniform"
):
    """The teacher's shortcut-forcing loss on alternating windows, as a train-loop loss_fn
    (it takes the step, so the loop passes it). Positions are the frames' indices in their
    clip, as at rollout time, so the model's max_len must cover the clip length."""
    from interdiff_core.diffusion.flow import shortcut_loss
    from interdiff_core.train.loop import on_model_device

    def loss_fn(model, gen, step):
        x, cond, where = windows.batch(step, gen)
        pos = where[:, 1:] + torch.arange(x.shape[1])
        x, pos, cond = on_model_device(model, x, pos, cond.flatten(1))

        def f(z, tau, step_idx, rows=slice(None)):
            return model(z, pos[rows], tau, cond[rows], step=step_idx)

        return shortcut_loss(f, flat_frames(x), k_max, gen, per_frame, step_sampling)

    return loss_fn
