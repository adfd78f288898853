"""Maze trajectory metrics: numpy in, one value per sample out.

Positions are (row, col) in normalised [0, 1] coordinates: the point p lies in grid cell
floor(p * G) of a [G, G] occupancy map (1 = wall).
"""

from __future__ import annotations

import numpy as np


def collision_rate(pos: np.ndarray, occ: np.ndarray) -> np.ndarray:
    """Fraction of points per sample whose cell is a wall; points outside [0, 1) count too.

    pos [N, T, 2], occ [N, G, G] -> [N].
    """
    pos = np.asarray(pos, dtype=np.float64)
    occ = np.asarray(occ)
    n, g = occ.shape[0], occ.shape[-1]
    if occ.shape != (n, g, g) or pos.shape[0] != n or pos.shape[-1] != 2:
        raise ValueError(f"expected pos [N, T, 2] and occ [N, G, G], got {pos.shape}, {occ.shape}")
    inside = np.all((pos >= 0.0) & (pos < 1.0), axis=-1)
    # NaN compares False above, so it is outside; nan_to_num only keeps the cast defined.
    idx = np.clip(np.floor(np.nan_to_num(pos) * g).astype(np.int64), 0, g - 1)
    wall = occ[np.arange(n)[:, None], idx[..., 0], idx[..., 1]] > 0.5
    return (~inside | wall).mean(axis=1)


def goal_distance(pos: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Euclidean distance of the last point to the goal: pos [N, T, 2], goal [N, 2] -> [N]."""
    return np.linalg.norm(np.asarray(pos)[:, -1] - np.asarray(goal), axis=-1)


def path_mse(pos: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean over time and coordinates of the squared error -> [N]."""
    return ((np.asarray(pos) - np.asarray(gt)) ** 2).mean(axis=(1, 2))


def smoothness(pos: np.ndarray) -> np.ndarray:
    """Mean over time and coordinates of the squared second difference -> [N] (lower = smoother).

    Zero for any constant-velocity path; zero by definition when T < 3.
    """
    pos = np.asarray(pos)
    if pos.shape[1] < 3:
        return np.zeros(pos.shape[0], dtype=pos.dtype)
    acc = pos[:, 2:] - 2.0 * pos[:, 1:-1] + pos[:, :-2]
    return (acc**2).mean(axis=(1, 2))


def straight_line(start_goal: np.ndarray, T: int) -> np.ndarray:
    """Baseline: constant-speed line from start to goal. start_goal [N, 4] -> [N, T, 2]."""
    start_goal = np.asarray(start_goal)
    dtype = np.result_type(start_goal, np.float32)
    start, goal = start_goal[:, None, :2].astype(dtype), start_goal[:, None, 2:].astype(dtype)
    frac = np.linspace(0.0, 1.0, T, dtype=dtype)[None, :, None]  # T == 1 gives [0.0]
    return start + (goal - start) * frac


def summarize(
    pos: np.ndarray, gt: np.ndarray, occ: np.ndarray, start_goal: np.ndarray
) -> dict[str, float]:
    """Dataset means of the four per-sample metrics."""
    return {
        "collision_rate": float(collision_rate(pos, occ).mean()),
        "goal_distance": float(goal_distance(pos, np.asarray(start_goal)[:, 2:]).mean()),
        "mse": float(path_mse(pos, gt).mean()),
        "smoothness": float(smoothness(pos).mean()),
    }
