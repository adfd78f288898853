"""Keyframe index sets, boolean masks, and nested multi-level keyframe selections.

Conventions: a sequence has T frames 0..T-1; index sets are sorted LongTensors `[B, K]` that
always contain 0 and T-1; `levels` is a strictly increasing list of keyframe counts, and the
keyframes of level s are a subset of those of level s+1.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor


def distinct_schedules(idx: Tensor) -> int:
    """How many different keyframe sets the rows of idx [N, K] hold."""
    return len(torch.unique(idx, dim=0))


def check_levels(levels: list[int], T: int) -> None:
    """Raise ValueError unless `levels` is a strictly increasing list of counts in [2, T]."""
    if len(levels) == 0:
        raise ValueError("levels must be a non-empty list of keyframe counts")
    if any(b <= a for a, b in pairwise(levels)):
        raise ValueError(f"levels must be strictly increasing, got {levels}")
    if levels[0] < 2:
        raise ValueError(f"every level needs K >= 2 (both endpoints), got levels={levels}")
    if levels[-1] > T:
        raise ValueError(f"levels must not exceed T={T} frames, got levels={levels}")


def indices_to_mask(idx: Tensor, T: int) -> Tensor:
    """`[B, K]` frame indices -> bool `[B, T]` mask."""
    mask = torch.zeros(idx.shape[0], T, dtype=torch.bool, device=idx.device)
    return mask.scatter_(1, idx, True)


def mask_to_indices(mask: Tensor) -> Tensor:
    """bool `[B, T]` mask with the same count per row -> sorted `[B, K]` indices."""
    if mask.dim() != 2 or mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor [B, T], got {mask.dtype} {list(mask.shape)}")
    counts = mask.sum(dim=1)
    if counts.numel() and bool((counts != counts[0]).any()):
        raise ValueError(f"every mask row must select the same number of frames, got {counts}")
    K = int(counts[0]) if counts.numel() else 0
    # nonzero() lists hits in row-major order, so each row comes out sorted
    return mask.nonzero()[:, 1].reshape(mask.shape[0], K)


def interpolate(values: Tensor, idx: Tensor, T: int) -> Tensor:
    """Piecewise-linear interpolation of `values [B, K, *F]` at sorted `idx [B, K]` onto
    all T frames -> `[B, T, *F]`; exact at the keyframes."""
    B, K = idx.shape
    if values.shape[:2] != (B, K):
        raise ValueError(f"values must be [B, K, ...] = [{B}, {K}, ...], got {list(values.shape)}")
    if K < 2:
        raise ValueError(f"interpolation needs K >= 2 keyframes, got K={K}")
    # meta tensors (shape-only runs, as in the device tests) hold no values to check
    if not idx.is_meta and bool((idx[:, 0] != 0).any() | (idx[:, -1] != T - 1).any()):
        raise ValueError(f"idx must start at frame 0 and end at frame T-1={T - 1}")
    idx = idx.contiguous()
    t = torch.arange(T, device=idx.device).expand(B, T).contiguous()
    seg = (torch.searchsorted(idx, t, right=True) - 1).clamp_(0, K - 2)  # segment left end
    left, right = idx.gather(1, seg), idx.gather(1, seg + 1)
    dtype = values.dtype if values.is_floating_point() else torch.get_default_dtype()
    w = ((t - left).to(dtype) / (right - left).to(dtype)).reshape(B, T, *[1] * (values.dim() - 2))
    rows = torch.arange(B, device=idx.device).unsqueeze(1)
    # lerp returns its endpoints exactly at w == 0 and w == 1
    return torch.lerp(values[rows, seg].to(dtype), values[rows, seg + 1].to(dtype), w)


def uniform_indices(T: int, K: int) -> Tensor:
    """`[K]` evenly spaced frames round(linspace(0, T-1, K)), strictly increasing."""
    if K < 2:
        raise ValueError(f"K must be >= 2 (both endpoints), got K={K}")
    if K > T:
        raise ValueError(f"K={K} keyframes do not fit in T={T} frames")
    idx = torch.floor(torch.linspace(0, T - 1, K, dtype=torch.float64) + 0.5).long()
    ar = torch.arange(K)
    # push up to idx[i] >= idx[i-1] + 1, then down to idx[i] <= T-1-(K-1-i)
    idx = torch.cummax(idx - ar, dim=0).values + ar
    return torch.minimum(idx, ar + (T - K))


def _add_top(chosen: Tensor, scores: Tensor, n: int) -> Tensor:
    """Mask `chosen [B, T]` plus the n highest-scoring unchosen frames of each row (ties: lowest
    frame). Two stable sorts order unchosen-before-chosen, then by descending score, so even
    -inf scores never re-pick a chosen frame."""
    if n == 0:
        return chosen
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    flags = chosen.gather(1, order).to(torch.uint8)
    order = order.gather(1, torch.sort(flags, dim=1, stable=True).indices)
    return chosen.scatter(1, order[:, :n], True)


def _endpoints(B: int, T: int, device: torch.device | str | None) -> Tensor:
    mask = torch.zeros(B, T, dtype=torch.bool, device=device)
    mask[:, 0] = mask[:, T - 1] = True
    return mask


def _insert_midpoints(idx: Tensor, n: int) -> Tensor:
    """Add n frames to sorted `idx [B, K]`, each the midpoint of the currently largest gap
    (ties: leftmost gap)."""
    for _ in range(n):
        gaps = idx[:, 1:] - idx[:, :-1]
        g = gaps.argmax(dim=1, keepdim=True)  # argmax returns the first maximum
        mid = (idx.gather(1, g) + idx.gather(1, g + 1)) // 2
        idx = torch.sort(torch.cat([idx, mid], dim=1), dim=1).values
    return idx


def nested_from_scores(
    base: Tensor, T: int, levels: list[int], scores: Tensor | None
) -> list[Tensor]:
    """Grow `base [B, K_0]` into nested levels: each level adds the highest-scoring frames not
    yet chosen (`scores [B, T]`), or, with scores None, repeatedly the midpoint of the largest
    gap (which keeps uniform spacing nested)."""
    check_levels(levels, T)
    if base.dim() != 2 or base.shape[1] != levels[0]:
        raise ValueError(f"base must be [B, K_0={levels[0]}], got {list(base.shape)}")
    if scores is not None and scores.shape != (base.shape[0], T):
        raise ValueError(
            f"scores must be [B, T] = [{base.shape[0]}, {T}], got {list(scores.shape)}"
        )
    out = [torch.sort(base, dim=1).values]
    for prev_k, k in pairwise(levels):
        if scores is None:
            out.append(_insert_midpoints(out[-1], k - prev_k))
        else:
            mask = _add_top(indices_to_mask(out[-1], T), scores, k - prev_k)
            out.append(mask_to_indices(mask))
    return out


def _add_top_apart(chosen: Tensor, scores: Tensor, n: int, apart: int) -> Tensor:
    """`_add_top` one frame at a time, skipping frames within `apart` of a chosen frame while a
    row has any other unchosen frame left (non-maximum suppression)."""
    for _ in range(n):
        near = F.max_pool1d(chosen[:, None].float(), 2 * apart + 1, 1, apart)[:, 0] > 0
        free = ~near & ~chosen
        free = torch.where(free.any(1, keepdim=True), free, ~chosen)
        pick = scores.masked_fill(~free, -math.inf).argmax(1, keepdim=True)
        chosen = chosen.scatter(1, pick, True)
    return chosen


def nested_from_level_logits(logits: Tensor, levels: list[int], apart: int = 0) -> list[Tensor]:
    """Nested levels from a level-conditioned selector's `logits [B, S, T]`: level 0 is the
    endpoints plus the top K_0-2 interior frames of logits[:, 0]; level s adds the top
    K_s - K_{s-1} not-yet-chosen frames of logits[:, s]. With `apart` > 0, a frame within
    `apart` of a chosen one is taken only when no other frame is left."""
    if logits.dim() != 3 or logits.shape[1] != len(levels):
        raise ValueError(
            f"logits must be [B, S={len(levels)}, T] (one row per level), got {list(logits.shape)}"
        )
    B, _, T = logits.shape
    check_levels(levels, T)
    mask, prev_k, out = _endpoints(B, T, logits.device), 2, []
    for s, k in enumerate(levels):
        if apart:
            mask = _add_top_apart(mask, logits[:, s], k - prev_k, apart)
        else:
            mask = _add_top(mask, logits[:, s], k - prev_k)
        out.append(mask_to_indices(mask))
        prev_k = k
    return out


def random_nested(B: int, T: int, levels: list[int], generator: torch.Generator) -> list[Tensor]:
    """Random nested levels: endpoints plus random interior frames, then random new frames."""
    check_levels(levels, T)
    mask, prev_k, out = _endpoints(B, T, generator.device), 2, []
    for k in levels:
        scores = torch.rand(B, T, generator=generator, device=generator.device)
        mask = _add_top(mask, scores, k - prev_k)
        out.append(mask_to_indices(mask))
        prev_k = k
    return out


def uniform_nested(B: int, T: int, levels: list[int]) -> list[Tensor]:
    """Uniform level 0, then midpoint-of-largest-gap insertion for the finer levels."""
    check_levels(levels, T)
    base = uniform_indices(T, levels[0]).expand(B, -1).contiguous()
    return nested_from_scores(base, T, levels, None)
