"""Where a keyframe source's plans go wrong: phase-1 generating the keyframes, or the gaps between
them. For each source the `sample` stage ran as an arm (@ `--steps`), on one split of a finished
maze run, from its saved samples (nothing is sampled or retrained):

- `gen`: squared position error of phase-1's keyframes against the data's own episode, at the
  interior keyframes (the interpolation-only plan at the source's indices is exactly them);
- `teacher_at`: the same error of the full-sequence teacher's plan (most steps) at those
  frames: how predictable the frames a source picks are from the conditioning, whoever
  generates them;
- `fill`: the true interpolation cost of those indices, per state (the data's own states at
  the indices, joined by lines, against the data), of the positions; `fill_all` of every
  feature (positions and velocities: what the DP's true cost sums);
- `interp_only` and `two_phase`: the plans' position error per state against the data;
- `score`: the executed D4RL score of the two-phase arm (`episodes/<split>.safetensors`).

Errors are against the data's expert episode, the reference `eval/metrics.csv` uses; a plan can
differ from it and still execute well, so they are read side by side with the score, over
sources. Means over seeds and episodes, the standard error over seeds.

    python bench/keyframe_error_split.py --run results/pointmaze_umaze_cpu --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_checkpoint, load_model, load_tensors
from interdiff_core.models.dphi import SegmentCostPredictor
from interdiff_core.models.selector import load_selector
from interdiff_core.sample.planners import source_method
from interdiff_core.selection.dp import dp_select_levels
from interdiff_core.selection.keyframe_eval import true_cost_matrix
from interdiff_core.selection.masks import interpolate, uniform_nested
from interdiff_core.stages.episode_metrics import split_values
from interdiff_core.stages.eval_keyframes import learned_sources


def model_path(models: list[str], name: str) -> str:
    """The first of the variant's and its parent's model folders that holds `name`."""
    paths = [f"{m}/{name}.safetensors" for m in models]
    return next((p for p in paths if os.path.exists(p)), paths[-1])


def source_indices(samples: dict, models: list[str], data, levels: list[int]) -> dict:
    """Level-0 indices of every source, recomputed as the `sample` stage draws them."""
    dphi, _ = load_model(SegmentCostPredictor, model_path(models, "dphi"))
    selector = load_selector(model_path(models, "selector"))
    learned = learned_sources(dphi, selector, data.cond, levels, data.T)
    out = {k: v[0] for k, v in learned.items()}
    out["uniform"] = uniform_nested(len(data), data.T, levels)[0]
    out["dp_true"] = dp_select_levels(true_cost_matrix(data.x), levels)[0]
    if "best_fixed.0" in samples:
        out["best_fixed"] = samples["best_fixed.0"].expand(len(data), -1)
    draws = len(samples["gt"]) // len(data)  # sample.plans_per_episode: draw j at rows j*n + i
    return {k: v.repeat(draws, 1) for k, v in out.items()}


def pos_err(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per episode, the squared Euclidean distance of the positions (x and y summed), averaged
    over the frames given -> [N]."""
    return ((a[..., :2] - b[..., :2]) ** 2).sum(-1).mean(-1)


def seed_rows(run: str, variant: str, parent: str, seed: int, split: str, steps: int, data):
    samples, meta = load_tensors(f"{run}/{variant}/seed{seed}/samples/{split}.safetensors")
    x = samples["gt"]
    if len(x) % len(data) or not torch.equal(x, data.x.repeat(len(x) // len(data), 1, 1)):
        raise ValueError(f"{variant} seed {seed}: samples' gt is not the {split} split's episodes")
    models = [f"{run}/{v}/seed{seed}/models" for v in (variant, parent)]
    levels = load_checkpoint(model_path(models, "phase2"))[2]["levels"]  # as Models.load reads them
    idx = source_indices(samples, models, data, levels)
    values, _ = split_values(f"{run}/{variant}/seed{seed}/episodes/{split}.safetensors")
    rows, T = [], data.T
    teacher = samples[max((k for k in samples if k.startswith("teacher@")),
                          key=lambda k: int(k.split("@")[1]))]  # fmt: skip
    rows_idx = torch.arange(len(x))[:, None]
    for source, i in idx.items():
        interp_key = source_method("interp_only", source, meta["config"]) + f"@{steps}"
        two_key = source_method("two_phase", source, meta["config"]) + f"@{steps}"
        if interp_key not in samples:
            continue
        interp, inner = samples[interp_key], i[:, 1:-1]
        if not torch.allclose(interpolate(interp[rows_idx, i], i, T), interp, atol=1e-5):
            raise ValueError(f"{variant} seed {seed}: {interp_key} is not {source}'s keyframes")
        gt_lines = interpolate(x[rows_idx, i], i, T)
        score = np.concatenate([v["score_d4rl"] for (_, k), v in values.items() if k == two_key])
        rows.append({
            "seed": seed, "source": source,
            "gen": pos_err(interp[rows_idx, inner], x[rows_idx, inner]).mean().item(),
            "teacher_at": pos_err(teacher[rows_idx, inner], x[rows_idx, inner]).mean().item(),
            "fill": pos_err(gt_lines, x).mean().item(),
            "fill_all": ((gt_lines - x) ** 2).sum(-1).mean().item(),
            "interp_only": pos_err(interp, x).mean().item(),
            "two_phase": pos_err(samples[two_key], x).mean().item(),
            "score": float(score.mean()),
        })  # fmt: skip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="run.results of a one-maze run")
    p.add_argument("--variant", default="base")
    p.add_argument("--parent", default="base", help="whose D_phi and selector a variant shares")
    p.add_argument("--seeds", nargs="+", type=int, required=True)
    p.add_argument("--splits", nargs="+", default=["val", "test"])
    p.add_argument("--steps", type=int, default=4, help="phase-1's sampling steps of the arms")
    args = p.parse_args()
    for split in args.splits:
        data = load_split(f"{args.run}/shards/{split}")
        rows = []
        for seed in args.seeds:
            rows += seed_rows(args.run, args.variant, args.parent, seed, split, args.steps, data)
        frame = pd.DataFrame(rows)
        t = frame.drop(columns="seed").groupby("source", sort=False)
        table = t.mean().join(t.sem(ddof=1)[["score"]].rename(columns={"score": "score_se"}))
        print(f"## {args.run} {args.variant} {split}, seeds {args.seeds}, @{args.steps}")
        print(table.sort_values("score", ascending=False).round(4).to_string())
        for col in ("gen", "fill_all", "fill"):
            r = rank_correlations(frame, col)
            print(
                f"rank correlation over sources, score with {col}: mean {r.mean():+.2f}"
                f" (s.e. over seeds {r.std(ddof=1) / np.sqrt(len(r)):.2f}, n = {len(r)})"
            )


def rank_correlations(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Per seed, Spearman's rho over the sources between the score and `col`."""
    rho = []
    for _, g in frame.groupby("seed"):
        a, b = g["score"].rank().to_numpy(), g[col].rank().to_numpy()
        rho.append(np.corrcoef(a, b)[0, 1])
    return np.array(rho)


if __name__ == "__main__":
    main()
