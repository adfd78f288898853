"""The tokenized maze2d split as tensors: what every model stage reads.

A sample is T normalised PointMaze states (row / G, col / G, v_row / VEL_SCALE, v_col /
VEL_SCALE), see data/maze_windows.py; its conditioning is the maze (occupancy, SDF), the first
state and the goal position.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from interdiff_core.data.maze_windows import VEL_SCALE
from interdiff_core.data.shards import read_shards

log = logging.getLogger(__name__)


def shard_spec(T: int | None = None, G: int | None = None) -> dict[str, tuple]:
    return {
        "state": (T, 4),
        "occ": (G, G),
        "sdf": (G, G),
        "start_goal": (6,),
        "maze_id": (),
        "plan_dt": (),
    }


SHARD_DTYPES = {
    "state": "f",
    "occ": "f",
    "sdf": "f",
    "start_goal": "f",
    "maze_id": "iu",
    "plan_dt": "f",
}


def cond_vector(occ: torch.Tensor, sdf: torch.Tensor, start_goal: torch.Tensor) -> torch.Tensor:
    """The maze conditioning as one flat vector: occupancy, SDF, start and goal."""
    return torch.cat([occ.flatten(1), sdf.flatten(1), start_goal], dim=1)


def with_goal(cond: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
    """`cond_vector`s [N, C] with their goal position replaced by goal [N, 2]."""
    return torch.cat([cond[:, :-2], goal.to(cond)], dim=1)


@dataclass
class MazeSplit:
    x: torch.Tensor  # [N, T, 4] normalised states: positions in [0, 1], velocities
    occ: torch.Tensor  # [N, G, G] 1 = wall
    sdf: torch.Tensor  # [N, G, G]
    start_goal: torch.Tensor  # [N, 6] first state, goal position
    maze_id: torch.Tensor  # [N]
    plan_dt: torch.Tensor  # [N] seconds between planned states
    skipped: int = 0

    domain = "maze2d"
    baseline = "straight_line"  # from start to goal, the conditioning's two points

    @property
    def cond(self) -> torch.Tensor:
        return cond_vector(self.occ, self.sdf, self.start_goal)

    @property
    def T(self) -> int:
        return self.x.shape[1]

    @property
    def D(self) -> int:
        return self.x.shape[2]

    @property
    def endpoints(self) -> torch.Tensor:
        """[N, 2, 4] the first state and the goal, each with the straight line's constant
        velocity, so that interpolating them gives the straight-line plan at constant speed."""
        start, goal = self.start_goal[:, :2], self.start_goal[:, 4:6]
        seconds = (self.T - 1) * self.plan_dt[:, None]
        vel = (goal - start) * self.occ.shape[-1] / seconds / VEL_SCALE
        return torch.stack([torch.cat([start, vel], 1), torch.cat([goal, vel], 1)], dim=1)

    def inpainting(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(values, mask) [N, T, 4]: the first state and the goal position, the entries
        Diffuser inpaints into every maze plan (`sample.inpaint`)."""
        values = torch.zeros_like(self.x)
        mask = torch.zeros_like(self.x, dtype=torch.bool)
        values[:, 0], values[:, -1, :2] = self.start_goal[:, :4], self.start_goal[:, 4:6]
        mask[:, 0], mask[:, -1, :2] = True, True
        return values, mask

    def sample_extras(self) -> dict[str, torch.Tensor]:
        return {
            "occ": self.occ,
            "sdf": self.sdf,
            "start_goal": self.start_goal,
            "maze_id": self.maze_id,
        }

    def __len__(self) -> int:
        return self.x.shape[0]

    def subset(self, idx: torch.Tensor) -> MazeSplit:
        return MazeSplit(
            self.x[idx],
            self.occ[idx],
            self.sdf[idx],
            self.start_goal[idx],
            self.maze_id[idx],
            self.plan_dt[idx],
        )


def load_split(shard_dir, T: int | None = None, on_bad_sample: str = "error") -> MazeSplit:
    arrays, skipped = read_shards(shard_dir, shard_spec(T), on_bad_sample, SHARD_DTYPES)
    if skipped:
        log.warning("%s: skipped %d bad samples (data.on_bad_sample = skip)", shard_dir, skipped)
    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    return MazeSplit(
        t["state"].float(),
        t["occ"].float(),
        t["sdf"].float(),
        t["start_goal"].float(),
        t["maze_id"].long(),
        t["plan_dt"].float(),
        skipped,
    )
