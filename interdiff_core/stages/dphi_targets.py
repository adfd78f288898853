"""dphi_targets: segment costs cost(i, j) for sampled segments of the cached subsample.

With a teacher cost, it also measures on the first `probe_samples` sequences (every segment)
how often the nested DP over SNR-weighted costs picks other keyframes than over uniformly
weighted ones: the weighting matters only if that share is above 0."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from interdiff_core.data.splits import load_split, training_subsample
from interdiff_core.dphi_kinds import GROUND_TRUTH_KINDS, reads_teacher_cache
from interdiff_core.io import load_tensors, save_tensors
from interdiff_core.models.teacher import load_teacher
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import cleanest_level, denoiser_at_level, sample_teacher
from interdiff_core.selection.costs import (
    all_segments,
    combine_levels,
    level_cost_matrix,
    oracle_costs,
    sample_segments,
    snr_weights,
    teacher_bridge_level_costs,
    teacher_level_costs,
    weighting_disagreement,
)
from interdiff_core.stages.prepare_data import rest_episode_conditioning, simulated_rest_episodes

log = logging.getLogger(__name__)


def teacher_level_costs_batched(
    kind: str, teacher, x, cond, seg, eps, x_hat, tau, chunk: int = 2048
) -> torch.Tensor:
    """[B, S, L] per-level costs of `kind` (teacher | teacher_infill), the teacher called on
    about `chunk` sequences at a time."""
    B, S = seg.shape[:2]
    L, T = tau.shape[0], x.shape[1]
    tau_key = cleanest_level(teacher)
    out = torch.empty(B, S, L)
    per = max(1, chunk // L)  # segments per call
    for b in range(B):
        for s in range(0, S, per):
            sl = slice(s, s + per)
            n = seg[b, sl].shape[0]
            f = denoiser_at_level(teacher, cond[b : b + 1].expand(n * L, -1), T)
            xb, sb, eb = x[b : b + 1], seg[b : b + 1, sl], eps[b : b + 1]
            if kind == "teacher":
                out[b, sl] = teacher_bridge_level_costs(f, xb, sb, eb, x_hat[b : b + 1], tau)[0]
            else:
                out[b, sl] = teacher_level_costs(f, xb, sb, eb, tau, tau_key)[0]
    return out


@torch.no_grad()
def generated_sequences(teacher, cond: torch.Tensor, T: int, steps: int, gen, chunk: int = 256):
    """One teacher sample [N, T, D] per conditioning row, drawn `chunk` rows at a time."""
    return torch.cat([sample_teacher(teacher, cond[s : s + chunk], T, steps, gen)
                      for s in range(0, len(cond), chunk)])  # fmt: skip


def weighted_features(x: torch.Tensor, weights: list[float] | None) -> torch.Tensor:
    """x [N, T, D] scaled so that its squared errors carry `dphi.cost_weights` per feature."""
    if weights is None:
        return x
    if len(weights) != x.shape[-1]:
        raise ValueError(
            f"dphi.cost_weights: expected one weight per feature of a frame ({x.shape[-1]}), "
            f"got {len(weights)}"
        )
    return x * torch.tensor(weights, dtype=x.dtype).sqrt()


def training_windows(path, cfg: dict, seed: int, on_bad_sample: str = "error") -> dict:
    """The windows D_phi's targets are computed on: `teacher_precompute`'s cache (`index`, `x`,
    `cond` and, for the teacher kinds, the teacher's predictions), or for the ground-truth kinds
    the train split's shard directory, subsampled as that stage subsamples it (the same rows from
    the same seed), so an oracle D_phi needs no teacher."""
    if not Path(path).is_dir():
        expect = {"x": (None, None, None), "cond": (None, None)}
        return load_tensors(path, expect)[0]
    if reads_teacher_cache(cfg["kind"]):
        raise ValueError(
            f"dphi.kind {cfg['kind']!r} reads the teacher's predictions (teacher_precompute's "
            f"cache), not the train split {path}"
        )
    data = load_split(path, on_bad_sample=on_bad_sample)
    pick, sub = training_subsample(data, cfg["subsample"], torch.Generator().manual_seed(seed))
    return {"index": pick, "x": sub.x, "cond": sub.cond}


def dphi_targets(
    windows_path,
    teacher_path,
    out_path,
    cfg: dict,
    seed: int,
    levels: list[int],
    raw_path=None,
    on_bad_sample: str = "error",
) -> None:
    """windows_path: `training_windows`' source; teacher_path: the trained teacher (read by
    every kind but oracle). raw_path: the maze domain's prepare_data output, read under
    `dphi.windows: rest_episodes` (D_phi's targets from the training windows that are episodes
    from rest, each conditioned on the goal its expert was driven to)."""
    windows = cfg.get("windows", "all")
    c = training_windows(windows_path, cfg, seed, on_bad_sample)
    if windows != "all" and "index" not in c:
        raise ValueError(f"{windows_path}: no key 'index' (the windows' rows), needed by "
                         f"dphi.windows: {windows}")  # fmt: skip
    x, cond = c["x"], c["cond"]
    if windows == "rest_episodes":
        if raw_path is None:
            raise ValueError(
                "dphi.windows: rest_episodes needs the maze domain's episodes from rest; "
                "use dphi.windows: all for clips"
            )
        rows, cond = rest_episode_conditioning(raw_path, c["index"], cond, x)
        c.update({k: c[k][rows] for k in ("x", "eps", "x_hat") if k in c})
        x = c["x"]
        log.info("D_phi targets on the %d of %d windows that are episodes from rest, "
                 "conditioned on their goals", len(x), len(rows))  # fmt: skip
        n_extra = cfg.get("extra_rest_episodes", 0)
        if n_extra:
            if cfg["kind"] not in GROUND_TRUTH_KINDS:
                raise ValueError(
                    "dphi.extra_rest_episodes needs dphi.kind oracle or generated (the simulated "
                    f"episodes have no teacher predictions cached), got {cfg['kind']!r}"
                )
            x_new, cond_new = simulated_rest_episodes(raw_path, cond[0], n_extra, seed)
            x, cond = torch.cat([x, x_new]), torch.cat([cond, cond_new])
            log.info("plus %d simulated episodes from rest", n_extra)
    elif cfg.get("extra_rest_episodes", 0):
        raise ValueError("dphi.extra_rest_episodes needs dphi.windows: rest_episodes")
    elif windows != "all":
        raise ValueError(f"dphi.windows must be 'all' or 'rest_episodes', got {windows!r}")
    N, T, _ = x.shape
    gen = torch.Generator().manual_seed(seed)
    S = cfg["segments_per_sample"]  # 0: every segment of every sequence
    seg = all_segments(N, T) if S == 0 else sample_segments(N, T, S, gen)
    extra = {}
    weights = cfg.get("cost_weights")
    if weights is not None and cfg["kind"] not in GROUND_TRUTH_KINDS:
        raise ValueError(
            f"dphi.cost_weights needs dphi.kind oracle or generated, got {cfg['kind']!r}"
        )
    if cfg["kind"] == "oracle":
        cost = oracle_costs(weighted_features(x, weights), seg)
    elif cfg["kind"] == "generated":
        teacher, _ = load_teacher(teacher_path)
        steps, draws = cfg.get("generated_steps", 4), cfg.get("generated_draws", 4)
        truth = weighted_features(x, weights)
        cost = torch.zeros(seg.shape[:2])
        for _ in range(draws):
            keys = generated_sequences(teacher, cond, T, steps, gen)
            cost += oracle_costs(truth, seg, keys=weighted_features(keys, weights)) / draws
        log.info("generated keyframes: %d teacher draws at %d steps per window", draws, steps)
    elif cfg["kind"] in ("teacher", "teacher_infill"):
        teacher, _ = load_teacher(teacher_path)
        tau = c["tau"]
        w = snr_weights(tau, cfg["s_min"], cfg["s_max"], cfg["gamma"])
        kind, eps, x_hat = cfg["kind"], c["eps"], c["x_hat"]
        per_level = teacher_level_costs_batched(kind, teacher, x, cond, seg, eps, x_hat, tau)
        cost = combine_levels(per_level, w)
        n = min(cfg["probe_samples"], N)
        if n:
            P = all_segments(n, T)
            full = teacher_level_costs_batched(
                kind, teacher, x[:n], cond[:n], P, eps[:n], x_hat[:n], tau
            )
            share = weighting_disagreement(
                level_cost_matrix(full, T), w, torch.ones_like(w), levels
            )
            extra["snr_vs_uniform_dp_differs"] = share
            for K, v in zip(levels, share, strict=True):
                log.info(
                    "K=%d: nested DP(SNR weights) != DP(uniform weights) in %.0f%% of %d samples",
                    K,
                    100 * v,
                    n,
                )
    else:
        raise ValueError(
            "dphi.kind must be 'oracle', 'generated', 'teacher' or 'teacher_infill', "
            f"got {cfg['kind']!r}"
        )
    log.info(
        "%s costs: mean %.4g, median %.4g, max %.4g",
        cfg["kind"],
        cost.mean(),
        cost.median(),
        cost.max(),
    )
    save_tensors(
        out_path,
        {"cond": cond, "seg": seg, "cost": cost},
        stage_meta("dphi_targets", cfg, T=T, **extra),
    )
