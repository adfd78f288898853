"""The tokenized video split as tensors: latent frames as tokens, prompt embeddings as
conditioning. It offers the same interface as the maze split (x, cond, T, D, endpoints,
subset, sample_extras), so every model stage runs on it unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from interdiff_core.data.shards import read_shards


def shard_spec(T: int | None = None) -> dict[str, tuple]:
    return {"latent": (T, None, None, None), "embed": (None, None), "prompt": ()}


@dataclass
class VideoSplit:
    latent: torch.Tensor  # [N, T, C, h, w]
    embed: torch.Tensor  # [N, L, E] prompt token embeddings
    prompts: list[str]
    skipped: int = 0

    domain = "video"

    @property
    def x(self) -> torch.Tensor:
        """[N, T, C*h*w]: each latent frame flattened into one token."""
        return self.latent.flatten(2)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return tuple(self.latent.shape[2:])

    @property
    def cond(self) -> torch.Tensor:
        """Mean prompt embedding, then the first and the last latent frame (as the maze's
        start and goal): [N, E + 2·D]."""
        x = self.x
        return torch.cat([self.embed.mean(1), x[:, 0], x[:, -1]], dim=1)

    @property
    def endpoints(self) -> torch.Tensor:
        """[N, 2, D] the first and last frame, the two frames the conditioning gives away."""
        return self.x[:, [0, -1]]

    @property
    def T(self) -> int:
        return self.latent.shape[1]

    @property
    def D(self) -> int:
        return self.x.shape[2]

    def __len__(self) -> int:
        return self.latent.shape[0]

    def subset(self, idx: torch.Tensor) -> VideoSplit:
        return VideoSplit(
            self.latent[idx], self.embed[idx], [self.prompts[i] for i in idx.tolist()]
        )

    def sample_extras(self) -> dict[str, torch.Tensor]:
        return {}


def load_video_split(shard_dir, T: int | None = None, on_bad_sample: str = "error") -> VideoSplit:
    arrays, skipped = read_shards(shard_dir, shard_spec(T), on_bad_sample)
    latent = torch.from_numpy(np.ascontiguousarray(arrays["latent"])).float()
    embed = torch.from_numpy(np.ascontiguousarray(arrays["embed"])).float()
    return VideoSplit(latent, embed, [str(p) for p in arrays["prompt"]], skipped)
