"""prepare_data: generate maze2d trajectories (D4RL's layouts and controller) for each split."""

from __future__ import annotations

import logging

import torch

from interdiff_core.data.maze2d import generate_split_data
from interdiff_core.io import save_tensors
from interdiff_core.runtime import stage_meta

log = logging.getLogger(__name__)


def prepare_data(cfg: dict, seed: int, out_path) -> None:
    if cfg["domain"] != "maze2d":
        raise ValueError(f"data.domain: {cfg['domain']!r} is not implemented yet (use 'maze2d')")
    counts = {"train": cfg["n_train"], "val": cfg["n_val"], "test": cfg["n_test"]}
    data = generate_split_data(
        cfg["mazes"], counts, horizon=cfg["horizon"], record_every=cfg["record_every"], seed=seed
    )
    grid = data["train"]["occ"].shape[-1]
    tensors = {}
    for split, arrays in data.items():
        # raw positions in cell units; normalisation is the tokenizer's job
        tensors[f"{split}.pos_cells"] = torch.from_numpy(arrays["pos"] * grid)
        tensors[f"{split}.maze_id"] = torch.from_numpy(arrays["maze_id"])
        tensors[f"{split}.cells"] = torch.from_numpy(arrays["cells"])
        log.info("%s: %d trajectories of %d steps", split, len(arrays["pos"]), cfg["horizon"])
    save_tensors(out_path, tensors, stage_meta("prepare_data", cfg, grid_size=grid, seed=seed))
