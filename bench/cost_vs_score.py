"""Per evaluation episode: do keyframes with a lower true interpolation cost than uniform spacing
execute better than uniform ones? For each learned source (DP over D_phi's costs, the
selector), per level and split, the correlation between its cost minus uniform spacing's and its
executed D4RL score minus uniform keyframes' (two-phase @ `sample.ablation_steps`), pooled over
seeds (the same episodes in each seed; the 95 % interval resamples episodes, each with all its
seeds). Two costs: the mean over the data expert's runs of each task (`expert_costs`: what D_phi
learns to predict) and the noise-free reference's (`keyframes.csv`'s `ground_truth`). A negative
correlation: lower cost, higher score. Reads a finished maze run; nothing is retrained.

    python bench/cost_vs_score.py --run results/default --scored plans8 --seeds 0 1 2
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model, load_tensors
from interdiff_core.models.dphi import SegmentCostPredictor
from interdiff_core.models.selector import load_selector
from interdiff_core.sample.planners import source_method
from interdiff_core.selection.dp import path_cost
from interdiff_core.selection.keyframe_eval import true_cost_matrix
from interdiff_core.selection.masks import uniform_nested
from interdiff_core.stages.episode_metrics import split_values
from interdiff_core.stages.eval_keyframes import expert_split_costs, learned_sources

SOURCES = ("dp_dphi", "selector")  # learned keyframes, each scored on its own two-phase arm


def correlation(cost: np.ndarray, score: np.ndarray, n_boot: int, rng) -> tuple[float, ...]:
    """cost, score: [seeds, episodes]. Pooled r and its episode-resampling 95 % interval."""
    r = np.corrcoef(cost.ravel(), score.ravel())[0, 1]
    n = cost.shape[1]
    boots = []
    for _ in range(n_boot):
        e = rng.integers(0, n, n)
        boots.append(np.corrcoef(cost[:, e].ravel(), score[:, e].ravel())[0, 1])
    return (r, *np.percentile(boots, [2.5, 97.5]))


def seed_rows(args, seed: int, split: str, data, costs: dict, levels: list[int]) -> dict:
    """{(source, level, cost name): (cost − uniform's, score − uniform's)}, per episode."""
    models = f"{args.run}/{args.variant}/seed{seed}/models"
    dphi, _ = load_model(SegmentCostPredictor, f"{models}/dphi.safetensors")
    selector = load_selector(f"{models}/selector.safetensors")
    with torch.no_grad():
        keyframes = learned_sources(dphi, selector, data.cond, levels, data.T)
    uniform = uniform_nested(len(data), data.T, levels)
    scored = f"{args.run}/{args.scored or args.variant}/seed{seed}"
    values = split_values(f"{scored}/episodes/{split}.safetensors")[0]
    sample_cfg = load_tensors(f"{scored}/samples/{split}.safetensors")[1]["config"]
    maze = next(iter(values))[0]

    def score(arm: str) -> np.ndarray:
        return np.asarray(values[(maze, f"{arm}@{args.steps}")]["score_d4rl"], dtype=float)

    rows = {}
    for source in SOURCES:
        arm, uniform_arm = (source_method("two_phase", s, sample_cfg) for s in (source, "uniform"))
        gain = score(arm) - score(uniform_arm)
        for lvl in range(len(levels)):
            for name, c in costs.items():
                extra = path_cost(c, keyframes[source][lvl]) - path_cost(c, uniform[lvl])
                rows[(source, lvl, name)] = (extra.numpy(), gain)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default="results/default", help="run.results of a one-maze run")
    p.add_argument("--variant", default="base", help="the variant whose D_phi and selector")
    p.add_argument("--scored", default=None, help="the variant whose executed episodes (default:"
                   " --variant; e.g. its eight-plan variant)")  # fmt: skip
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--levels", type=int, nargs="+", default=[6, 12, 20], help="dp.levels")
    p.add_argument("--steps", type=int, default=4, help="sample.ablation_steps")
    p.add_argument("--bootstrap", type=int, default=2000)
    args = p.parse_args()
    expert_path = f"{args.run}/data/expert_costs.safetensors"
    expert = load_tensors(expert_path)[0]
    rng = np.random.default_rng(0)
    print("split source   K  cost          mean extra cost  share below  r [95 %]")
    for split in ("val", "test"):
        data = load_split(f"{args.run}/shards/{split}")
        costs = {
            "expert_mean": expert_split_costs(expert, expert_path, split, data),
            "ground_truth": true_cost_matrix(data.x),
        }
        per_seed = [seed_rows(args, s, split, data, costs, args.levels) for s in args.seeds]
        for key in per_seed[0]:
            cost = np.stack([rows[key][0] for rows in per_seed])
            gain = np.stack([rows[key][1] for rows in per_seed])
            r, lo, hi = correlation(cost, gain, args.bootstrap, rng)
            source, lvl, name = key
            print(f"{split:5s} {source:8s} {args.levels[lvl]:2d}  {name:12s}  {cost.mean():+15.4f}"
                  f"  {np.mean(cost < 0):11.2f}  {r:+.3f} [{lo:+.3f}, {hi:+.3f}]")  # fmt: skip


if __name__ == "__main__":
    main()
