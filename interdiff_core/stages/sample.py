"""sample: every method on one split (val or test), with its compute recorded.

Methods: the teacher at several step counts, the untrained teacher architecture, the straight
line from start to goal, and the two-phase sampler (selector -> phase-1 -> interpolation ->
phase-2 levels) and its interpolation-only ablation at several phase-1 step counts. For each:
network evaluations (NFE), tokens processed (frames + conditioning tokens, summed over NFE)
and wall time.
"""

from __future__ import annotations

import logging
import time

import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model, save_tensors
from interdiff_core.models.selector import select_nested
from interdiff_core.models.teacher import load_teacher
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import (
    refine,
    sample_keyframes,
    sample_teacher,
    sampling_sigmas,
)
from interdiff_core.selection.masks import interpolate

log = logging.getLogger(__name__)


def _timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


@torch.no_grad()
def sample_all(
    split_dir,
    teacher_path,
    selector_path,
    phase1_path,
    phase2_path,
    out_path,
    cfg: dict,
    seed: int,
    on_bad_sample: str = "error",
) -> None:
    data = load_split(split_dir, on_bad_sample=on_bad_sample)
    skipped_test = data.skipped
    n = min(cfg["n_samples"], len(data))
    data = data.subset(torch.arange(n))
    cond, T = data.cond, data.T
    teacher, teacher_meta = load_teacher(teacher_path)
    selector, _ = load_model(SequenceTransformer, selector_path)
    phase1, _ = load_model(SequenceTransformer, phase1_path)
    phase2, meta2 = load_model(SequenceTransformer, phase2_path)
    levels = meta2["levels"]
    sigmas = sampling_sigmas(meta2["config"]["noise_sigma"], cfg["phase2_noise"])
    n_cond = phase2.cond.n_tokens  # the two-phase models' conditioning prefix
    teacher_tokens = teacher.n_tokens(T, cond.shape[1])  # per call, whatever the backbone
    torch.manual_seed(seed)
    untrained = type(teacher)(**teacher.config).eval()

    results: dict[str, torch.Tensor] = {}
    rows = []

    def record(method, steps, traj, seconds, nfe, tokens):
        key = f"{method}@{steps}"
        results[key] = traj
        rows.append(
            dict(method=method, steps=steps, nfe=nfe, tokens=tokens, seconds_per_sample=seconds / n)
        )
        log.info("%-14s steps=%-3d nfe=%-3d %.4f s/sample", method, steps, nfe, seconds / n)

    def gen():
        return torch.Generator().manual_seed(seed)

    for steps in cfg["teacher_steps"]:
        traj, sec = _timed(sample_teacher, teacher, cond, T, steps, gen())
        record("teacher", steps, traj, sec, steps, steps * teacher_tokens)
    s_untrained = cfg["untrained_steps"]
    traj, sec = _timed(sample_teacher, untrained, cond, T, s_untrained, gen())
    record("untrained", s_untrained, traj, sec, s_untrained, s_untrained * teacher_tokens)
    line, sec = _timed(
        lambda: interpolate(data.endpoints, torch.tensor([0, T - 1]).expand(n, 2), T)
    )
    record(data.baseline, 0, line, sec, 0, 0)

    levels_idx, sel_sec = _timed(lambda: select_nested(selector, cond, levels, T))
    results["keyframes"] = levels_idx[0]
    sel_tokens = len(levels) * (T + n_cond)
    for steps in cfg["phase1_steps"]:
        anchors, p1_sec = _timed(sample_keyframes, phase1, cond, levels_idx[0], steps, gen())
        p1_tokens = steps * (levels[0] + n_cond)
        interp, i_sec = _timed(interpolate, anchors, levels_idx[0], T)
        record(
            "interp_only",
            steps,
            interp,
            sel_sec + p1_sec + i_sec,
            steps + len(levels),
            sel_tokens + p1_tokens,
        )
        refined, r_sec = _timed(refine, phase2, anchors, levels_idx, cond, T, sigmas, gen())
        record(
            "two_phase",
            steps,
            refined,
            sel_sec + p1_sec + r_sec,
            steps + 2 * len(levels),
            sel_tokens + p1_tokens + len(levels) * (T + n_cond),
        )
    skipped = {"train": teacher_meta.get("skipped_samples", 0), "test": skipped_test}
    meta = stage_meta(
        "sample", cfg, rows=rows, levels=levels, n=n, domain=data.domain, skipped=skipped
    )
    if data.domain == "video":
        meta["latent_shape"] = list(data.latent_shape)
    save_tensors(out_path, {"gt": data.x, **data.sample_extras(), **results}, meta)
