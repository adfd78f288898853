"""PointMaze trajectories as the models see them.

A plan is T states at env steps 0, stride, 2·stride, …, so it covers (T − 1)·stride env steps.
The simulator's state is (x, y, vx, vy) in gymnasium-robotics' centred, y-up frame; the models
see it normalised on the padded occupancy grid of side G:

    (row / G, col / G, v_row / VEL_SCALE, v_col / VEL_SCALE)

with (row, col) continuous cell coordinates (cell (i, j) covers [i, i+1) x [j, j+1)), so a
position p lies in occupancy cell floor(p · G). This module is the one place that converts.
"""

from __future__ import annotations

import numpy as np

from interdiff_core.envs.pointmaze import grid_to_xy, vel_grid_to_xy, vel_xy_to_grid, xy_to_grid

VEL_SCALE = 5.0  # PointMaze clips each velocity component to ±5 cells/s


def to_model(state: np.ndarray, maze: str, grid: int) -> np.ndarray:
    """World states [..., 4] (x, y, vx, vy) -> normalised model states [..., 4]."""
    state = np.asarray(state, dtype=np.float64)
    rc = xy_to_grid(maze, state[..., :2]) / grid
    v = vel_xy_to_grid(state[..., 2:]) / VEL_SCALE
    return np.concatenate([rc, v], axis=-1).astype(np.float32)


def to_world(state: np.ndarray, maze: str, grid: int) -> np.ndarray:
    """Normalised model states [..., 4] -> world states (x, y, vx, vy) [..., 4]."""
    state = np.asarray(state, dtype=np.float64)
    xy = grid_to_xy(maze, state[..., :2] * grid)
    v = vel_grid_to_xy(state[..., 2:] * VEL_SCALE)
    return np.concatenate([xy, v], axis=-1).astype(np.float32)


def goal_to_model(goal_xy: np.ndarray, maze: str, grid: int) -> np.ndarray:
    """World goal positions [..., 2] -> normalised (row / G, col / G)."""
    return (xy_to_grid(maze, np.asarray(goal_xy, dtype=np.float64)) / grid).astype(np.float32)


def per_maze(convert, values: np.ndarray, maze_id: np.ndarray, mazes: list[str], grid: int):
    """`convert(values[rows], maze, grid)` (a shape-keeping conversion of this module) applied
    to each maze's rows of `values` [N, ...] (row i in maze mazes[maze_id[i]]) -> [N, ...]."""
    values, maze_id = np.asarray(values), np.asarray(maze_id)
    if len(maze_id) != len(values) or not np.isin(maze_id, np.arange(len(mazes))).all():
        raise ValueError(
            f"maze_id must give one of {len(mazes)} mazes {mazes} per row of {values.shape}"
        )
    out = np.zeros(values.shape, dtype=np.float32)
    for m, maze in enumerate(mazes):
        rows = maze_id == m
        out[rows] = convert(values[rows], maze, grid)
    return out


def cut_windows(obs: np.ndarray, T: int, stride: int, n: int, rng: np.random.Generator):
    """n windows of T states, `stride` env steps apart, at uniformly drawn offsets of one
    stream `obs` [N, 4] -> [n, T, 4]. The window's last position is its goal (as Diffuser)."""
    span = (T - 1) * stride
    if len(obs) <= span:
        raise ValueError(
            f"a stream of {len(obs)} steps is shorter than one window of T={T} states "
            f"x stride {stride} = {span + 1} steps (data.stream_steps / data.horizon)"
        )
    starts = np.sort(rng.integers(0, len(obs) - span, size=n))
    return obs[starts[:, None] + stride * np.arange(T)[None, :]].astype(np.float32)
