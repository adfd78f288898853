"""Phase-2 corruption: keep the keyframes, replace every other frame by interpolation between
them (`interp`: LERP by default, or the flow interpolator, `phase2.interpolator`), then add
Gaussian noise on the missing frames only (soft/cold diffusion).

Level s of the nested masks is a noise level: fewer keyframes, more corruption. Phase-2 learns
to undo it; at sampling time the levels run from coarse to fine.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from interdiff_core.selection.masks import indices_to_mask, interpolate


def gather_frames(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x [B,T,*F], idx [B,K] -> [B,K,*F]."""
    shape = idx.shape + (1,) * (x.dim() - 2)
    return torch.gather(x, 1, idx.view(shape).expand(*idx.shape, *x.shape[2:]))


def place_frames(x: torch.Tensor, idx: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """A copy of x [B,T,*F] with frames idx [B,K] set to values [B,K,*F] (out of place, so the
    result is never a discarded copy, unlike `x[mask].scatter_` in the seed)."""
    shape = idx.shape + (1,) * (x.dim() - 2)
    return x.scatter(1, idx.view(shape).expand_as(values), values)


def corrupt(
    values: torch.Tensor,
    idx: torch.Tensor,
    T: int,
    sigma: float,
    gen: torch.Generator,
    interp: Callable = interpolate,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keyframe values [B,K,*F] at idx [B,K] -> (corrupted sequence [B,T,*F], known [B,T]);
    `interp(values, idx, T)` fills the missing frames."""
    known = indices_to_mask(idx, T)
    z = interp(values, idx, T)
    if sigma > 0:
        noise = torch.randn(z.shape, generator=gen).to(z.device)
        miss = (~known).view(*known.shape, *(1,) * (z.dim() - 2))
        z = z + sigma * noise * miss
    return z, known


def with_anchors(
    x: torch.Tensor,
    anchors: torch.Tensor,
    anchor_idx: torch.Tensor,
    p: float,
    gen: torch.Generator,
) -> torch.Tensor:
    """x with its anchor frames replaced by cached phase-1 samples, per sample with prob. p."""
    use = (torch.rand(x.shape[0], generator=gen) < p).to(x.device)
    replaced = place_frames(x, anchor_idx, anchors)
    return torch.where(use.view(-1, *(1,) * (x.dim() - 1)), replaced, x)
