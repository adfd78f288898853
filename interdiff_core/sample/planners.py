"""Every method that makes a plan from the conditioning, with its compute per plan.

One place builds them all, so `sample` (one plan per test sequence) and `execute` (replanning
inside an episode) call exactly the same models the same way. A planner maps a split (its
conditioning and, for the conditioning-only baseline, its endpoints) and a fresh generator to
sequences [N, T, D]; nfe and tokens are per plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from interdiff_core.io import load_model
from interdiff_core.models.selector import select_nested
from interdiff_core.models.teacher import load_teacher
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.two_phase import (
    refine,
    sample_keyframes,
    sample_teacher,
    sampling_sigmas,
)
from interdiff_core.selection.masks import interpolate


@dataclass
class Planner:
    method: str
    steps: int
    nfe: int
    tokens: int
    plan: Callable  # (split, generator) -> [N, T, D]

    @property
    def key(self) -> str:
        return f"{self.method}@{self.steps}"


@dataclass
class Models:
    teacher: torch.nn.Module
    selector: torch.nn.Module
    phase1: torch.nn.Module
    phase2: torch.nn.Module
    levels: list[int]
    phase2_sigmas: list[float]
    teacher_meta: dict

    @classmethod
    def load(cls, teacher_path, selector_path, phase1_path, phase2_path, phase2_noise: str):
        teacher, teacher_meta = load_teacher(teacher_path)
        selector, _ = load_model(SequenceTransformer, selector_path)
        phase1, _ = load_model(SequenceTransformer, phase1_path)
        phase2, meta2 = load_model(SequenceTransformer, phase2_path)
        sigmas = sampling_sigmas(meta2["config"]["noise_sigma"], phase2_noise)
        return cls(teacher, selector, phase1, phase2, meta2["levels"], sigmas, teacher_meta)


def build_planners(
    models: Models, cfg: dict, T: int, cond_dim: int, baseline: str, seed: int
) -> list[Planner]:
    """The teacher at each step count, its untrained architecture, the conditioning-only
    baseline (`baseline`: its name in the domain), then interpolation-only and two-phase at each
    phase-1 step count."""
    teacher, levels = models.teacher, models.levels
    teacher_tokens = teacher.n_tokens(T, cond_dim)  # per call, whatever the backbone
    n_cond = models.phase2.cond.n_tokens  # the two-phase models' conditioning prefix
    torch.manual_seed(seed)
    untrained = type(teacher)(**teacher.config).eval()
    out = []
    for model, method, steps_list in [
        (teacher, "teacher", cfg["teacher_steps"]),
        (untrained, "untrained", [cfg["untrained_steps"]]),
    ]:
        for k in steps_list:
            fn = lambda d, g, m=model, k=k: sample_teacher(m, d.cond, T, k, g)  # noqa: E731
            out.append(Planner(method, k, k, k * teacher_tokens, fn))

    def line(d, g):
        return interpolate(d.endpoints, torch.tensor([0, T - 1]).expand(len(d), 2), T)

    out.append(Planner(baseline, 0, 0, 0, line))
    sel_tokens = len(levels) * (T + n_cond)
    for k in cfg["phase1_steps"]:
        p1_tokens = k * (levels[0] + n_cond)

        def keyframes(d, g, k=k):
            idx = select_nested(models.selector, d.cond, levels, T)
            return idx, sample_keyframes(models.phase1, d.cond, idx[0], k, g)

        def interp_only(d, g, keyframes=keyframes):
            idx, anchors = keyframes(d, g)
            return interpolate(anchors, idx[0], T)

        def two_phase(d, g, keyframes=keyframes):
            idx, anchors = keyframes(d, g)
            return refine(models.phase2, anchors, idx, d.cond, T, models.phase2_sigmas, g)

        out.append(Planner("interp_only", k, k + len(levels), sel_tokens + p1_tokens, interp_only))
        tokens = sel_tokens + p1_tokens + len(levels) * (T + n_cond)
        out.append(Planner("two_phase", k, k + 2 * len(levels), tokens, two_phase))
    return out
