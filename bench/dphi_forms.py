"""Can D_phi learn where the keyframes go? Each form of D_phi (dphi.model.form) is trained by
the train_dphi stage on the true interpolation cost (dphi.kind: oracle) of training windows, at
several target budgets (windows x segments per window), and the nested DP over its predicted
costs is scored by the true cost of its keyframes beside uniform spacing, the best fixed
schedule and a k-nearest-neighbour estimate of the conditional mean cost (no model), on

- held-out training windows (the distribution D_phi is trained on; never in its targets),
- the val evaluation episodes: their noise-free expert plans (`ground_truth`) and one run of the
  data-generating expert for the same episodes (`data_expert`), as eval/keyframes.csv does.

    python bench/dphi_forms.py --run results/default   # about a minute on two cores
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml
from keyframe_shift import knn_nested  # bench/ is on the path when run as a script

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model, save_tensors
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_nested
from interdiff_core.selection.costs import all_segments, sample_segments
from interdiff_core.selection.dp import dp_select_levels, path_cost
from interdiff_core.selection.keyframe_eval import true_cost_matrix
from interdiff_core.selection.masks import uniform_nested
from interdiff_core.stages.prepare_data import data_expert_references
from interdiff_core.stages.train_dphi import train_dphi

WIDTH = {"density": 128, "pairwise": 128, "table": 256}  # table: one output per segment


def targets(costs, cond, budget: str, gen) -> dict:
    """Oracle targets of a budget 'NxS' (N windows, S segments each) or 'all'."""
    N, T = costs.shape[:2]
    if budget == "all":
        n, seg = N, all_segments(N, T)
    else:
        n, s = (int(v) for v in budget.split("x"))
        seg = sample_segments(n, T, s, gen)
    c = costs[:n].flatten(1).gather(1, seg[..., 0] * T + seg[..., 1])
    return {"cond": cond[:n], "seg": seg, "cost": c}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default="results/default", help="run.results of a maze run")
    p.add_argument("--config", default="config.yaml")
    p.add_argument("--budgets", nargs="+", default=["256x16", "1024x64", "all"])
    # pairwise on every segment of 3200 windows takes over ten minutes on two cores: ask for it
    p.add_argument("--forms", nargs="+", default=["density", "table"])
    p.add_argument("--held-out", type=int, default=800, help="training windows held out")
    p.add_argument("--k", type=int, default=10, help="neighbours of the k-NN estimate")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    cfg = yaml.safe_load(open(a.config))["dphi"]
    levels = yaml.safe_load(open(a.config))["dp"]["levels"]
    train = load_split(f"{a.run}/shards/train")
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(a.seed))
    held, fit = perm[: a.held_out], perm[a.held_out :]
    costs = true_cost_matrix(train.x)
    fit_costs, fit_cond, fit_keys = costs[fit], train.cond[fit], train.start_goal[fit]
    val = load_split(f"{a.run}/shards/val")
    refs = {
        "held_out_windows": (costs[held], train.cond[held], train.start_goal[held]),
        "val_ground_truth": (true_cost_matrix(val.x), val.cond, val.start_goal),
    }
    dx = data_expert_references(f"{a.run}/data/raw.safetensors", "val", val.occ.shape[-1])
    refs["val_data_expert"] = (true_cost_matrix(dx), val.cond, val.start_goal)
    fixed = dp_select_levels(fit_costs.mean(0, keepdim=True), levels)
    rows = []

    def score(name, pick):
        for ref, (c, cond, keys) in refs.items():
            n, T = c.shape[:2]
            sel = pick(cond, keys)
            uni = uniform_nested(n, T, levels)
            for s, K in enumerate(levels):
                cost = float(path_cost(c, sel[s].expand(n, -1)).mean())
                base = float(path_cost(c, uni[s]).mean())
                rows.append({"source": name, "reference": ref, "K": K, "cost": cost,
                             "vs_uniform": cost / base})  # fmt: skip

    score("uniform", lambda cond, keys: uniform_nested(len(cond), train.T, levels))
    score("best_fixed", lambda cond, keys: fixed)
    score(f"knn{a.k}", lambda cond, keys: knn_nested(fit_costs, fit_keys, keys, levels, a.k))
    gen = torch.Generator().manual_seed(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        for budget in a.budgets:
            t = targets(fit_costs, fit_cond, budget, gen)
            save_tensors(Path(tmp) / "t.safetensors", t, {"T": train.T})
            for form in a.forms:
                run_cfg = {**cfg, "model": {**cfg["model"], "form": form, "d_model": WIDTH[form]}}
                start = time.perf_counter()
                out = Path(tmp) / f"{form}_{budget}.safetensors"
                train_dphi(Path(tmp) / "t.safetensors", out, out.with_suffix(""), run_cfg, a.seed)
                model, _ = load_model(SegmentCostPredictor, out)
                print(f"{form} on {budget}: trained in {time.perf_counter() - start:.0f} s")
                score(f"dp_dphi_{form}_{budget}", lambda c, _, m=model: dphi_nested(m, c, levels))
    table = pd.DataFrame(rows).pivot_table(index="source", columns=["reference", "K"],
                                           values="vs_uniform", sort=False)  # fmt: skip
    print("true cost of the keyframes / uniform spacing's (below 1: better than uniform)")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
