"""Keyframe index policies mixed during phase-1 and phase-2 training."""

from __future__ import annotations

import torch

from interdiff_core.selection.keyframe_eval import best_fixed_nested
from interdiff_core.selection.masks import random_nested, uniform_nested


def mix_choice(mix: dict[str, float], gen: torch.Generator) -> str:
    """Draw one policy name from a {name: weight} mix with the stage's generator."""
    names = sorted(mix)
    w = torch.tensor([float(mix[k]) for k in names])
    return names[int(torch.multinomial(w / w.sum(), 1, generator=gen))]


def fixed_schedule(mix: dict[str, float], train_x: torch.Tensor, levels) -> list | None:
    """The `best_fixed` policy's schedule (the one nested schedule with the lowest mean true cost
    on the training sequences, as the sampling arm `best_fixed` uses) when the mix draws it."""
    return best_fixed_nested(train_x, levels) if mix.get("best_fixed", 0) > 0 else None


def policy_indices(
    policy: str, b, levels, T, labels, selected, gen, fixed=None
) -> list[torch.Tensor]:
    """Nested keyframe indices (one [B, K_s] per level) for the batch rows `b`; `fixed`: the
    `best_fixed` policy's schedule (`fixed_schedule`)."""
    if policy == "dp":
        return [labels[f"train.level{s}"][b] for s in range(len(levels))]
    if policy == "selector":
        return [sel[b] for sel in selected]
    if policy == "uniform":
        return uniform_nested(len(b), T, levels)
    if policy == "random":
        return random_nested(len(b), T, levels, gen)
    if policy == "best_fixed":
        if fixed is None:
            raise ValueError("index policy best_fixed needs its schedule (fixed_schedule)")
        return [f.expand(len(b), -1) for f in fixed]
    raise ValueError(f"unknown index policy {policy!r} (dp, selector, uniform, random, best_fixed)")
