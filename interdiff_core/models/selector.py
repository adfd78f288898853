"""Keyframe selector: per-frame, per-level keyframe scores from the conditioning alone.

It is the sequence transformer fed zeros (there is no sequence yet, only frame positions),
its level embedding telling it the keyframe budget K_s. Trained with BCE against the DP
labels of each level. Its scores are per frame, so their top-k takes neighbours together where
the labels' keyframes vary by a frame and leaves wide gaps; the nested sets are decoded instead
by a DP over the frames' log-odds plus a prior on segment lengths, the −log frequency of each
gap length among the training labels of the level (`label_gap_cost`, stored in the checkpoint:
`load_selector`), each level the best superset of the one below (`dp_decode_levels`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from interdiff_core.io import load_model
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.selection.dp import dp_decode_levels
from interdiff_core.selection.masks import indices_to_mask, nested_from_level_logits


def make_selector(cond_dim: int, T: int, n_levels: int, **arch) -> SequenceTransformer:
    return SequenceTransformer(x_dim=1, cond_dim=cond_dim, max_len=T, n_levels=n_levels, **arch)


def selector_logits(model: SequenceTransformer, cond: torch.Tensor, T: int, level: torch.Tensor):
    """[B, T] logits for one level per sample (level [B] long)."""
    B = cond.shape[0]
    positions = torch.arange(T, device=cond.device).expand(B, T)
    zeros = torch.zeros(B, T, device=cond.device)
    return model(zeros[..., None], positions, zeros, cond, level=level).squeeze(-1)


def selector_loss(model, cond, labels: torch.Tensor, level: torch.Tensor, T: int) -> torch.Tensor:
    """BCE on interior frames; labels [B, K] are the DP indices of each sample's `level`."""
    target = indices_to_mask(labels, T).float()
    logits = selector_logits(model, cond, T, level)
    return F.binary_cross_entropy_with_logits(logits[:, 1:-1], target[:, 1:-1])


def label_gap_cost(labels: list[torch.Tensor], T: int) -> torch.Tensor:
    """[S, T]: −log frequency of each segment length among the DP labels of each level
    ([N, K_s] index sets), add-half smoothed; length 0 never occurs (+inf)."""
    out = torch.full((len(labels), T), math.inf)
    for s, idx in enumerate(labels):
        counts = torch.bincount((idx[:, 1:] - idx[:, :-1]).flatten(), minlength=T)[:T]
        freq = counts[1:].double() + 0.5
        out[s, 1:] = -(freq / freq.sum()).log().float()
    return out


def attach_gap_cost(model: SequenceTransformer, gap_cost: torch.Tensor) -> SequenceTransformer:
    model.register_buffer("gap_cost", gap_cost.to(next(model.parameters()).device), False)
    return model


def load_selector(path, device: str = "cpu") -> SequenceTransformer:
    """A trained selector with its label gap statistics (checkpoint meta `gap_cost`)."""
    model, meta = load_model(SequenceTransformer, path, device)
    if "gap_cost" not in meta:
        raise KeyError(f"{path}: selector checkpoint meta has no 'gap_cost' (retrain the selector)")
    return attach_gap_cost(model, torch.tensor(meta["gap_cost"]))


# Without label gap statistics (an untrained selector), top-k with neighbours suppressed
APART = 1


@torch.no_grad()
def select_nested(model, cond: torch.Tensor, levels: list[int], T: int) -> list[torch.Tensor]:
    """Nested keyframe index sets, one [B, K_s] per level: the DP decode of the frames'
    log-odds and the label gap prior (`gap_cost` buffer), else top-k apart (`APART`)."""
    B = cond.shape[0]
    logits = torch.stack(
        [
            selector_logits(model, cond, T, torch.full((B,), s, device=cond.device))
            for s in range(len(levels))
        ],
        1,
    )
    gap_cost = getattr(model, "gap_cost", None)
    if gap_cost is None:
        return nested_from_level_logits(logits, levels, APART)
    return dp_decode_levels(-logits, gap_cost, levels)
