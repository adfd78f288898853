"""expert_costs (mazes): for every evaluation episode, the mean true segment cost [T, T] over
`runs` runs of the data-generating expert (its action noise) from the episode's start towards
its goal. D_phi learns the true cost of such runs from the task alone, so the best it can
predict for a task is this mean (the expected cost, for the squared error it trains on), and the
same nested DP that D_phi's costs go through picks over it the keyframes of a perfect D_phi of
the training distribution (up to the noise of `runs` runs):
`eval/keyframes.csv` reports them as `dp_expert_mean`, a bound that uses the simulator and the
evaluation tasks, not a method. Where that bound does not beat uniform spacing either, no D_phi
trained on the data can: the references differ from what it learned from."""

from __future__ import annotations

import logging

import torch

from interdiff_core.data.maze2d import grid_side
from interdiff_core.io import load_tensors, save_tensors
from interdiff_core.runtime import stage_meta
from interdiff_core.selection.keyframe_eval import true_cost_matrix
from interdiff_core.stages.prepare_data import data_expert_references

log = logging.getLogger(__name__)

# the runs' seeds (`data_expert_references`' seed) start here, well clear of the single
# `data_expert` reference run eval_keyframes draws with the data's seed (run.seed)
FIRST_RUN_SEED = 10_000


def expert_mean_costs(raw_path, grid: int, split: str, runs: int) -> torch.Tensor:
    """[N, T, T]: the split's episodes' true segment costs averaged over `runs` expert runs."""
    if runs < 1:
        raise ValueError(f"evaluate.expert_runs: expected at least 1 run, got {runs}")
    total = None
    for r in range(runs):
        x = data_expert_references(raw_path, split, grid, FIRST_RUN_SEED + r)
        costs = true_cost_matrix(x)
        total = costs if total is None else total + costs
    return total / runs


def expert_costs(raw_path, out_path, runs: int, splits=("val", "test")) -> None:
    _, meta = load_tensors(raw_path)
    grid = grid_side(meta["mazes"])
    tensors = {}
    for split in splits:
        tensors[split] = expert_mean_costs(raw_path, grid, split, runs)
        log.info("%s: mean true cost of %d expert runs for %d episodes", split, runs,
                 len(tensors[split]))  # fmt: skip
    save_tensors(out_path, tensors, stage_meta("expert_costs", {"runs": runs}))
