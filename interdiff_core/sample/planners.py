"""Every method that makes a plan from the conditioning, with its compute per plan.

One place builds them all, so `sample` (one plan per test sequence) and `execute` (replanning
inside an episode) call exactly the same models the same way. A planner maps a split (its
conditioning and, for the conditioning-only baseline, its endpoints) and a fresh generator to
sequences [N, T, D]; nfe and tokens are per plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from interdiff_core.io import load_model
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_nested
from interdiff_core.models.interpolator import KeyframeInterpolation, load_interpolation
from interdiff_core.models.selector import load_selector, select_nested
from interdiff_core.models.teacher import load_teacher
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.two_phase import (
    refine,
    sample_keyframes,
    sample_teacher,
    sampling_sigmas,
)
from interdiff_core.selection.dp import dp_select_levels
from interdiff_core.selection.keyframe_eval import true_cost_matrix
from interdiff_core.selection.masks import interpolate, uniform_nested

# Where two-phase's keyframe indices come from: `sample.two_phase_keyframes` for the `two_phase`
# rows (the selector unless a variant replaces it), `sample.keyframe_sources` for the arms beside
# them. `dp_true` runs the DP on the true cost against the ground truth: an oracle (the lowest
# interpolation cost; on the executed score it scored lowest of the arms on the default run).
# `best_fixed` is one schedule for every episode, the lowest mean true cost on train
# (`best_fixed_nested`): the selector's trivial replacement when it learns a fixed schedule.
KEYFRAME_SOURCES = ("selector", "uniform", "dp_dphi", "dp_true", "best_fixed")
METHODS = ("interp_only", "two_phase")  # the rows of each keyframe source


def two_phase_source(sample_cfg: dict) -> str:
    """The keyframe source of the `two_phase` / `interp_only` rows (`sample.two_phase_keyframes`;
    the selector where a config, or a sample's metadata, predates the field)."""
    return sample_cfg.get("two_phase_keyframes", "selector")


def source_method(method: str, source: str, sample_cfg: dict) -> str:
    """The row name of `method` (`two_phase` / `interp_only`) on `source`'s keyframes: the bare
    method for `sample.two_phase_keyframes`' source, `<method>_<source>` for an ablation arm."""
    return method if source == two_phase_source(sample_cfg) else f"{method}_{source}"


@dataclass
class Planner:
    method: str
    steps: int
    nfe: int
    tokens: int
    plan: Callable  # (split, generator) -> [N, T, D]
    uses_truth: bool = False  # reads the split's ground truth (an oracle, not a method)

    @property
    def key(self) -> str:
        return f"{self.method}@{self.steps}"


@dataclass
class Models:
    teacher: torch.nn.Module
    selector: torch.nn.Module
    phase1: torch.nn.Module
    phase2: torch.nn.Module
    dphi: torch.nn.Module | None
    levels: list[int]
    phase2_sigmas: list[float]
    teacher_meta: dict
    # how phase-2 fills the gaps between keyframes (phase2.interpolator, as phase-2 was trained)
    interp: KeyframeInterpolation = field(default_factory=KeyframeInterpolation)
    # `[1, K_s]` per level: the `best_fixed` source's schedule (computed from the train split)
    fixed: list[torch.Tensor] | None = None

    @classmethod
    def load(
        cls,
        teacher_path,
        selector_path,
        phase1_path,
        phase2_path,
        phase2_noise: str,
        dphi_path=None,
        interpolator_path=None,
        latent_shape=None,
    ):
        """`interpolator_path`: the flow interpolator, needed when phase-2 was trained with
        `phase2.interpolator: flow` (read from its metadata, so sampling interpolates as
        phase-2 trained)."""
        teacher, teacher_meta = load_teacher(teacher_path)
        dphi = load_model(SegmentCostPredictor, dphi_path)[0] if dphi_path else None
        selector = load_selector(selector_path)
        phase1, _ = load_model(SequenceTransformer, phase1_path)
        phase2, meta2 = load_model(SequenceTransformer, phase2_path)
        sigmas = sampling_sigmas(meta2["config"]["noise_sigma"], phase2_noise)
        kind = meta2["config"].get("interpolator", "linear")
        interp = load_interpolation(kind, interpolator_path, latent_shape)
        levels = meta2["levels"]
        return cls(teacher, selector, phase1, phase2, dphi, levels, sigmas, teacher_meta, interp)

    def keyframes(self, source: str, d, T: int) -> list[torch.Tensor]:
        """Nested keyframe indices of a split from one source (KEYFRAME_SOURCES)."""
        if source == "selector":
            return select_nested(self.selector, d.cond, self.levels, T)
        if source == "uniform":
            return uniform_nested(len(d), T, self.levels)
        if source == "dp_dphi":
            return dphi_nested(self.dphi, d.cond, self.levels)
        if source == "dp_true":
            return dp_select_levels(true_cost_matrix(d.x), self.levels)
        if source == "best_fixed":
            if self.fixed is None:
                raise ValueError("keyframe source best_fixed needs the train split's schedule")
            return [f.expand(len(d), -1) for f in self.fixed]
        raise ValueError(f"sample.keyframe_sources: unknown source {source!r}")


def build_planners(
    models: Models, cfg: dict, T: int, cond_dim: int, baseline: str, seed: int
) -> list[Planner]:
    """The teacher at each step count, its untrained architecture, the conditioning-only
    baseline (`baseline`: its name in the domain), then interpolation-only and two-phase at each
    phase-1 step count."""
    teacher, levels = models.teacher, models.levels

    def given(d):  # sample.inpaint: the split's known entries (maze: first state and goal)
        return d.inpainting() if cfg.get("inpaint", False) else None

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

            def fn(d, g, m=model, k=k):
                return sample_teacher(m, d.cond, T, k, g, given(d))

            out.append(Planner(method, k, k, k * teacher_tokens, fn))

    def line(d, g):
        return interpolate(d.endpoints, torch.tensor([0, T - 1]).expand(len(d), 2), T)

    out.append(Planner(baseline, 0, 0, 0, line))
    sel_tokens = len(levels) * (T + n_cond)
    arms = [(two_phase_source(cfg), k) for k in cfg["phase1_steps"]]
    arms += [(src, cfg["ablation_steps"]) for src in cfg.get("keyframe_sources", [])]
    for source, k in arms:
        p1_tokens = k * (levels[0] + n_cond)
        cost = sel_tokens if source == "selector" else 0  # D_phi's DP: no sequence tokens

        def keyframes(d, g, k=k, source=source):
            idx = models.keyframes(source, d, T)
            return idx, sample_keyframes(models.phase1, d.cond, idx[0], k, g, given(d))

        def interp_only(d, g, keyframes=keyframes):
            idx, anchors = keyframes(d, g)
            return models.interp(anchors, idx[0], T)

        def two_phase(d, g, keyframes=keyframes):
            idx, anchors = keyframes(d, g)
            sigmas = models.phase2_sigmas
            return refine(
                models.phase2,
                anchors,
                idx,
                d.cond,
                T,
                sigmas,
                g,
                interp=models.interp,
                given=given(d),
            )

        truth = source == "dp_true"
        nfe0 = len(levels) if source == "selector" else 0
        tokens = cost + p1_tokens + len(levels) * (T + n_cond)
        interp_name, two_name = (source_method(m, source, cfg) for m in METHODS)
        out.append(Planner(interp_name, k, k + nfe0, cost + p1_tokens, interp_only, truth))
        out.append(Planner(two_name, k, k + nfe0 + len(levels), tokens, two_phase, truth))
    return out
