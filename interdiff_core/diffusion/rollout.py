"""Autoregressive rollout of the world-model teacher, scored against the hold-last-frame baseline.

Each new frame is drawn from noise in K steps by the one sampler, with the frames before it in
the window as context really noised to τ_ctx (fresh noise every step, as diffusion forcing saw
them in training; the world-model seed labelled its context noisy but fed it clean). The
generated frame then joins the context of the next one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

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
    tau_ctx: float = 0.9,
) -> torch.Tensor:
    """Continue clips x [B,T,C,h,w] from their first n_ctx frames to T frames, one at a time.

    The model sees at most `window` frames: the new one and the window - 1 before it.
    Returns [B,T,C,h,w] whose first n_ctx frames are x's and the rest generated.
    """
    B, T = x.shape[:2]
    if not 1 <= n_ctx < T:
        raise ValueError(f"rollout: context frames must be in [1, T - 1 = {T - 1}], got {n_ctx}")
    if window < 2:
        raise ValueError(f"rollout: window must be >= 2 (context + new frame), got {window}")
    frames = x.flatten(2).clone()
    for t in range(n_ctx, T):
        start = max(0, t - window + 1)
        L = t + 1 - start
        context = frames[:, start : t + 1].clone()
        context[:, -1] = 0  # the frame to draw: not known
        known = torch.ones(B, L, dtype=torch.bool)
        known[:, -1] = False
        out = sample(make_fn(start, L), context.shape, steps, gen, context, known, tau_ctx)
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
) -> dict[str, list[float]]:
    """Per-frame PSNR (mean over clips) of the rollout and of the hold-last-frame baseline, for
    the generated frames n_ctx..T-1: in latent space (peak = the truth's range, or
    `latent_range`) and, given a decoder, in pixel space (pixels in [0, 1])."""
    held = hold_last_frame(x, n_ctx)
    rng = float(x.max() - x.min()) if latent_range is None else latent_range
    out = {
        "latent_psnr": psnr(pred[:, n_ctx:], x[:, n_ctx:], rng).mean(0).tolist(),
        "latent_psnr_hold": psnr(held[:, n_ctx:], x[:, n_ctx:], rng).mean(0).tolist(),
    }
    if decode is not None:
        gt_px = decode(x[:, n_ctx:])
        out["pixel_psnr"] = psnr(decode(pred[:, n_ctx:]), gt_px).mean(0).tolist()
        out["pixel_psnr_hold"] = psnr(decode(held[:, n_ctx:]), gt_px).mean(0).tolist()
    return out
