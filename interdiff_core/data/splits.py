"""One entry point for every model stage: load a tokenized split, whatever its domain.

The domain is read from the shards themselves (a maze sample holds `pos`, a video sample
`latent`), so a stage needs no domain argument and its code is the same for both.
"""

from __future__ import annotations

import torch

from interdiff_core.data.maze_dataset import MazeSplit
from interdiff_core.data.maze_dataset import load_split as load_maze_split
from interdiff_core.data.shards import shard_paths, tar_samples
from interdiff_core.data.video_dataset import VideoSplit, load_video_split

Split = MazeSplit | VideoSplit


def shard_domain(shard_dir) -> str:
    first = shard_paths(shard_dir)[0]
    for sample in tar_samples(first):
        if "state.npy" in sample:
            return "maze2d"
        if "latent.npy" in sample:
            return "video"
        raise ValueError(f"{first}: first sample has neither 'state' (maze2d) nor 'latent' (video)")
    raise ValueError(f"{first}: empty shard")


def load_split(shard_dir, T: int | None = None, on_bad_sample: str = "error") -> Split:
    if shard_domain(shard_dir) == "video":
        return load_video_split(shard_dir, T, on_bad_sample)
    return load_maze_split(shard_dir, T, on_bad_sample)


def training_subsample(data: Split, n: int, gen: torch.Generator) -> tuple[torch.Tensor, Split]:
    """(rows, their split): `n` rows of the train split drawn without replacement from `gen`
    (`dphi.subsample`, the windows D_phi's targets are computed on), in the split's order. One
    draw for both readers (`teacher_precompute`, `dphi_targets`), so they cost the same windows."""
    pick = torch.randperm(len(data), generator=gen)[: min(n, len(data))].sort().values
    return pick, data.subset(pick)
