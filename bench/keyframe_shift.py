"""Why DP(D_phi) can lose to uniform keyframes on the maze eval episodes: side by side, on the
training windows and the val / test episodes of one run, the true interpolation cost of

- DP over D_phi's predicted costs (the run's model),
- DP over a nearest-neighbour estimate of the conditional mean cost: the mean true cost matrix
  of the k training windows whose (first state, goal) is closest (no model: what the training
  data say about a start and goal),
- the best fixed nested schedule on all training windows, and on the windows that start at rest
  (as every eval episode does),
- uniform spacing, and DP over the episode's own true cost (uses the truth: a lower bound),

with how far each split's ground truth ends from its goal (training windows end at their goal by
construction, Diffuser's convention; an eval episode's expert runs a fixed number of steps
towards a fixed goal, parks there or has not reached it).

    python bench/keyframe_shift.py results/default/base/seed0 --shards results/default/shards
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_nested
from interdiff_core.selection.dp import dp_select_levels, path_cost
from interdiff_core.selection.keyframe_eval import true_cost_matrix
from interdiff_core.selection.masks import uniform_nested


def knn_nested(train_costs, train_keys, keys, levels, k):
    """Nested DP over the mean true cost matrix of each row's k nearest training windows."""
    nn = torch.cdist(keys, train_keys).topk(k, largest=False).indices
    return dp_select_levels(train_costs[nn].mean(1), levels)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="a seed's folder, e.g. results/default/base/seed0")
    p.add_argument("--shards", default="results/default/shards")
    p.add_argument("--levels", type=int, nargs="+", default=[6, 12, 20])
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--n-train", type=int, default=1000, help="training windows scored")
    a = p.parse_args()
    dphi, _ = load_model(SegmentCostPredictor, f"{a.run}/models/dphi.safetensors")
    train = load_split(f"{a.shards}/train")
    train_costs = true_cost_matrix(train.x)
    train_keys = train.start_goal
    rest = train.start_goal[:, 2:4].norm(dim=1) < 1e-6
    fixed = dp_select_levels(train_costs.mean(0, keepdim=True), a.levels)
    fixed_rest = dp_select_levels(train_costs[rest].mean(0, keepdim=True), a.levels)
    grid = train.occ.shape[-1]
    rows = []
    for split in ("train", "val", "test"):
        d = train if split == "train" else load_split(f"{a.shards}/{split}")
        n = min(len(d), a.n_train)
        costs = train_costs[:n] if split == "train" else true_cost_matrix(d.x)
        keys = d.start_goal[:n]
        end_gap = (d.x[:n, -1, :2] - keys[:, 4:6]).norm(dim=1) * grid  # cells
        off = float((end_gap > 0.5).float().mean())
        sources = {
            "dp_dphi": dphi_nested(dphi, d.cond[:n], a.levels),
            f"knn{a.k}": knn_nested(train_costs, train_keys, keys, a.levels, a.k),
            "fixed_train": fixed,
            "fixed_rest": fixed_rest,
            "uniform": uniform_nested(n, d.T, a.levels),
            "dp_true": dp_select_levels(costs, a.levels),
        }
        for s, K in enumerate(a.levels):
            row = {"split": split, "K": K, "n": n, "end_off_goal": off}
            for name, sel in sources.items():
                row[name] = float(path_cost(costs, sel[s].expand(n, -1)).mean())
            rows.append(row)
    # knn on train includes the window itself among its neighbours: read its train row as a fit
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
