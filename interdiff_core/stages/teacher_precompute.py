"""teacher_precompute: cache the teacher's predictions on the true sequences of a training
subsample, at the t_steps noise levels the teacher segment cost uses (noise fixed and stored)."""

from __future__ import annotations

import logging

import torch

from interdiff_core.data.splits import load_split, training_subsample
from interdiff_core.io import save_tensors
from interdiff_core.models.teacher import load_teacher
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import denoiser_at_level
from interdiff_core.selection.costs import noise_levels

log = logging.getLogger(__name__)


@torch.no_grad()
def teacher_precompute(
    train_dir, teacher_path, out_path, cfg: dict, seed: int, on_bad_sample: str = "error"
) -> None:
    data = load_split(train_dir, on_bad_sample=on_bad_sample)
    gen = torch.Generator().manual_seed(seed)
    pick, sub = training_subsample(data, cfg["subsample"], gen)
    teacher, _ = load_teacher(teacher_path)
    tau = noise_levels(cfg["t_steps"])
    L, (N, T, D) = len(tau), sub.x.shape
    eps = torch.randn(N, L, T, D, generator=gen)
    x_hat = torch.empty_like(eps)
    for s in range(0, N, 64):
        b = slice(s, s + 64)
        nb = sub.x[b].shape[0]
        z = tau[None, :, None, None] * sub.x[b, None] + (1 - tau[None, :, None, None]) * eps[b]
        f = denoiser_at_level(teacher, sub.cond[b].repeat_interleave(L, 0), T)
        x_hat[b] = f(z.reshape(nb * L, T, D), tau.repeat(nb)).view(nb, L, T, D)
    log.info("cached teacher predictions for %d sequences x %d levels", N, L)
    save_tensors(
        out_path,
        {"index": pick, "x": sub.x, "cond": sub.cond, "eps": eps, "x_hat": x_hat, "tau": tau},
        stage_meta("teacher_precompute", cfg),
    )
