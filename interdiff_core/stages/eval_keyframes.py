"""eval_keyframes: the true cost of every source of keyframes on val and test, per level
(`keyframe_costs_table`): DP over D_phi's costs, DP over the true cost (an upper bound: it uses
the ground truth), the selector, uniform spacing and the best fixed schedule on train. Warns
when DP(D_phi) does not beat uniform spacing, and when the selector does not.

Column `reference` says which sequences the true cost is measured on: `ground_truth` (the
split's own: the clips, or on mazes the noise-free expert's plan for each evaluation episode)
and, on mazes, `data_expert`: one run of the data-generating expert (with the data's action
noise) for the same episodes: the kind of trajectory they were trained on (the noise-free
expert moves faster and parks earlier than any training window).

Column `conditioning` says what the keyframe sources read: `task` (the episode's start and goal,
what the planner sees) and, on mazes, `reference`: the reference's own first state and last
position as its goal, as every training window's goal is its last position. An episode whose
reference does not reach the goal within the plan's span (a far start) gives the sources a goal
its sequence never visits under `task`; `reference` asks whether they fit sequences of the
distribution they were trained on, `task` what the planner gets.

With `expert_costs` (mazes, the stage of that name), column `dp_expert_mean`: DP over the mean
true cost of many data-expert runs of each task, the keyframes a perfect D_phi of the training
distribution would pick from the task; where it loses to uniform spacing too, the warning says
that no D_phi trained on the data could win there."""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd
import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import atomic_path, load_model, load_tensors
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_nested
from interdiff_core.models.selector import load_selector, select_nested
from interdiff_core.selection.dp import dp_select_levels
from interdiff_core.selection.keyframe_eval import (
    EXPERT_MEAN,
    best_fixed_nested,
    keyframe_costs_table,
    true_cost_matrix,
)
from interdiff_core.selection.masks import uniform_nested
from interdiff_core.stages.prepare_data import data_expert_references

log = logging.getLogger(__name__)


def reference_conditioning(data, x: torch.Tensor) -> torch.Tensor:
    """Maze conditioning built from sequences x [N, T, 4] as a training window's: their first
    state, and their last position as the goal (the split's occupancy and SDF)."""
    start_goal = torch.cat([x[:, 0], x[:, -1, :2]], dim=1)
    return dataclasses.replace(data, start_goal=start_goal).cond


def learned_sources(dphi, selector, cond: torch.Tensor, levels: list[int], T: int) -> dict:
    """The keyframes of the sources that read the conditioning: DP(D_phi) and the selector."""
    return {
        "dp_dphi": dphi_nested(dphi, cond, levels),
        "selector": select_nested(selector, cond, levels, T),
    }


def expert_split_costs(expert: dict, path, split: str, data) -> torch.Tensor:
    """The expert_costs file's [N, T, T] mean costs of `split`, checked against its episodes."""
    want = (len(data), data.T, data.T)
    if split not in expert or tuple(expert[split].shape) != want:
        got = tuple(expert[split].shape) if split in expert else "no such key"
        raise ValueError(
            f"{path}: key '{split}' expected shape {want}, got {got}: rerun expert_costs"
        )
    return expert[split]


def eval_keyframes(
    split_dirs: dict[str, str],
    train_dir,
    dphi_path,
    selector_path,
    out_csv,
    levels: list[int],
    on_bad_sample: str = "error",
    raw_path=None,
    reference_seed: int = 0,
    expert_costs_path=None,
) -> None:
    """raw_path: the maze domain's prepare_data output, for the `data_expert` references (None:
    ground truth only); expert_costs_path: the expert_costs stage's output (None: no
    `dp_expert_mean` column)."""
    dphi, _ = load_model(SegmentCostPredictor, dphi_path)
    selector = load_selector(selector_path)
    train = load_split(train_dir, on_bad_sample=on_bad_sample)
    fixed = best_fixed_nested(train.x, levels)
    expert = load_tensors(expert_costs_path)[0] if expert_costs_path is not None else {}
    tables = []
    for split, shard_dir in split_dirs.items():
        data = load_split(shard_dir, on_bad_sample=on_bad_sample)
        refs = {"ground_truth": data.x}
        if raw_path is not None:
            grid = data.occ.shape[-1]
            refs["data_expert"] = data_expert_references(raw_path, split, grid, reference_seed)
        fixed_sources = {"uniform": uniform_nested(len(data), data.T, levels), "best_fixed": fixed}
        if expert:
            fixed_sources[EXPERT_MEAN] = dp_select_levels(
                expert_split_costs(expert, expert_costs_path, split, data), levels
            )
        task = learned_sources(dphi, selector, data.cond, levels, data.T)
        for ref, x in refs.items():
            costs = true_cost_matrix(x)
            truth = dp_select_levels(costs, levels)
            conds = {"task": task}
            if data.domain == "maze2d":
                cond = reference_conditioning(data, x)
                conds["reference"] = learned_sources(dphi, selector, cond, levels, data.T)
            for name, learned in conds.items():
                sel = {**learned, **fixed_sources, "dp_true": truth}
                table = keyframe_costs_table({split: costs}, {split: sel}, levels)
                tables.append(table.assign(reference=ref, conditioning=name))
    table = pd.concat(tables, ignore_index=True)
    cols = ["split", "reference", "conditioning"]
    table = table[cols + [c for c in table.columns if c not in cols]]
    log.info("true interpolation cost of the keyframes:\n%s", table.to_string(index=False))
    for row in table[table["dphi_loses_to_uniform"]].itertuples():
        bound = ""
        if EXPERT_MEAN in table.columns:
            bound = (
                f"; the expert runs' mean cost picks keyframes costing {row.dp_expert_mean:.4g}"
                + (
                    ": no D_phi trained on the data expert's runs beats uniform here"
                    if row.expert_mean_loses_to_uniform
                    else ""
                )
            )
        log.warning(
            "%s level %d (K=%d), %s references, %s conditioning: DP(D_phi) keyframes cost "
            "%.4g, uniform spacing %.4g: D_phi does not beat uniform keyframes%s",
            row.split,
            row.level,
            row.K,
            row.reference,
            row.conditioning,
            row.dp_dphi,
            row.uniform,
            bound,
        )
    for row in table[table["selector_loses_to_uniform"]].itertuples():
        log.warning(
            "%s level %d (K=%d), %s references, %s conditioning: the selector's keyframes cost "
            "%.4g, uniform spacing %.4g, DP(D_phi) %.4g: the selector does not beat uniform "
            "keyframes",
            row.split,
            row.level,
            row.K,
            row.reference,
            row.conditioning,
            row.selector,
            row.uniform,
            row.dp_dphi,
        )
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
