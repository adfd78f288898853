"""Maze plan metrics: numpy in, one value per plan out, then dataset means.

Plans are normalised model states [N, T, 4] (data/maze_windows.py): positions (row / G, col /
G) on a [G, G] occupancy map (1 = wall), then velocities. How a plan does when executed is
metrics/episodes.py.
"""

from __future__ import annotations

import numpy as np

from interdiff_core.metrics.episodes import smoothness_ratio, states_in_walls, wall_crossings

BALL_RADIUS = 0.1  # cells: PointMaze's ball


def path_mse(plan: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Mean over time of the squared position error against the reference plan -> [N]."""
    return ((np.asarray(plan)[..., :2] - np.asarray(ref)[..., :2]) ** 2).mean(axis=(1, 2))


def summarize(plan: np.ndarray, ref: np.ndarray, occ: np.ndarray) -> dict[str, float]:
    """Dataset means: share of plans crossing a wall between consecutive states (ball radius
    0.1 cell), share of plan states inside a wall cell, squared distance to the reference plan,
    second-difference energy relative to the reference's."""
    plan, ref, occ = np.asarray(plan), np.asarray(ref), np.asarray(occ)
    grid = occ.shape[-1]
    crossings = np.array(
        [wall_crossings(p[None, :, :2] * grid, o > 0.5, BALL_RADIUS)[0] for p, o in zip(plan, occ)]
    )
    return {
        "wall_crossing": float(crossings.mean()),
        "states_in_wall": float(states_in_walls(plan[..., :2] * grid, occ > 0.5).mean()),
        "mse": float(path_mse(plan, ref).mean()),
        "smoothness_ratio": float(smoothness_ratio(plan[..., :2], ref[..., :2]).mean()),
    }
