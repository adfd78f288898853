"""sample: every method on one split (val or test), with its compute recorded.

Methods: the teacher at several step counts, the untrained teacher architecture, the straight
line from start to goal, and the two-phase sampler (keyframes from `sample.two_phase_keyframes`,
the selector unless a variant replaces it -> phase-1 -> interpolation, LERP or the flow
interpolator as phase-2 trained -> phase-2 levels) and its interpolation-only ablation at several
phase-1 step counts. For each: network evaluations (NFE), tokens processed (frames +
conditioning tokens, summed over NFE) and wall time.

`plans_per_episode = k` draws k plans for every episode (rows `j * n + i`: draw j of episode
i), draw j from the generator seeded `plan_seed(seed, j)`, so draw 0 is the plan of k = 1 and
executing them all averages the plan noise out of each episode's score (`episode_metrics`).
"""

from __future__ import annotations

import logging
import time

import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import save_tensors
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.planners import Models, build_planners, two_phase_source
from interdiff_core.selection.keyframe_eval import best_fixed_nested

log = logging.getLogger(__name__)


def plan_seed(seed: int, draw: int) -> int:
    """The noise seed of a split's plan draw `draw` (0: the only one when k = 1)."""
    return seed + 1_000_003 * draw


@torch.no_grad()
def sample_all(
    split_dir,
    teacher_path,
    selector_path,
    phase1_path,
    phase2_path,
    dphi_path,
    out_path,
    cfg: dict,
    seed: int,
    on_bad_sample: str = "error",
    interpolator_path=None,
    train_dir=None,
) -> None:
    """train_dir: the train split, read only for the `best_fixed` keyframe source (its schedule
    is saved beside the plans as `best_fixed.<level>`, for replanning in `execute`)."""
    data = load_split(split_dir, on_bad_sample=on_bad_sample)
    skipped_split = data.skipped
    n = min(cfg["n_samples"], len(data))
    data = data.subset(torch.arange(n))
    k = cfg.get("plans_per_episode", 1)
    if k > 1 and data.domain == "video":
        raise ValueError("sample.plans_per_episode > 1 is for maze episodes (executed plans)")
    models = Models.load(
        teacher_path,
        selector_path,
        phase1_path,
        phase2_path,
        cfg["phase2_noise"],
        dphi_path,
        interpolator_path,
        getattr(data, "latent_shape", None),
    )
    fixed = {}
    main = two_phase_source(cfg)
    if "best_fixed" in [main, *cfg.get("keyframe_sources", [])]:
        if train_dir is None:
            raise ValueError("keyframe source best_fixed needs train_dir, the train split")
        train_x = load_split(train_dir, on_bad_sample=on_bad_sample).x
        models.fixed = best_fixed_nested(train_x, models.levels)
        fixed = {f"best_fixed.{s}": idx for s, idx in enumerate(models.fixed)}
    planners = build_planners(models, cfg, data.T, data.cond.shape[1], data.baseline, seed)
    results: dict[str, torch.Tensor] = {}
    rows = []
    for p in planners:
        t0 = time.perf_counter()
        draws = [p.plan(data, torch.Generator().manual_seed(plan_seed(seed, j))) for j in range(k)]
        results[p.key] = torch.cat(draws)
        seconds = (time.perf_counter() - t0) / k
        rows.append(
            dict(
                method=p.method,
                steps=p.steps,
                nfe=p.nfe,
                tokens=p.tokens,
                seconds_per_sample=seconds / n,
            )
        )
        log.info("%-14s steps=%-3d nfe=%-3d %.4f s/plan", p.method, p.steps, p.nfe, seconds / n)
    results["keyframes"] = models.keyframes(main, data, data.T)[0].repeat(k, 1)
    skipped = {"train": models.teacher_meta.get("skipped_samples", 0), "test": skipped_split}
    meta = stage_meta(
        "sample",
        cfg,
        rows=rows,
        levels=models.levels,
        n=n * k,
        episodes=n,
        plans_per_episode=k,
        domain=data.domain,
        skipped=skipped,
        interpolator=models.interp.kind,
    )
    if data.domain == "video":
        meta["latent_shape"] = list(data.latent_shape)
    drawn = data.subset(torch.arange(n).repeat(k))  # one row per plan draw
    save_tensors(out_path, {"gt": drawn.x, **drawn.sample_extras(), **results, **fixed}, meta)
