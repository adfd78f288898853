"""Executed-episode and plan metrics: numpy in, one value per episode / plan out.

Episode arrays come from `envs.episodes.run_episode` stacked over episodes: dist [N, n] is the
distance to the goal after each env step. Plans are in our grid frame (continuous (row, col),
cell (i, j) covers [i, i+1) x [j, j+1)).
"""

from __future__ import annotations

import numpy as np


def _dist(dist) -> np.ndarray:
    dist = np.asarray(dist, dtype=np.float64)
    if dist.ndim != 2:
        raise ValueError(f"dist must be [N, n_steps], got shape {dist.shape}")
    return dist


def returns(dist, radius: float) -> np.ndarray:
    """Sparse reward summed: the number of steps with dist <= radius. [N, n] -> [N]."""
    return (_dist(dist) <= radius).sum(axis=1).astype(np.float64)


def normalised_score(ret, ref_min: float, ref_max: float) -> np.ndarray:
    """D4RL's normalised score x 100: 100 (ret - ref_min) / (ref_max - ref_min)."""
    if not ref_max > ref_min:
        raise ValueError(f"need ref_max > ref_min, got {ref_min}, {ref_max}")
    return 100.0 * (np.asarray(ret, dtype=np.float64) - ref_min) / (ref_max - ref_min)


def success(dist, radius: float) -> np.ndarray:
    """1.0 where the ball was ever within radius of the goal. [N, n] -> [N]."""
    return (_dist(dist) <= radius).any(axis=1).astype(np.float64)


def steps_to_goal(dist, radius: float) -> np.ndarray:
    """Env steps until first within radius (1 = after the first step); NaN if never. [N]."""
    hit = _dist(dist) <= radius
    first = hit.argmax(axis=1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=1), first, np.nan)


def tracking_error(xy, plan_xy_at_steps) -> np.ndarray:
    """Mean Euclidean distance between the executed states and the plan at the same env steps.

    xy, plan_xy_at_steps [N, T, 2] (NaN rows of the plan are ignored) -> [N].
    """
    xy, plan = np.asarray(xy, dtype=np.float64), np.asarray(plan_xy_at_steps, dtype=np.float64)
    if xy.shape != plan.shape or xy.ndim != 3 or xy.shape[-1] != 2:
        raise ValueError(f"expected two [N, T, 2] arrays, got {xy.shape} and {plan.shape}")
    return np.nanmean(np.linalg.norm(xy - plan, axis=-1), axis=1)


def _box_distance(p: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Distance from points p [..., 2] to unit boxes [lo, lo + 1] (broadcast)."""
    d = np.maximum(np.maximum(lo - p, p - (lo + 1.0)), 0.0)
    return np.linalg.norm(d, axis=-1)


def _point_segment_distance(q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    den = (ab**2).sum(-1)
    t = np.where(den > 0, ((q - a) * ab).sum(-1) / np.where(den > 0, den, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.linalg.norm(a + t[..., None] * ab - q, axis=-1)


def _segment_hits_box(a: np.ndarray, b: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Does the closed segment [a, b] meet the closed box [lo, lo + 1]? (slab clipping)"""
    d = b - a
    t0 = np.zeros(np.broadcast_shapes(a.shape[:-1], lo.shape[:-1]))
    t1 = np.ones_like(t0)
    ok = np.ones(t0.shape, dtype=bool)
    for ax in range(2):
        da, aa, la = d[..., ax], a[..., ax], lo[..., ax]
        par = da == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (la - aa) / da
            w = (la + 1.0 - aa) / da
        lo_t = np.where(par, -np.inf, np.minimum(u, w))
        hi_t = np.where(par, np.inf, np.maximum(u, w))
        ok &= ~(par & ((aa < la) | (aa > la + 1.0)))
        t0, t1 = np.maximum(t0, lo_t), np.minimum(t1, hi_t)
    return ok & (t0 <= t1)


def segment_wall_distance(pos_grid, walls) -> np.ndarray:
    """Exact distance from each segment between consecutive states to the nearest wall.

    pos_grid [N, T, 2] (grid frame), walls [H, W] or [N, H, W] bool -> [N, T - 1] (0 when a
    segment touches a wall). Everything outside the map counts as wall. The distance between a
    segment and a box is 0 if they meet, else the least of its endpoints' distances to the box
    and the box corners' distances to the segment (two disjoint convex polygons).
    """
    pos = np.asarray(pos_grid, dtype=np.float64)
    if pos.ndim != 3 or pos.shape[-1] != 2 or pos.shape[1] < 2:
        raise ValueError(f"pos_grid must be [N, T, 2] with T >= 2, got {pos.shape}")
    w = np.asarray(walls).astype(bool)
    if w.ndim == 2:
        w = np.broadcast_to(w, (pos.shape[0], *w.shape))
    if w.ndim != 3 or w.shape[0] != pos.shape[0]:
        raise ValueError(f"walls must be [H, W] or [N, H, W], N = {pos.shape[0]}; got {w.shape}")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    out = np.empty(pos.shape[:2], dtype=np.float64)[:, 1:]
    for n in range(pos.shape[0]):
        # One ring of wall outside the map, so leaving the grid is within reach of a wall.
        padded = np.pad(w[n], 1, constant_values=True)
        lo = np.argwhere(padded).astype(np.float64) - 1.0  # [K, 2] box corners, grid frame
        a, b = pos[n, :-1, None, :], pos[n, 1:, None, :]  # [T-1, 1, 2]
        d = np.minimum(_box_distance(a, lo[None]), _box_distance(b, lo[None]))  # [T-1, K]
        box_c = lo[None, :, None, :] + corners[None, None]  # [1, K, 4, 2]
        dc = _point_segment_distance(box_c, a[..., None, :], b[..., None, :]).min(-1)
        d = np.minimum(d, dc)
        d = np.where(_segment_hits_box(a, b, lo[None]), 0.0, d)
        dmin = d.min(axis=1)
        h, wd = w[n].shape
        outside = ~((pos[n] >= 0) & (pos[n] <= np.array([h, wd]))).all(-1)  # also NaN
        dmin = np.where(outside[:-1] | outside[1:], 0.0, dmin)
        out[n] = dmin
    return out


def wall_crossings(pos_grid, walls, radius: float = 0.1) -> np.ndarray:
    """True where any segment between consecutive states passes within `radius` of a wall
    cell (or leaves the map). pos_grid [N, T, 2], walls [H, W] or [N, H, W] -> bool [N]."""
    return (segment_wall_distance(pos_grid, walls) < radius).any(axis=1)


def smoothness_ratio(plan, gt) -> np.ndarray:
    """Mean squared second difference of the plan / that of the ground truth, per sample.

    plan, gt [N, T, D] with T >= 3 -> [N]; 1 = as smooth as the data, < 1 smoother.
    """
    plan, gt = np.asarray(plan, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if plan.shape != gt.shape or plan.ndim != 3 or plan.shape[1] < 3:
        raise ValueError(f"expected two [N, T, D] arrays with T >= 3, got {plan.shape}, {gt.shape}")

    def msd(x):
        return ((x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]) ** 2).mean(axis=(1, 2))

    den = msd(gt)
    if (den <= 0).any():
        raise ValueError("a ground-truth trajectory has zero second difference (constant velocity)")
    return msd(plan) / den
