"""tokenize: PointMaze states -> the models' normalised states, occupancy grid, SDF and the
conditioning (first state and goal), written as webdataset shards (one folder per split)."""

from __future__ import annotations

import logging

import numpy as np

from interdiff_core.data.maze2d import grid_side, pad_walls, parse_layout, sdf_from_occupancy
from interdiff_core.data.maze_windows import goal_to_model, per_maze, to_model
from interdiff_core.data.shards import write_shards
from interdiff_core.envs.pointmaze import DT
from interdiff_core.io import load_tensors

log = logging.getLogger(__name__)


def maze_grids(mazes: list[str], grid: int) -> tuple[np.ndarray, np.ndarray]:
    occ = np.stack([pad_walls(parse_layout(m), grid).astype(np.float32) for m in mazes])
    sdf = np.stack([sdf_from_occupancy(o > 0.5) for o in occ]).astype(np.float32)
    return occ, sdf


def tokenize(raw_path, out_dirs: dict[str, str], mazes: list[str], shard_size: int) -> None:
    tensors, meta = load_tensors(raw_path)
    if list(meta["mazes"]) != list(mazes):
        raise ValueError(f"{raw_path}: holds mazes {meta['mazes']}, data.mazes is {mazes}")
    grid = grid_side(mazes)
    occ, sdf = maze_grids(mazes, grid)
    for split, out_dir in out_dirs.items():
        world = tensors[f"{split}.state"].numpy()
        maze_id = tensors[f"{split}.maze_id"].numpy()
        if world.ndim != 3 or world.shape[-1] != 4:
            raise ValueError(f"{raw_path}: key {split}.state is {world.shape}, expected [N, T, 4]")
        state = per_maze(to_model, world, maze_id, mazes, grid)
        if split == "train":  # the window's last position is its goal
            goal = state[:, -1, :2]
        else:
            goal = per_maze(goal_to_model, tensors[f"{split}.goal_xy"], maze_id, mazes, grid)
        if state[..., :2].min() < 0 or state[..., :2].max() > 1:
            raise ValueError(f"{raw_path}: key {split}.state leaves the {grid}x{grid} grid")
        arrays = {
            "state": state,
            "occ": occ[maze_id],
            "sdf": sdf[maze_id],
            "start_goal": np.concatenate([state[:, 0], goal], axis=1).astype(np.float32),
            "maze_id": maze_id.astype(np.int64),
            "plan_dt": np.full(len(state), meta["stride"] * DT, dtype=np.float32),
        }
        paths = write_shards(out_dir, arrays, shard_size)
        log.info("%s: %d samples in %d shards -> %s", split, len(state), len(paths), out_dir)
