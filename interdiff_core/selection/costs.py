"""Segment costs cost(i, j): how badly keyframes i and j plus interpolation stand in for the
frames strictly between them. Costs are sums over interior frames, so a keyframe set's cost is
the sum of its segments' costs and the DP is exact (averaging broke that in the seed).

The kinds:
- oracle: squared interpolation error against the ground truth.
- generated: the same error when the line runs between the teacher's samples at the keyframes
  instead of the true frames: what interpolating generated keyframes costs, so frames that are
  hard to generate from the conditioning cost more as keyframes.
- teacher: how much the teacher's prediction moves when a segment's interior is replaced by
  the line between its keyframes. At t_steps shared signal levels τ the teacher denoises the
  true sequence and the bridged one (same noise); the squared difference of its predictions on
  the interior frames is one cost per level, combined with the SNR weights below. Measured on
  maze data, the levels rank segments almost alike, so the weighting acts nearly as a constant
  factor (DP(SNR) = DP(uniform weights) in most samples), but its DP picks keyframes with low
  true interpolation error.
- teacher_infill: how well the teacher fills a segment in from its two keyframes. Per frame signal
  levels (diffusion forcing): the keyframes i, j at the teacher's cleanest trained level, the
  interior frames at one of t_steps levels τ_l, every other frame pure noise (τ = 0, unknown);
  the squared error of the teacher's prediction against the truth, summed over the interior
  frames, is one cost per level, and the levels are combined with SNR(τ)^γ weights clipped to
  [s_min, s_max]. How the error grows as the interior gets noisier differs from segment to
  segment (short or straight segments stay cheap at every level, long ones only when clean),
  so the weighting changes which segments are cheap and what the DP picks
  (`weighting_disagreement` measures how often). It measures what a generative infiller finds
  hard, not interpolation error: on maze data its DP keyframes interpolate far worse than
  uniform ones.
"""

from __future__ import annotations

import torch

from interdiff_core.diffusion.flow import add_noise
from interdiff_core.selection.dp import dp_select_levels


def sample_segments(B: int, T: int, S: int, gen: torch.Generator) -> torch.Tensor:
    """[B, S, 2] segments i < j with j − i ≥ 2, i uniform in [0, T−3], j uniform in [i+2, T−1]
    (both ends reachable: randint's high is exclusive)."""
    i = torch.randint(0, T - 2, (B, S), generator=gen)
    u = torch.rand(B, S, generator=gen)
    j = i + 2 + torch.floor(u * (T - i - 2)).long()
    return torch.stack([i, j], dim=-1)


def interior_mask(seg: torch.Tensor, T: int) -> torch.Tensor:
    """[B, S, T] True on frames strictly inside each segment."""
    t = torch.arange(T)
    return (t > seg[..., :1]) & (t < seg[..., 1:])


def bridge(x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """x [B,T,D] -> [B,S,T,D]: each segment's interior replaced by the line from x_i to x_j."""
    B, T, D = x.shape
    t = torch.arange(T, dtype=x.dtype)
    i, j = seg[..., 0], seg[..., 1]
    alpha = ((t - i[..., None]) / (j - i)[..., None].to(x.dtype)).clamp(0, 1)  # [B,S,T]
    xi = torch.gather(x, 1, i[..., None].expand(-1, -1, D))  # [B,S,D]
    xj = torch.gather(x, 1, j[..., None].expand(-1, -1, D))
    line = xi[:, :, None] + alpha[..., None] * (xj - xi)[:, :, None]
    inside = interior_mask(seg, T)[..., None]
    return torch.where(inside, line, x[:, None])


def oracle_costs(
    x: torch.Tensor, seg: torch.Tensor, max_elements: int = 2**25, keys: torch.Tensor | None = None
) -> torch.Tensor:
    """[B, S]: Σ over interior frames of the squared interpolation error. The bridges are
    [B, S, T, D]; they are built a few samples at a time, at most `max_elements` each (every
    segment of a T = 128 window is 8128 bridges: 1000 windows at once would take 17 GB).
    `keys` [B, T, D]: the line runs between these keyframe values (generated keyframes) instead
    of x's own; their errors reach the cost through the frames interpolated from them."""
    B, S = seg.shape[:2]
    chunk = max(1, max_elements // max(1, S * x[0].numel()))
    out = []
    for b in range(0, B, chunk):
        xb, sb = x[b : b + chunk], seg[b : b + chunk]
        line = bridge(xb if keys is None else keys[b : b + chunk], sb)
        err = ((line - xb[:, None]) ** 2).sum(-1)
        out.append((err * interior_mask(sb, x.shape[1])).sum(-1))
    return torch.cat(out) if out else x.new_zeros(0, S)


def oracle_cost_matrix(x: torch.Tensor) -> torch.Tensor:
    """[B, T, T] oracle costs for every i < j (0 elsewhere); exact, for tests and diagnostics."""
    B, T, _ = x.shape
    ii, jj = torch.triu_indices(T, T, 1)
    seg = torch.stack([ii, jj], -1)[None].expand(B, -1, -1)
    out = torch.zeros(B, T, T)
    out[:, ii, jj] = oracle_costs(x, seg)
    return out


def noise_levels(t_steps: int) -> torch.Tensor:
    """Midpoints of t_steps equal bins of τ ∈ (0, 1)."""
    return (torch.arange(t_steps) + 0.5) / t_steps


def snr_weights(tau: torch.Tensor, s_min: float, s_max: float, gamma: float) -> torch.Tensor:
    snr = (tau / (1 - tau)) ** 2
    return snr.pow(gamma).clamp(s_min, s_max)


def teacher_bridge_level_costs(
    denoise,
    x: torch.Tensor,
    seg: torch.Tensor,
    eps: torch.Tensor,
    x_hat_true: torch.Tensor,
    tau: torch.Tensor,
) -> torch.Tensor:
    """[B, S, L] `teacher` costs per level. `denoise(z [N,T,D], tau [N]) -> x̂` is the teacher
    at a shared level; eps [B,L,T,D] and x_hat_true [B,L,T,D] are the cached noise and the
    teacher's predictions on the true sequence at the L levels `tau`."""
    B, S, T, D = *seg.shape[:2], *x.shape[1:]
    L = tau.shape[0]
    student = bridge(x, seg)  # [B,S,T,D]
    z = add_noise(
        student[:, :, None].expand(B, S, L, T, D),
        tau[None, None, :, None].expand(B, S, L, T),
        eps[:, None].expand(B, S, L, T, D),
    )
    x_hat = denoise(z.reshape(-1, T, D), tau[None, None].expand(B, S, L).reshape(-1))
    diff = ((x_hat.view(B, S, L, T, D) - x_hat_true[:, None]) ** 2).sum(-1)  # [B,S,L,T]
    return (diff * interior_mask(seg, T)[:, :, None]).sum(-1)


def segment_signal_levels(seg: torch.Tensor, T: int, tau: torch.Tensor, tau_key: float):
    """[B, S, L, T] per-frame signal levels: keyframes i, j at tau_key, the interior at tau[l],
    every other frame 0 (pure noise)."""
    B, S, L = *seg.shape[:2], tau.shape[0]
    t = torch.arange(T)
    key = (t == seg[..., :1]) | (t == seg[..., 1:])  # [B,S,T]
    inside = interior_mask(seg, T)
    out = torch.zeros(B, S, L, T)
    out = torch.where(inside[:, :, None], tau[None, None, :, None].expand(B, S, L, T), out)
    return torch.where(key[:, :, None], torch.full_like(out, tau_key), out)


def teacher_level_costs(
    denoise,
    x: torch.Tensor,
    seg: torch.Tensor,
    eps: torch.Tensor,
    tau: torch.Tensor,
    tau_key: float,
) -> torch.Tensor:
    """[B, S, L]: per noise level, Σ over the segment's interior frames of the teacher's squared
    error when only the keyframes i, j are (nearly) clean (`segment_signal_levels`).

    `denoise(z [N,T,D], tau [N,T]) -> x̂` is the teacher with per-frame levels; eps [B,L,T,D] is
    the fixed noise per sample and level."""
    B, S, T, D = *seg.shape[:2], *x.shape[1:]
    L = tau.shape[0]
    levels = segment_signal_levels(seg, T, tau, tau_key)  # [B,S,L,T]
    z = add_noise(x[:, None, None], levels, eps[:, None])  # [B,S,L,T,D]
    x_hat = denoise(z.reshape(-1, T, D), levels.reshape(-1, T)).view(B, S, L, T, D)
    err = ((x_hat - x[:, None, None]) ** 2).sum(-1)  # [B,S,L,T]
    return (err * interior_mask(seg, T)[:, :, None]).sum(-1)


def combine_levels(level_costs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """[..., L] per-level costs -> [...] their weighted mean (weights [L])."""
    return (level_costs * weights).sum(-1) / weights.sum()


def all_segments(B: int, T: int) -> torch.Tensor:
    """[B, P, 2] every segment (i, j) with j − i ≥ 2."""
    ii, jj = torch.triu_indices(T, T, 2)
    return torch.stack([ii, jj], -1)[None].expand(B, -1, -1)


def level_cost_matrix(level_costs: torch.Tensor, T: int) -> torch.Tensor:
    """[B, P, L] costs of `all_segments` -> [B, T, T, L] (0 for adjacent frames, +inf below)."""
    B, _, L = level_costs.shape
    ii, jj = torch.triu_indices(T, T, 2)
    out = torch.full((B, T, T, L), float("inf"))
    out[:, ii, jj] = level_costs
    k = torch.arange(T - 1)
    out[:, k, k + 1] = 0.0
    return out


def weighting_disagreement(
    level_matrix: torch.Tensor, w_a: torch.Tensor, w_b: torch.Tensor, levels: list[int]
) -> list[float]:
    """Per keyframe level: the share of samples whose nested DP keyframes differ between the
    level weights w_a and w_b (e.g. SNR vs uniform), given per-level cost matrices
    [B, T, T, L]."""
    sel_a = dp_select_levels(combine_levels(level_matrix, w_a), levels)
    sel_b = dp_select_levels(combine_levels(level_matrix, w_b), levels)
    return [float((a != b).any(1).float().mean()) for a, b in zip(sel_a, sel_b, strict=True)]
