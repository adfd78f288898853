"""Executed score of the `drawn` selector (bench/selector_forms.py: BCE on DP(D_phi)'s labels of
tasks drawn as the data's episodes from rest) put in place of a run's trained selector, every
other model kept: phase-1 and phase-2 were trained with the old selector's keyframes among
theirs, so this is the swap alone, not a retrained pipeline. Val only, eight plans per episode
with the plan seeds the `sample` stage uses, so the uniform arm reproduces the run's own: the
two-phase score @4 with the drawn selector's keyframes against the trained selector's and uniform
spacing's, paired per episode (two-stage bootstrap over seeds). The teacher is base's (no arm
here samples it).

    snakemake --configfile configs/plans8.yaml   # the eight-plan reference, if not there yet
    python bench/selector_swap.py --run results/default --seeds 0 1 2   # ~5 min a seed, 2 cores
"""

from __future__ import annotations

import argparse
import tempfile

import torch
from selector_forms import (  # bench/ is on the path as a script
    drawn_conditioning,
    fit,
    run_selector_config,
)

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model, load_tensors
from interdiff_core.metrics.stats import paired_bootstrap
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_nested
from interdiff_core.sample.planners import two_phase_source
from interdiff_core.stages.episode_metrics import split_values
from interdiff_core.stages.execute import execute
from interdiff_core.stages.sample import sample_all

ARMS = ("two_phase@4", "two_phase_uniform@4")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default="results/default", help="run.results of a one-maze run")
    p.add_argument("--variant", default="base", help="the variant whose models are used")
    p.add_argument("--plans8", default="plans8", help="its eight-plan variant (the reference)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--drawn", type=int, default=20000)
    args = p.parse_args()
    torch.set_num_threads(2)
    shards, raw = f"{args.run}/shards", f"{args.run}/data/raw.safetensors"
    train_cond = load_split(f"{shards}/train").cond
    grid = load_split(f"{shards}/val").occ.shape[-1]
    ours, theirs = [], []
    for seed in args.seeds:
        models = f"{args.run}/{args.variant}/seed{seed}/models"
        reference = f"{args.run}/{args.plans8}/seed{seed}"
        _, sample_meta = load_tensors(f"{reference}/samples/val.safetensors")
        if two_phase_source(sample_meta["config"]) != "selector":  # ARMS[0] is the selector's
            raise SystemExit(f"{reference}: its two_phase rows are not the selector's keyframes")
        cfg = {**sample_meta["config"], "teacher_steps": [], "phase1_steps": [4]}
        cfg["keyframe_sources"] = ["uniform"]
        dphi, _ = load_model(SegmentCostPredictor, f"{models}/dphi.safetensors")
        _, label_meta = load_tensors(
            f"{args.run}/{args.variant}/seed{seed}/cache/dp_labels.safetensors"
        )
        levels = label_meta["config"]["levels"]
        cond = drawn_conditioning(raw, train_cond, args.drawn, 10_000 + seed, grid)
        with torch.no_grad():
            labels = dphi_nested(dphi, cond, levels)
        selector_cfg = run_selector_config(f"{args.run}/{args.variant}/seed{seed}", args.steps)
        teacher = f"{args.run}/base/seed{seed}/models/teacher.safetensors"  # base owns it
        with tempfile.TemporaryDirectory() as tmp:
            fit(cond, labels, levels, selector_cfg, "bce", seed, f"{tmp}/sel")
            paths = [f"{models}/{m}.safetensors" for m in ("phase1", "phase2", "dphi")]
            sample_all(f"{shards}/val", teacher, f"{tmp}/sel", *paths, f"{tmp}/val", cfg, seed)
            execute(f"{tmp}/val", raw, "val", f"{tmp}/episodes", seed)
            ours.append(split_values(f"{tmp}/episodes")[0])
        theirs.append(split_values(f"{reference}/episodes/val.safetensors")[0])
        print(f"seed {seed} done", flush=True)
    maze = next(iter(ours[0]))[0]

    def score(values, arm):
        return values[(maze, arm)]["score_d4rl"]

    same = all((score(a, ARMS[1]) == score(b, ARMS[1])).all() for a, b in zip(ours, theirs))
    print(f"uniform arm identical to the run's own: {same}")
    rows = [
        (
            "drawn selector − trained selector",
            [score(a, ARMS[0]) - score(b, ARMS[0]) for a, b in zip(ours, theirs)],
        ),
        ("drawn selector − uniform", [score(a, ARMS[0]) - score(a, ARMS[1]) for a in ours]),
        ("trained selector − uniform", [score(b, ARMS[0]) - score(b, ARMS[1]) for b in theirs]),
    ]
    for name, diffs in rows:
        d, lo, hi = paired_bootstrap(diffs, 2000, 0)
        above = sum(float(x.mean()) > 0 for x in diffs)
        print(
            f"val, two_phase @4, {name}: {d:+.1f} [{lo:+.1f}, {hi:+.1f}],",
            f"{above}/{len(diffs)} seeds above 0",
        )
    for label, vals in [("drawn", ours), ("trained", theirs)]:
        mean = sum(float(score(v, ARMS[0]).mean()) for v in vals) / len(vals)
        print(f"val, two_phase @4 with the {label} selector: {mean:.1f}")


if __name__ == "__main__":
    main()
