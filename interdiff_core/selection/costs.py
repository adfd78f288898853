"""Segment costs cost(i, j): how badly keyframes i and j plus interpolation stand in for the
frames strictly between them. Costs are sums over interior frames, so a keyframe set's cost is
the sum of its segments' costs and the DP is exact (averaging broke that in the seed).

Two kinds:
- oracle: squared interpolation error against the ground truth.
- teacher: at t_steps signal levels τ, the teacher denoises the true sequence and the
  keyframes+interpolation sequence (same noise); the squared difference of its predictions on
  the interior frames is weighted per level by SNR(τ)^γ clipped to [s_min, s_max]. The
  discrepancy itself changes with τ and with the segment, so the weighting changes the DP.
"""

from __future__ import annotations

import torch

from interdiff_core.diffusion.flow import add_noise


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


def oracle_costs(x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """[B, S]: Σ over interior frames of the squared interpolation error."""
    err = ((bridge(x, seg) - x[:, None]) ** 2).sum(-1)
    return (err * interior_mask(seg, x.shape[1])).sum(-1)


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


def teacher_costs(
    denoise,
    x: torch.Tensor,
    seg: torch.Tensor,
    eps: torch.Tensor,
    x_hat_true: torch.Tensor,
    tau: torch.Tensor,
    weights: torch.Tensor,
) -> torch.Tensor:
    """[B, S] teacher costs.

    `denoise(z [N,T,D], tau [N]) -> x̂` is the teacher at a shared level; eps [B,L,T,D] and
    x_hat_true [B,L,T,D] are the cached noise and the teacher's predictions on the true
    sequence at the L levels `tau`, with per-level `weights` [L].
    """
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
    per_level = (diff * interior_mask(seg, T)[:, :, None]).sum(-1)  # [B,S,L]
    return (per_level * weights).sum(-1) / weights.sum()
