"""Autoregressive rollout of the world-model teacher, scored against the hold-last-frame baseline.

Each new frame is drawn from noise in K steps by the one sampler, with the frames before it in
the window as context really noised to τ_ctx (fresh noise every step, as diffusion forcing saw
them in training; the world-model seed labelled its context noisy but fed it clean). The
generated frame then joins the context of the next one.

τ_ctx must lie on the grid of the step size used (multiples of 1/steps): the teacher was trained
with every frame's τ on its step size's grid, and its τ features (sinusoids of 1000·τ) of an
off-grid level such as 0.9 are ones it never saw.

The shortcut check (`shortcut_check`) cannot be passed by predicting the mean: it compares the
coarse and the fine rollout started from the same noise (how far the shortcut lands from the
path it shortcuts) with two fine rollouts from different noise (how far apart samples are at
all); a model that ignores its noise makes both distances zero, which the second exposes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from interdiff_core.config import check_tau_ctx
from interdiff_core.diffusion.flow import ModelFn
from interdiff_core.diffusion.sampler import sample
from interdiff_core.metrics.video import psnr

# make_fn(start, length) -> the model for a window of `length` frames starting at clip frame
# `start` (so it can place absolute positions, or an oracle can look up the truth)
WindowModel = Callable[[int, int], ModelFn]
Decoder = Callable[[torch.Tensor], torch.Tensor]  # latents [N,T,C,h,w] -> pixels [N,T,3,H,W]


@torch.no_grad()
def rollout(
    make_fn: WindowModel,
    x: torch.Tensor,
    n_ctx: int,
    window: int,
    steps: int,
    gen: torch.Generator,
    tau_ctx: float = 0.75,
    noise: torch.Tensor | None = None,
    point: bool = False,
) -> torch.Tensor:
    """Continue clips x [B,T,C,h,w] from their first n_ctx frames to T frames, one at a time.

    The model sees at most `window` frames: the new one and the window - 1 before it.
    `noise` [B,T,C·h·w], if given, starts frame t from noise[:, t] (else drawn from gen).
    `point`: each frame is the model's clean prediction from pure noise at step size 1/steps
    (one call; with steps = k_max its E[frame | context]) instead of a K-step sample.
    Returns [B,T,C,h,w] whose first n_ctx frames are x's and the rest generated.
    """
    B, T = x.shape[:2]
    if not 1 <= n_ctx < T:
        raise ValueError(f"rollout: context frames must be in [1, T - 1 = {T - 1}], got {n_ctx}")
    if window < 2:
        raise ValueError(f"rollout: window must be >= 2 (context + new frame), got {window}")
    tau_ctx = check_tau_ctx(tau_ctx, steps)
    frames = x.flatten(2).clone()
    for t in range(n_ctx, T):
        start = max(0, t - window + 1)
        L = t + 1 - start
        context = frames[:, start : t + 1].clone()
        context[:, -1] = 0  # the frame to draw: not known
        known = torch.ones(B, L, dtype=torch.bool)
        known[:, -1] = False
        start_noise = None
        if noise is not None:
            start_noise = torch.zeros_like(context)
            start_noise[:, -1] = noise[:, t]
        out = sample(
            make_fn(start, L), context.shape, steps, gen, context, known, tau_ctx, start_noise,
            mean_only=point,
        )  # fmt: skip
        frames[:, t] = out[:, -1]
    return frames.view_as(x)


def hold_last_frame(x: torch.Tensor, n_ctx: int) -> torch.Tensor:
    """The persistence baseline: every frame after the context is the last context frame."""
    held = x.clone()
    held[:, n_ctx:] = x[:, n_ctx - 1 : n_ctx]
    return held


def rollout_psnr(
    pred: torch.Tensor,
    x: torch.Tensor,
    n_ctx: int,
    latent_range: float | None = None,
    decode: Decoder | None = None,
    per_clip: bool = False,
):
    """Per-frame PSNR (mean over clips) of the rollout and of the hold-last-frame baseline, for
    the generated frames n_ctx..T-1: in latent space (peak = the truth's range, or
    `latent_range`) and, given a decoder, in pixel space (pixels in [0, 1]). With `per_clip`,
    also each clip's mean over the generated frames ({name: [B]}), for standard errors."""
    held = hold_last_frame(x, n_ctx)
    rng = float(x.max() - x.min()) if latent_range is None else latent_range
    scores = {
        "latent_psnr": psnr(pred[:, n_ctx:], x[:, n_ctx:], rng),
        "latent_psnr_hold": psnr(held[:, n_ctx:], x[:, n_ctx:], rng),
    }
    if decode is not None:
        gt_px = decode(x[:, n_ctx:])
        scores["pixel_psnr"] = psnr(decode(pred[:, n_ctx:]), gt_px)
        scores["pixel_psnr_hold"] = psnr(decode(held[:, n_ctx:]), gt_px)
    curves = {k: v.mean(0).tolist() for k, v in scores.items()}
    if per_clip:
        return curves, {k: v.mean(1) for k, v in scores.items()}
    return curves


def _mean_psnr(a: torch.Tensor, b: torch.Tensor, rng: float = 1.0) -> list[float]:
    return psnr(a, b, rng).mean(0).tolist()


@torch.no_grad()
def shortcut_check(
    make_fn: WindowModel,
    x: torch.Tensor,
    n_ctx: int,
    window: int,
    seed: int,
    tau_ctx: float,
    coarse: int = 4,
    fine: int = 64,
    decode: Decoder | None = None,
) -> dict[str, list[float]]:
    """Per generated frame (mean over clips), in decoded pixels if `decode` else latents:
    PSNR to the truth of the coarse and the fine rollout and of holding the last frame;
    PSNR between the coarse and the fine rollout from the same noise (`coarse_vs_fine`), and
    between two fine rollouts from different noise (`fine_vs_fine`, the spread of samples).
    τ_ctx must be on the coarse grid, hence on the fine one too."""
    check_tau_ctx(tau_ctx, coarse)
    gen = torch.Generator().manual_seed(seed)
    shape = (x.shape[0], x.shape[1], x[0, 0].numel())
    noise_a, noise_b = torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)

    def run(steps, noise):
        g = torch.Generator().manual_seed(seed + 1)  # the context noise stream
        return rollout(make_fn, x, n_ctx, window, steps, g, tau_ctx, noise)[:, n_ctx:]

    outs = {"coarse": run(coarse, noise_a), "fine": run(fine, noise_a)}
    outs["fine_b"] = run(fine, noise_b)
    truth, held = x[:, n_ctx:], hold_last_frame(x, n_ctx)[:, n_ctx:]
    rng = 1.0
    if decode is not None:
        truth, held = decode(truth), decode(held)
        outs = {k: decode(v) for k, v in outs.items()}
    else:
        rng = float(x.max() - x.min())
    return {
        f"psnr_{coarse}": _mean_psnr(outs["coarse"], truth, rng),
        f"psnr_{fine}": _mean_psnr(outs["fine"], truth, rng),
        "psnr_hold": _mean_psnr(held, truth, rng),
        "coarse_vs_fine": _mean_psnr(outs["coarse"], outs["fine"], rng),
        "fine_vs_fine": _mean_psnr(outs["fine"], outs["fine_b"], rng),
    }
