"""Model calls shared by training-time caching and test-time sampling.

Each helper binds one model to the common sampler or to one refinement pass; they are the only
places that know how the teacher, phase-1 and phase-2 are called.
"""

from __future__ import annotations

import torch

from interdiff_core.corruption.keyframes import corrupt, gather_frames, place_frames
from interdiff_core.diffusion.sampler import Given, apply_given, sample
from interdiff_core.models.interpolator import KeyframeInterpolation

LINEAR = KeyframeInterpolation()  # phase2.interpolator: linear

ALL = slice(None)


def teacher_fn(model, cond: torch.Tensor, T: int):
    positions = torch.arange(T, device=cond.device).expand(cond.shape[0], T)
    return lambda z, tau, step, rows=ALL: model(z, positions[rows], tau, cond[rows], step=step)


def denoiser_at_level(teacher, cond: torch.Tensor, T: int):
    """The teacher as x̂ = f(z [N,T,D], τ) with the finest step size; τ [N] is one shared level
    per sequence, τ [N,T] one level per frame (diffusion forcing)."""
    finest = teacher.config["n_steps"] - 1
    positions = torch.arange(T, device=cond.device).expand(cond.shape[0], T)

    def f(z: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        step = torch.full((z.shape[0],), finest, dtype=torch.long, device=z.device)
        tau = tau[:, None].expand(-1, T) if tau.dim() == 1 else tau
        return teacher(z, positions, tau, cond, step=step)

    return f


def cleanest_level(teacher) -> float:
    """The highest signal level the teacher trained on: 1 − 1/k_max of its shortcut grid."""
    return 1.0 - 1.0 / 2 ** (teacher.config["n_steps"] - 1)


def keyframe_fn(model, cond: torch.Tensor, idx: torch.Tensor):
    return lambda z, tau, step, rows=ALL: model(z, idx[rows], tau, cond[rows], step=step)


def sample_teacher(model, cond, T: int, steps: int, gen, given: Given | None = None):
    shape = (cond.shape[0], T, model.x_dim)
    return sample(teacher_fn(model, cond, T), shape, steps, gen, given=given)


def sample_keyframes(model, cond, idx, steps: int, gen, given: Given | None = None):
    """Keyframes at idx [B, K]; `given` is over the whole sequence, taken at idx."""
    shape = (*idx.shape, model.x_dim)
    at_idx = None if given is None else tuple(gather_frames(g, idx) for g in given)
    return sample(keyframe_fn(model, cond, idx), shape, steps, gen, given=at_idx)


def refine_step(model, values, idx, level: int, cond, T: int, sigma: float, gen, interp=LINEAR):
    """One phase-2 pass: corrupt from the keyframes of `level` (interpolated by `interp`),
    predict the clean sequence as the corrupted one plus a learned correction."""
    z, known = corrupt(values, idx, T, sigma, gen, interp)
    B = z.shape[0]
    positions = torch.arange(T, device=z.device).expand(B, T)
    lvl = torch.full((B,), level, dtype=torch.long, device=z.device)
    # a correction of the corrupted sequence: an untrained refiner leaves interpolation as is
    return z + model(z, positions, known.float(), cond, known=known, level=lvl)


def sampling_sigmas(train_sigmas: list[float], mode: str) -> list[float]:
    """Noise on the missing frames at each phase-2 level when sampling (`sample.phase2_noise`):
    `level` reuses the training sigmas (phase-2 then samples as it was trained), `none` refines
    the interpolation as it is."""
    if mode == "level":
        return list(train_sigmas)
    if mode == "none":
        return [0.0] * len(train_sigmas)
    raise ValueError(f"sample.phase2_noise: expected 'none' or 'level', got {mode!r}")


def refine(
    model,
    anchors,
    levels_idx: list,
    cond,
    T: int,
    sigmas: list[float],
    gen,
    last=None,
    interp=LINEAR,
    given: Given | None = None,
):
    """Phase-2 over nested levels, coarse to fine: the one function that both samples and
    trains phase-2, so training sees exactly the corruption sampling builds.

    Level 0's keyframes are `anchors` (phase-1 samples when sampling; the ground truth or cached
    phase-1 anchors in training); each finer level takes its new keyframes from the previous
    level's prediction (anchors stay fixed) and predicts the sequence again. It runs levels
    0..`last` (default: all) and returns the last prediction; only the last level carries a
    gradient, the earlier ones run as at sampling time, under no_grad. `interp` (a
    `KeyframeInterpolation`: LERP or the flow interpolator) fills the gaps at every level.
    `given` entries (inpainting, as `sample`) replace every level's prediction.
    """
    last = len(levels_idx) - 1 if last is None else last
    idx0 = levels_idx[0]
    current = interp(anchors, idx0, T)
    for s in range(last + 1):
        idx = levels_idx[s]
        pinned = place_frames(current, idx0, anchors)
        with torch.set_grad_enabled(torch.is_grad_enabled() and s == last):
            current = refine_step(
                model, gather_frames(pinned, idx), idx, s, cond, T, sigmas[s], gen, interp
            )
        current = apply_given(current, given)
    return current


def phase2_loss(model, x, keys0, levels_idx: list, level: int, cond, sigmas, gen, interp=LINEAR):
    """Phase-2's training loss at `level`: `refine` unrolled from the level-0 keyframe values
    keys0 [B, K_0, D] up to `level` (its own previous predictions supply the finer keyframes),
    squared error against the clean sequence x [B, T, D]."""
    pred = refine(
        model, keys0, levels_idx, cond, x.shape[1], sigmas, gen, last=level, interp=interp
    )
    return ((pred - x) ** 2).mean()
