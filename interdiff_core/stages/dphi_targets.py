"""dphi_targets: segment costs cost(i, j) for sampled segments of the cached subsample."""

from __future__ import annotations

import logging

import torch

from interdiff_core.io import load_tensors, save_tensors
from interdiff_core.models.teacher import load_teacher
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import denoiser_at_level
from interdiff_core.selection.costs import oracle_costs, sample_segments, snr_weights, teacher_costs

log = logging.getLogger(__name__)


@torch.no_grad()
def dphi_targets(cache_path, teacher_path, out_path, cfg: dict, seed: int) -> None:
    c, _ = load_tensors(cache_path, {"x": (None, None, None), "cond": (None, None)})
    x, cond = c["x"], c["cond"]
    N, T, _ = x.shape
    gen = torch.Generator().manual_seed(seed)
    seg = sample_segments(N, T, cfg["segments_per_sample"], gen)
    if cfg["kind"] == "oracle":
        cost = oracle_costs(x, seg)
    elif cfg["kind"] == "teacher":
        teacher, _ = load_teacher(teacher_path)
        w = snr_weights(c["tau"], cfg["s_min"], cfg["s_max"], cfg["gamma"])
        cost = torch.empty(N, seg.shape[1])
        for s in range(0, N, 8):
            b = slice(s, s + 8)
            L = c["tau"].shape[0]
            cb = cond[b].repeat_interleave(seg.shape[1] * L, 0)
            f = denoiser_at_level(teacher, cb, T)
            cost[b] = teacher_costs(f, x[b], seg[b], c["eps"][b], c["x_hat"][b], c["tau"], w)
    else:
        raise ValueError(f"dphi.kind must be 'oracle' or 'teacher', got {cfg['kind']!r}")
    log.info(
        "%s costs: mean %.4g, median %.4g, max %.4g",
        cfg["kind"],
        cost.mean(),
        cost.median(),
        cost.max(),
    )
    save_tensors(
        out_path, {"cond": cond, "seg": seg, "cost": cost}, stage_meta("dphi_targets", cfg, T=T)
    )
