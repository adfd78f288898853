"""tokenize: maze2d trajectories -> normalised positions, occupancy grid, SDF and start/goal,
written as webdataset shards (one folder of sorted shards per split)."""

from __future__ import annotations

import logging

import numpy as np

from interdiff_core.data.maze2d import pad_walls, parse_layout, sdf_from_occupancy
from interdiff_core.data.shards import write_shards
from interdiff_core.io import load_tensors

log = logging.getLogger(__name__)


def maze_grids(mazes: list[str], grid: int) -> tuple[np.ndarray, np.ndarray]:
    occ = np.stack([pad_walls(parse_layout(m), grid).astype(np.float32) for m in mazes])
    sdf = np.stack([sdf_from_occupancy(o > 0.5) for o in occ]).astype(np.float32)
    return occ, sdf


def tokenize(raw_path, out_dirs: dict[str, str], mazes: list[str], shard_size: int) -> None:
    tensors, meta = load_tensors(raw_path)
    grid = meta["grid_size"]
    occ, sdf = maze_grids(mazes, grid)
    for split, out_dir in out_dirs.items():
        pos = tensors[f"{split}.pos_cells"].numpy() / grid
        maze_id = tensors[f"{split}.maze_id"].numpy()
        if pos.min() < 0 or pos.max() > 1:
            raise ValueError(f"{raw_path}: key {split}.pos_cells leaves the {grid}x{grid} grid")
        arrays = {
            "pos": pos.astype(np.float32),
            "occ": occ[maze_id],
            "sdf": sdf[maze_id],
            "start_goal": np.concatenate([pos[:, 0], pos[:, -1]], axis=1).astype(np.float32),
            "maze_id": maze_id.astype(np.int64),
        }
        paths = write_shards(out_dir, arrays, shard_size)
        log.info("%s: %d samples in %d shards -> %s", split, len(pos), len(paths), out_dir)
