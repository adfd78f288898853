"""Exact keyframe selection by dynamic programming over segment costs.

costs[b, i, j] (i < j) is the cost of a segment whose consecutive keyframes are i and j; a
selection of K keyframes (always including 0 and T-1) costs the sum over its segments. The
batched solver runs K-1 min-plus steps of shape [B, T, T]; ties go to the smallest predecessor
frame, exactly as in the pure-Python reference.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from interdiff_core.selection.masks import check_levels, indices_to_mask, uniform_indices


def _check_costs(costs: Tensor) -> None:
    if costs.dim() != 3 or costs.shape[1] != costs.shape[2]:
        raise ValueError(f"costs must be a square 3-D tensor [B, T, T], got {list(costs.shape)}")
    if costs.shape[1] < 2:
        raise ValueError(f"costs need T >= 2 frames, got T={costs.shape[1]}")


def _check_allowed(allowed: Tensor, B: int, T: int, K: int) -> None:
    if allowed.shape != (B, T) or allowed.dtype != torch.bool:
        raise ValueError(
            f"allowed must be a bool tensor [B, T] = [{B}, {T}], "
            f"got {allowed.dtype} {list(allowed.shape)}"
        )
    if not bool((allowed[:, 0] & allowed[:, T - 1]).all()):
        raise ValueError(f"allowed must include the endpoints 0 and T-1={T - 1} in every row")
    counts = allowed.sum(dim=1)
    if bool((counts < K).any()):
        raise ValueError(
            f"K={K} keyframes requested but some rows allow only {int(counts.min())} frames"
        )


def _solve(w: Tensor, K: int, allowed: Tensor | None) -> tuple[Tensor, Tensor]:
    """Min-plus DP on `w [B, T, T]` (+inf below the diagonal) -> (idx [B, K], cost [B])."""
    B, T, _ = w.shape
    w_t = w.transpose(1, 2).contiguous()  # [B, j, i]: the min runs over contiguous memory
    f = torch.full((B, T), math.inf, dtype=w.dtype, device=w.device)
    f[:, 0] = 0.0  # f[b, j]: best cost of a path 0 -> j with k+1 keyframes, after step k
    backptr = []
    for k in range(1, K):
        # the k-th keyframe needs k frames before it and K-1-k after it: only this window of
        # predecessors i and targets j can lie on a full path (the last step only targets T-1)
        i0, j0, j1 = k - 1, (k if k < K - 1 else T - 1), T - K + k + 1
        cand = f[:, None, i0 : j1 - 1] + w_t[:, j0:j1, i0 : j1 - 1]  # [B, j, i]
        best, bp = cand.min(dim=2)  # the first minimum: the smallest i wins ties
        f = torch.full_like(f, math.inf)
        f[:, j0:j1] = best
        if allowed is not None:
            f.masked_fill_(~allowed, math.inf)
        backptr.append((bp + i0, j0))
    idx = torch.empty(B, K, dtype=torch.long, device=w.device)
    idx[:, K - 1] = T - 1
    for k in range(K - 1, 0, -1):
        bp, j0 = backptr[k - 1]
        idx[:, k - 1] = bp.gather(1, idx[:, k : k + 1] - j0).squeeze(1)
    return idx, f[:, T - 1]


def dp_select(costs: Tensor, K: int, allowed: Tensor | None = None) -> Tensor:
    """Sorted `[B, K]` keyframes with idx[:, 0] = 0 and idx[:, -1] = T-1 minimising the summed
    segment costs; `allowed [B, T]` (bool) restricts which frames may be chosen.

    Only the strict upper triangle of `costs` is read and may hold +inf. Rows where every
    selection crosses an infinite segment get the selection with the fewest infinite segments.
    """
    _check_costs(costs)
    B, T, _ = costs.shape
    if K < 2:
        raise ValueError(f"K must be >= 2 (both endpoints), got K={K}")
    if K > T:
        raise ValueError(f"K={K} keyframes do not fit in T={T} frames")
    if not costs.is_floating_point():
        costs = costs.to(torch.get_default_dtype())
    if allowed is not None:
        _check_allowed(allowed, B, T, K)
        allowed = allowed.to(costs.device)

    upper = torch.ones(T, T, dtype=torch.bool, device=costs.device).triu(1)
    w = torch.where(upper, costs, math.inf)
    if not bool(w.amin() > -math.inf):  # amin propagates NaN, and NaN > -inf is False
        raise ValueError("costs must not contain NaN or -inf in the strict upper triangle")

    idx, total = _solve(w, K, allowed)
    bad = ~torch.isfinite(total)
    if bool(bad.any()):
        # the backtrack through all-inf columns is meaningless; re-solve those rows counting
        # infinite segments instead, which always has a finite, valid optimum
        n_inf = torch.where(upper, torch.isinf(w[bad]).to(w.dtype), math.inf)
        idx[bad] = _solve(n_inf, K, None if allowed is None else allowed[bad])[0]
    return idx


def superset_costs(costs: Tensor, fixed: Tensor) -> Tensor:
    """`costs` with +inf on every segment (i, j) that jumps over a frame of `fixed [B, M]`
    (a fixed frame strictly between i and j). A K-keyframe path over these costs must stop at
    every fixed frame, so `dp_select` on them is the exact best superset of `fixed`: the gaps
    between consecutive fixed frames are independent and the DP distributes the extra
    keyframes across them optimally."""
    B, T, _ = costs.shape
    fixed_count = indices_to_mask(fixed.to(costs.device), T).long().cumsum(dim=1)  # [B, T]
    before_j = torch.cat([fixed_count.new_zeros(B, 1), fixed_count[:, :-1]], dim=1)
    inside = before_j[:, None, :] - fixed_count[:, :, None]  # [B, i, j]: fixed in (i, j)
    return costs.masked_fill(inside > 0, math.inf)


def with_uniform_prior(costs: Tensor, K: int, weight: float) -> Tensor:
    """`costs` plus a prior towards evenly spaced keyframes: segment (i, j) costs
    weight · U / (K − 1) · ((j − i) / L − 1)² more, with L = (T − 1) / (K − 1) the even segment
    length and U the sample's cost of uniform spacing (`uniform_indices`). The prior is zero on
    segments of length L and scales with each sample's costs, so `weight` is unitless: a
    schedule whose segments are all off by L costs weight · U more. weight = 0 leaves the DP
    unchanged; as it grows the DP's answer tends to uniform spacing."""
    if weight < 0:
        raise ValueError(f"dp.uniform_prior must be >= 0, got {weight}")
    if weight == 0:
        return costs
    B, T, _ = costs.shape
    even = uniform_indices(T, K).to(costs.device).expand(B, -1)
    uniform_cost = path_cost(costs, even)  # [B]
    bad = int((~torch.isfinite(uniform_cost)).sum())
    if bad:
        raise ValueError(
            f"dp.uniform_prior: uniform spacing's cost is not finite in {bad} sample(s) at "
            f"K = {K}, and the prior is measured in it"
        )
    scale = weight * uniform_cost / (K - 1)
    frames = torch.arange(T, device=costs.device, dtype=costs.dtype)
    length = frames[None, :] - frames[:, None]  # [i, j] -> j − i
    off = (length * (K - 1) / (T - 1) - 1) ** 2
    return costs + scale[:, None, None] * off[None]


def dp_select_levels(costs: Tensor, levels: list[int], uniform_prior: float = 0.0) -> list[Tensor]:
    """Nested DP, bottom-up: level 0 is the unconstrained optimum with K_0 keyframes; each finer
    level is the best K_s-keyframe superset of the level below (`superset_costs`). Returns
    `[B, K_s]` per level, ordered like `levels`. `uniform_prior` > 0 adds `with_uniform_prior`
    at each level's K_s."""
    _check_costs(costs)
    T = costs.shape[1]
    check_levels(levels, T)
    out: list[Tensor] = []
    for K in levels:
        level_costs = with_uniform_prior(costs, K, uniform_prior)
        out.append(dp_select(level_costs if not out else superset_costs(level_costs, out[-1]), K))
    return out


def dp_decode_levels(node_cost: Tensor, gap_cost: Tensor, levels: list[int]) -> list[Tensor]:
    """Nested keyframe sets from per-frame evidence and a prior on segment lengths: level s
    minimises Σ node_cost[:, s, j] over its frames plus Σ gap_cost[s, j − i] over its segments
    (i, j), each level the best superset of the one below (`superset_costs`).
    node_cost [B, S, T] (e.g. −logit: the Bernoulli log-likelihood of a set, up to a constant),
    gap_cost [S, T] indexed by segment length (e.g. −log of its frequency in the labels)."""
    B, S, T = node_cost.shape
    if gap_cost.shape != (S, T):
        raise ValueError(f"gap_cost must be [levels, T] = [{S}, {T}], got {list(gap_cost.shape)}")
    check_levels(levels, T)
    frames = torch.arange(T, device=node_cost.device)
    length = (frames[None, :] - frames[:, None]).clamp(0, T - 1)  # [i, j] -> j − i
    out: list[Tensor] = []
    for s, K in enumerate(levels):
        costs = node_cost[:, s, None, :] + gap_cost[s].to(node_cost)[length][None]
        out.append(dp_select(costs if not out else superset_costs(costs, out[-1]), K))
    return out


def nested_gaps(
    costs: Tensor, levels_idx: list[Tensor], uniform_prior: float = 0.0
) -> list[Tensor]:
    """Per level `[B]`: cost of the nested selection over the unconstrained DP optimum with the
    same number of keyframes, minus 1 (0 = the nesting costs nothing at that level), both under
    the objective `dp_select_levels` minimised (`uniform_prior` as given to it)."""
    out = []
    for idx in levels_idx:
        level_costs = with_uniform_prior(costs, idx.shape[1], uniform_prior)
        best = path_cost(level_costs, dp_select(level_costs, idx.shape[1]))
        out.append(path_cost(level_costs, idx) / best.clamp_min(1e-12) - 1)
    return out


def dp_select_python(costs: list[list[float]], K: int) -> list[int]:
    """Pure-Python reference of `dp_select` for one sample (same recurrence and tie-breaking)."""
    T = len(costs)
    if K < 2 or K > T:
        raise ValueError(f"need 2 <= K <= T, got K={K}, T={T}")
    inf = math.inf
    f = [inf] * T
    f[0] = 0.0
    backptr: list[list[int]] = []
    for k in range(1, K):
        # after k steps frame j needs k earlier keyframes and K-1-k later ones
        new_f = [inf] * T
        bp = [-1] * T
        for j in range(k, T - (K - 1 - k)):
            best, best_i = inf, -1
            for i in range(k - 1, j):
                c = f[i] + costs[i][j]
                if best_i < 0 or c < best:
                    best, best_i = c, i
            new_f[j], bp[j] = best, best_i
        f = new_f
        backptr.append(bp)
    idx = [T - 1]
    for bp in reversed(backptr):
        idx.append(bp[idx[-1]])
    return idx[::-1]


def path_cost(costs: Tensor, idx: Tensor) -> Tensor:
    """`[B]` sum of costs[b, idx[b, m], idx[b, m+1]] over consecutive keyframes."""
    rows = torch.arange(costs.shape[0], device=costs.device).unsqueeze(1)
    return costs[rows, idx[:, :-1], idx[:, 1:]].sum(dim=1)
