"""Can the selector learn where DP(D_phi) puts keyframes? The selector (per-frame keyframe scores
from the conditioning alone, decoded by the nested DP with the labels' gap prior) is trained on
DP(D_phi)'s labels; here forms of its training are scored, on the val episodes, by the true
interpolation cost of their keyframes beside uniform spacing and DP(D_phi) itself (the labels'
source, which reads the same conditioning), on the noise-free expert plans (`ground_truth`) and
one run of the data-generating expert (`data_expert`), as eval/keyframes.csv does:

- `trained`: the run's own selector (models/selector.safetensors);
- `labels`: binary cross-entropy on the run's DP labels (what train_selector does), --steps;
- `drawn`: the same on DP(D_phi)'s labels of --drawn tasks drawn as the data's episodes from rest
  are (random start and goal cells, the start at rest; their own seed): the conditioning an
  evaluation episode has, in any number;
- `crf`: a semi-Markov CRF on the run's DP labels: the set's score is the frames' scores plus a
  learned potential per segment length, trained by exact likelihood over every K-frame set
  (forward algorithm), decoded by the same nested DP.

    python bench/selector_forms.py --run results/default --seeds 0 1 2   # ~6 min a seed, 2 cores
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time

import numpy as np
import pandas as pd
import torch

from interdiff_core.data.maze_dataset import with_goal
from interdiff_core.data.maze_windows import goal_to_model, to_model
from interdiff_core.data.splits import load_split
from interdiff_core.envs.episodes import eval_tasks
from interdiff_core.io import load_model, load_tensors
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_nested
from interdiff_core.models.selector import (
    attach_gap_cost,
    label_gap_cost,
    load_selector,
    make_selector,
    select_nested,
    selector_logits,
    selector_loss,
)
from interdiff_core.runtime import stage_meta
from interdiff_core.selection.dp import path_cost
from interdiff_core.selection.keyframe_eval import true_cost_matrix
from interdiff_core.selection.masks import uniform_nested
from interdiff_core.stages.prepare_data import data_expert_references
from interdiff_core.train.loop import on_model_device, train

NEG = -1e9  # a finite −inf: logsumexp over an all-impossible row keeps finite gradients


def crf_log_partition(unary: torch.Tensor, gap: torch.Tensor, K: int) -> torch.Tensor:
    """[B] log Σ over every K-frame set {0 = i_0 < … < i_{K−1} = T−1} of exp(Σ unary[i_m] over
    interior frames + Σ gap[i_{m+1} − i_m]); unary [B, T], gap [T] by segment length."""
    T = unary.shape[1]
    frames = torch.arange(T)
    length = frames[None, :] - frames[:, None]
    pair = torch.where(length > 0, gap[length.clamp(0, T - 1)], NEG)  # [i, j]
    inner = torch.cat(
        [unary.new_zeros(len(unary), 1), unary[:, 1:-1], unary.new_zeros(len(unary), 1)], 1
    )
    alpha = torch.full_like(inner, NEG)
    alpha[:, 0] = 0.0
    for _ in range(1, K):
        alpha = inner + torch.logsumexp(alpha[:, :, None] + pair[None], dim=1)
    return alpha[:, T - 1]


def crf_score(unary: torch.Tensor, gap: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """[B] score of the sets idx [B, K] (endpoints' unaries excluded, as in the partition)."""
    return unary.gather(1, idx[:, 1:-1]).sum(1) + gap[idx[:, 1:] - idx[:, :-1]].sum(1)


def check_crf() -> None:
    """The forward algorithm against enumeration of every set on a small case."""
    gen = torch.Generator().manual_seed(0)
    T, K = 7, 4
    unary, gap = torch.randn(2, T, generator=gen), torch.randn(T, generator=gen)
    sets = [(0, *c, T - 1) for c in itertools.combinations(range(1, T - 1), K - 2)]
    scores = torch.stack([crf_score(unary, gap, torch.tensor([s, s])) for s in sets])
    assert torch.allclose(crf_log_partition(unary, gap, K), scores.logsumexp(0), atol=1e-5)


def drawn_conditioning(raw_path, template: torch.Tensor, n: int, seed: int, grid: int):
    """[n, C]: tasks drawn as the data's episodes from rest (one maze: `template`'s occupancy
    and SDF), the start at rest in a random free cell, the goal in another."""
    _, meta = load_tensors(raw_path)
    (maze,) = meta["mazes"]
    tasks = eval_tasks(maze, n, seed, goal="random")
    start = np.concatenate([tasks["start_xy"], np.zeros((n, 2))], 1)
    cond = template[:1].expand(n, -1).clone()
    cond[:, -6:-2] = torch.from_numpy(to_model(start, maze, grid))  # cond_vector's start slot
    return with_goal(cond, torch.from_numpy(goal_to_model(tasks["goal_xy"], maze, grid)))


def run_selector_config(run, steps: int) -> dict:
    """The run's `selector` config (architecture, batch, lr), with `steps` steps."""
    _, meta = load_tensors(f"{run}/models/selector.safetensors")
    return {**meta["config"], "steps": steps, "checkpoint_every": steps}


def fit(cond, per_level, levels, cfg: dict, objective, seed, out_path=None):
    """A selector trained as `cfg` (a `selector` config section) on (cond, per-level labels);
    out_path: also written there as train_selector writes it (BCE only: the CRF's gaps are
    learned)."""
    T, S, batch = 1 + int(per_level[0][:, -1].max()), len(levels), cfg["batch_size"]
    torch.manual_seed(seed)
    model = make_selector(cond.shape[1], T, S, **cfg["model"])
    gap_cost = label_gap_cost(per_level, T)
    if objective == "crf":  # the length potentials start at the labels' log frequencies
        model.crf_gap = torch.nn.Parameter(-gap_cost.clamp(max=1e4))

    def loss_fn(model, gen):
        b = torch.randint(len(cond), (batch,), generator=gen)
        s = int(torch.randint(S, (1,), generator=gen))
        c, idx = on_model_device(model, cond[b], per_level[s][b])
        level = torch.full((batch,), s, dtype=torch.long)
        if objective == "bce":
            return selector_loss(model, c, idx, level, T)
        unary, gap = selector_logits(model, c, T, level), model.crf_gap[s]
        return (
            (crf_log_partition(unary, gap, levels[s]) - crf_score(unary, gap, idx))
            / (levels[s] - 1)
        ).mean()

    with tempfile.TemporaryDirectory() as tmp:
        meta = stage_meta("train_selector", cfg, model, levels=levels, gap_cost=gap_cost.tolist())
        out = out_path or f"{tmp}/selector.safetensors"
        train(model, loss_fn, cfg, meta, seed, f"{tmp}/ckpt", out)
    if objective == "crf":
        gap_cost = -model.crf_gap.detach()
    return attach_gap_cost(model.eval(), gap_cost)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default="results/default", help="run.results of a one-maze run")
    p.add_argument("--variant", default="base")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--steps", type=int, default=3000, help="steps of the retrained forms")
    p.add_argument("--drawn", type=int, default=20000, help="tasks of the `drawn` form")
    p.add_argument("--forms", nargs="+", default=["trained", "labels", "drawn", "crf"])
    args = p.parse_args()
    check_crf()
    torch.set_num_threads(2)
    train_split, val = load_split(f"{args.run}/shards/train"), load_split(f"{args.run}/shards/val")
    T, grid, raw = val.T, val.occ.shape[-1], f"{args.run}/data/raw.safetensors"
    refs = {"ground_truth": val.x, "data_expert": data_expert_references(raw, "val", grid, 0)}
    costs = {ref: true_cost_matrix(x) for ref, x in refs.items()}
    rows = []
    for seed in args.seeds:
        run = f"{args.run}/{args.variant}/seed{seed}"
        dphi, _ = load_model(SegmentCostPredictor, f"{run}/models/dphi.safetensors")
        labels, meta = load_tensors(f"{run}/cache/dp_labels.safetensors")
        levels = meta["config"]["levels"]
        per_level = [labels[f"train.level{s}"] for s in range(len(levels))]
        cfg = run_selector_config(run, args.steps)
        with torch.no_grad():
            sources = {
                "uniform": uniform_nested(len(val), T, levels),
                "dp_dphi": dphi_nested(dphi, val.cond, levels),
            }
        for form in args.forms:
            t0 = time.perf_counter()
            if form == "trained":
                model = load_selector(f"{run}/models/selector.safetensors")
            elif form == "drawn":
                cond = drawn_conditioning(raw, train_split.cond, args.drawn, 10_000 + seed, grid)
                with torch.no_grad():
                    drawn = dphi_nested(dphi, cond, levels)
                model = fit(cond, drawn, levels, cfg, "bce", seed)
            else:
                model = fit(
                    train_split.cond,
                    per_level,
                    levels,
                    cfg,
                    {"labels": "bce", "crf": "crf"}[form],
                    seed,
                )
            sources[form] = select_nested(model, val.cond, levels, T)
            print(f"seed {seed} {form}: {time.perf_counter() - t0:.0f} s", flush=True)
        for (ref, c), (s, K) in itertools.product(costs.items(), enumerate(levels)):
            row = {"seed": seed, "reference": ref, "K": K}
            for name, idx in sources.items():
                row[name] = path_cost(c, idx[s].expand(len(c), -1)).mean().item()
                if name not in ("uniform", "dp_dphi"):
                    row[f"{name}_distinct"] = len(torch.unique(idx[s].expand(len(c), -1), dim=0))
            rows.append(row)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print("val: mean true cost of each source's keyframes (`*_distinct`: different keyframe sets):")
    print(table.round(4).to_string(index=False))
    mean = (
        table.groupby(["reference", "K"], sort=False).mean(numeric_only=True).drop(columns="seed")
    )
    names = ["dp_dphi", *args.forms]
    print("\nover seeds, cost / uniform spacing's (below 1: better than uniform):")
    print(mean[names].div(mean["uniform"], axis=0).round(3).to_string())


if __name__ == "__main__":
    main()
