"""How far is D_phi from the best any D_phi of its training data could do? On a maze run with
`data/expert_costs.safetensors` (rule expert_costs) and a trained seed's D_phi targets, D_phi is
retrained by the train_dphi stage under a few settings (three seeds each, and their ensemble:
the mean of their cost matrices) and, with `--denoised R`, on the same tasks with each target
averaged over R fresh runs of the data expert (is the single run's noise what limits it?), and
with `--extra-tasks N` on N more episodes from rest drawn as prepare_data draws them (are there
too few tasks?). The
nested DP's keyframes are scored on the split's *expected* true cost (the mean over the expert
runs of expert_costs) beside uniform spacing and the bound (`dp_expert_mean`: DP over that same
expected cost, the pick of a perfect D_phi of the training distribution).

    python bench/dphi_headroom.py --run results/medium_cpu --seed-dir base/seed0 --denoised 8 \
        --extra-tasks 3000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import yaml

from interdiff_core.data.maze2d import grid_side
from interdiff_core.data.maze_windows import to_model
from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model, load_tensors, save_tensors
from interdiff_core.models.dphi import SegmentCostPredictor
from interdiff_core.selection.costs import oracle_costs
from interdiff_core.selection.dp import dp_select_levels, path_cost
from interdiff_core.selection.masks import uniform_nested
from interdiff_core.stages.dphi_targets import training_windows
from interdiff_core.stages.prepare_data import reference_plans, simulated_rest_episodes
from interdiff_core.stages.train_dphi import train_dphi

SETTINGS = {  # name -> overrides of the config's dphi section
    "config": {},
    "steps1500": {"steps": 1500},
    "steps8000": {"steps": 8000},
    "mse_only": {"loss": {"mse": 1.0, "log": 0.0, "rank": 0.0}},
    "d_model128": {"model": {"d_model": 128}},
    "lr3e-4": {"lr": 3e-4},
}


def window_rows(run: Path, seed_dir: Path, dphi_cfg: dict) -> torch.Tensor:
    """The train split's rows D_phi's targets were computed on: from the teacher's cache where
    the run made one (teacher costs), else drawn again as dphi_targets draws them (the seed is
    the seed folder's, `dphi.subsample` the config's)."""
    cache = seed_dir / "cache" / "teacher_predictions.safetensors"
    if cache.exists():
        return load_tensors(cache)[0]["index"]
    seed = int(seed_dir.name.removeprefix("seed"))
    cfg = {**dphi_cfg, "kind": "oracle"}
    return training_windows(run / "shards" / "train", cfg, seed)["index"]


def denoised_targets(
    run: Path, seed_dir: Path, targets: dict, runs: int, dphi_cfg: dict
) -> torch.Tensor:
    """The targets' segments' costs averaged over `runs` fresh data-expert runs of the same
    tasks (the training windows that are episodes from rest, in the targets' row order)."""
    raw, meta = load_tensors(run / "data" / "raw.safetensors")
    index = window_rows(run, seed_dir, dphi_cfg)
    rows = index[raw["train.from_rest"].bool()[index]]
    if len(rows) != len(targets["cond"]) or len(meta["mazes"]) != 1:
        raise SystemExit("--denoised needs one maze and dphi.windows: rest_episodes targets")
    maze, grid, T = meta["mazes"][0], grid_side(meta["mazes"]), raw["train.state"].shape[1]
    tasks = {"start_xy": raw["train.state"][rows, 0, :2].numpy(),
             "goal_xy": raw["train.goal_xy"][rows].numpy()}  # fmt: skip
    noise, total = meta["config"].get("action_noise", 0.5), 0
    for r in range(runs):
        world = reference_plans(maze, tasks, T, meta["stride"], noise, seed=50_000 + r)
        total = total + oracle_costs(torch.from_numpy(to_model(world, maze, grid)), targets["seg"])
    return total / runs


def extra_task_targets(run: Path, targets: dict, n: int) -> dict:
    """The targets plus n new episodes from rest (dphi.extra_rest_episodes' simulation, seed
    12345), conditioned as the targets' rows."""
    x, cond = simulated_rest_episodes(
        run / "data" / "raw.safetensors", targets["cond"][0], n, 12_345
    )
    seg = targets["seg"][:1].expand(n, -1, -1)
    cost = oracle_costs(x, seg)
    return {"cond": torch.cat([targets["cond"], cond]), "seg": torch.cat([targets["seg"], seg]),
            "cost": torch.cat([targets["cost"], cost])}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, default=Path("results/medium_cpu"))
    p.add_argument("--seed-dir", default="base/seed0", help="whose D_phi targets, under --run")
    p.add_argument("--config", default="config.yaml")
    p.add_argument("--split", default="val")
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--denoised", type=int, default=0, help="fresh expert runs per task (0: off)")
    p.add_argument("--extra-tasks", type=int, default=0, help="new episodes from rest (0: off)")
    a = p.parse_args()
    cfg = yaml.safe_load(open(a.config))
    levels, base = cfg["dp"]["levels"], {**cfg["dphi"], "checkpoint_every": 10**9}
    seed_dir = a.run / a.seed_dir
    targets, tmeta = load_tensors(seed_dir / "cache" / "dphi_targets.safetensors")
    expected = load_tensors(a.run / "data" / "expert_costs.safetensors")[0][a.split]
    data = load_split(a.run / "shards" / a.split)

    def score(idx) -> str:
        costs = [float(path_cost(expected, i.expand(len(data), -1)).mean()) for i in idx]
        return " ".join(f"{c:8.4f}" for c in costs)

    print(f"{a.split}: expected true cost of the keyframes, K = {levels}")
    print(f"{'uniform':28s}{score(uniform_nested(len(data), data.T, levels))}")
    print(f"{'bound (dp_expert_mean)':28s}{score(dp_select_levels(expected, levels))}")
    runs = {name: (targets, SETTINGS[name]) for name in a.settings}
    if a.denoised:
        cost = denoised_targets(a.run, seed_dir, targets, a.denoised, cfg["dphi"])
        runs[f"config, targets x{a.denoised}"] = ({**targets, "cost": cost}, {})
    if a.extra_tasks:
        runs[f"config, +{a.extra_tasks} tasks"] = (
            extra_task_targets(a.run, targets, a.extra_tasks),
            {},
        )
    with tempfile.TemporaryDirectory() as tmp:
        for name, (these, over) in runs.items():
            path = Path(tmp) / "targets.safetensors"
            save_tensors(path, these, tmeta)
            run_cfg = {**base, **over, "model": {**base["model"], **over.get("model", {})}}
            mats = []
            for seed in range(a.seeds):
                out = Path(tmp) / f"dphi{seed}.safetensors"
                train_dphi(path, out, Path(tmp) / f"ck{seed}", run_cfg, seed)
                model, _ = load_model(SegmentCostPredictor, out)
                mats.append(model.cost_matrix(data.cond))
                print(f"{name + f' seed {seed}':28s}{score(dp_select_levels(mats[-1], levels))}")
            ensemble = dp_select_levels(sum(mats) / len(mats), levels)
            print(f"{name + ' ensemble':28s}{score(ensemble)}", flush=True)


if __name__ == "__main__":
    main()
