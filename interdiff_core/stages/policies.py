"""Keyframe index policies mixed during phase-1 and phase-2 training."""

from __future__ import annotations

import torch

from interdiff_core.selection.masks import random_nested, uniform_nested


def mix_choice(mix: dict[str, float], gen: torch.Generator) -> str:
    """Draw one policy name from a {name: weight} mix with the stage's generator."""
    names = sorted(mix)
    w = torch.tensor([float(mix[k]) for k in names])
    return names[int(torch.multinomial(w / w.sum(), 1, generator=gen))]


def policy_indices(policy: str, b, levels, T, labels, selected, gen) -> list[torch.Tensor]:
    """Nested keyframe indices (one [B, K_s] per level) for the batch rows `b`."""
    if policy == "dp":
        return [labels[f"train.level{s}"][b] for s in range(len(levels))]
    if policy == "selector":
        return [sel[b] for sel in selected]
    if policy == "uniform":
        return uniform_nested(len(b), T, levels)
    if policy == "random":
        return random_nested(len(b), T, levels, gen)
    raise ValueError(f"unknown index policy {policy!r} (dp, selector, uniform, random)")
