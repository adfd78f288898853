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


def _segment_box_distance(a: np.ndarray, b: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Exact distance between segments [a, b] and unit boxes [lo, lo + 1] (broadcast over the
    leading dims): 0 if they meet, else the least of the endpoints' distances to the box and the
    box corners' distances to the segment (two disjoint convex polygons)."""
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    d = np.minimum(_box_distance(a, lo), _box_distance(b, lo))
    dc = _point_segment_distance(lo[..., None, :] + corners, a[..., None, :], b[..., None, :])
    d = np.minimum(d, dc.min(-1))
    return np.where(_segment_hits_box(a, b, lo), 0.0, d)


_WINDOW = np.stack(np.meshgrid(np.arange(5), np.arange(5), indexing="ij"), -1).reshape(-1, 2)


def _positions_and_walls(pos_grid, walls, min_states: int) -> tuple[np.ndarray, np.ndarray]:
    """pos_grid as float [N, T, 2] (T >= min_states) and walls as bool [N, H, W] (one map
    [H, W] is shared by every plan), or a ValueError naming what is wrong."""
    pos = np.asarray(pos_grid, dtype=np.float64)
    if pos.ndim != 3 or pos.shape[-1] != 2 or pos.shape[1] < min_states:
        raise ValueError(f"pos_grid must be [N, T, 2] with T >= {min_states}, got {pos.shape}")
    w = np.asarray(walls).astype(bool)
    if w.ndim == 2:
        w = np.broadcast_to(w, (pos.shape[0], *w.shape))
    if w.ndim != 3 or w.shape[0] != pos.shape[0]:
        raise ValueError(f"walls must be [H, W] or [N, H, W], N = {pos.shape[0]}; got {w.shape}")
    return pos, w


def segment_wall_distance(pos_grid, walls, chunk: int = 8192) -> np.ndarray:
    """Exact distance from each segment between consecutive states to the nearest wall cell,
    capped at 1 cell.

    pos_grid [N, T, 2] (grid frame), walls [H, W] or [N, H, W] bool -> [N, T - 1] (0 when a
    segment touches a wall; 1 when no wall is closer than one cell). Everything outside the map
    counts as wall (a NaN state too). A box within 1 of a segment lies in the cells
    floor(min) - 1 .. floor(max) + 1 of the segment's ends, so a segment spanning at most two
    cells is checked against the 5 x 5 cells around it; longer ones against every wall.
    """
    pos, w = _positions_and_walls(pos_grid, walls, min_states=2)
    n, t = pos.shape[:2]
    h, wd = w.shape[1:]
    # One ring of wall outside the map, so leaving the grid is within reach of a wall.
    padded = np.pad(w, ((0, 0), (1, 1), (1, 1)), constant_values=True)
    inside = ((pos >= 0) & (pos <= np.array([h, wd]))).all(-1)  # False for NaN
    a = np.where(inside[..., None], pos, 0.5)[:, :-1].reshape(-1, 2)
    b = np.where(inside[..., None], pos, 0.5)[:, 1:].reshape(-1, 2)
    sample = np.repeat(np.arange(n), t - 1)
    out = np.ones(len(a))
    base = np.floor(np.minimum(a, b)).astype(np.int64) - 1
    short = (np.floor(np.maximum(a, b)).astype(np.int64) + 1 - base).max(-1) <= 4
    idx = np.flatnonzero(short)
    for s in range(0, len(idx), chunk):
        k = idx[s : s + chunk]
        cells = base[k, None, :] + _WINDOW  # [M, 25, 2]
        r = np.clip(cells[..., 0] + 1, 0, h + 1)
        c = np.clip(cells[..., 1] + 1, 0, wd + 1)
        seg, box = np.nonzero(padded[sample[k, None], r, c])  # only the wall cells
        d = _segment_box_distance(a[k[seg]], b[k[seg]], cells[seg, box].astype(np.float64))
        np.minimum.at(out, k[seg], d)
    long_k = np.flatnonzero(~short)
    for m in np.unique(sample[long_k]):
        k = long_k[sample[long_k] == m]
        lo = np.argwhere(padded[m]).astype(np.float64) - 1.0  # every wall, ring included
        d = _segment_box_distance(a[k, None], b[k, None], lo[None]).min(-1)
        out[k] = np.minimum(d, 1.0)
    out = out.reshape(n, t - 1)
    return np.where(inside[:, :-1] & inside[:, 1:], out, 0.0)


def wall_crossings(pos_grid, walls, radius: float = 0.1) -> np.ndarray:
    """True where any segment between consecutive states passes within `radius` of a wall
    cell (or leaves the map). pos_grid [N, T, 2], walls [H, W] or [N, H, W] -> bool [N]."""
    return (segment_wall_distance(pos_grid, walls) < radius).any(axis=1)


def states_in_walls(pos_grid, walls) -> np.ndarray:
    """Share of each plan's states whose centre lies inside a wall cell (or off the map, or
    NaN): how deep a plan goes into walls, where `wall_crossings` only says that it touches one.
    pos_grid [N, T, 2] (grid frame, cell (r, c) spans [r, r + 1) x [c, c + 1)), walls [H, W] or
    [N, H, W] -> [N] in [0, 1]."""
    pos, w = _positions_and_walls(pos_grid, walls, min_states=1)
    inside = ((pos >= 0) & (pos < np.array(w.shape[1:]))).all(-1)  # False for NaN
    cell = np.floor(np.where(inside[..., None], pos, 0)).astype(np.int64)
    hit = w[np.arange(pos.shape[0])[:, None], cell[..., 0], cell[..., 1]] | ~inside
    return hit.mean(axis=1)


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
