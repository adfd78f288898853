"""The tokenized video split as tensors: latent frames as tokens, the prompt embedding (a token
sequence) and the first frame as conditioning. It offers the same interface as the maze split
(x, cond, T, D, endpoints, baseline, subset, sample_extras), so every model stage runs on it
unchanged.

Only the first frame is given, never the last: the same conditioning serves the world-model
rollout, where any later frame would leak the future it is scored on."""

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
    baseline = "hold_first_frame"  # what the conditioning alone predicts: nothing moves

    @property
    def x(self) -> torch.Tensor:
        """[N, T, C*h*w]: each latent frame flattened into one token."""
        return self.latent.flatten(2)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return tuple(self.latent.shape[2:])

    @property
    def cond(self) -> torch.Tensor:
        """The prompt's token embeddings [L, E] flattened, then the first latent frame:
        [N, L·E + D]. Models read it back as L prompt tokens and one image-conditioning frame
        (model.cond_text_dim = E, model.cond_frames = 1; `cond_layout`)."""
        return torch.cat([self.embed.flatten(1), self.x[:, 0]], dim=1)

    @property
    def cond_layout(self) -> dict[str, int]:
        """How `cond` splits: prompt tokens of width text_dim, then whole frames."""
        return {"cond_text_dim": self.embed.shape[2], "cond_frames": 1}

    @property
    def endpoints(self) -> torch.Tensor:
        """[N, 2, D] the baseline's two ends: the first frame, held to the last."""
        return self.x[:, [0, 0]]

    def inpainting(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(values, mask) [N, T, D]: the first frame, which the conditioning gives."""
        values, mask = torch.zeros_like(self.x), torch.zeros_like(self.x, dtype=torch.bool)
        values[:, 0], mask[:, 0] = self.x[:, 0], True
        return values, mask

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
