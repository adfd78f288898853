"""eval_keyframes: the true cost of every source of keyframes on val and test, per level
(`keyframe_costs_table`): DP over D_phi's costs, DP over the true cost (an upper bound: it uses
the ground truth), the selector, uniform spacing and the best fixed schedule on train. Warns
when DP(D_phi) does not beat uniform spacing."""

from __future__ import annotations

import logging

from interdiff_core.data.splits import load_split
from interdiff_core.io import atomic_path, load_model
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_nested
from interdiff_core.models.selector import load_selector, select_nested
from interdiff_core.selection.dp import dp_select_levels
from interdiff_core.selection.keyframe_eval import (
    best_fixed_nested,
    keyframe_costs_table,
    true_cost_matrix,
)
from interdiff_core.selection.masks import uniform_nested

log = logging.getLogger(__name__)


def eval_keyframes(
    split_dirs: dict[str, str],
    train_dir,
    dphi_path,
    selector_path,
    out_csv,
    levels: list[int],
    on_bad_sample: str = "error",
) -> None:
    dphi, _ = load_model(SegmentCostPredictor, dphi_path)
    selector = load_selector(selector_path)
    train = load_split(train_dir, on_bad_sample=on_bad_sample)
    fixed = best_fixed_nested(train.x, levels)
    costs, selections = {}, {}
    for split, shard_dir in split_dirs.items():
        data = load_split(shard_dir, on_bad_sample=on_bad_sample)
        costs[split] = true_cost_matrix(data.x)
        selections[split] = {
            "dp_dphi": dphi_nested(dphi, data.cond, levels),
            "dp_true": dp_select_levels(costs[split], levels),
            "selector": select_nested(selector, data.cond, levels, data.T),
            "uniform": uniform_nested(len(data), data.T, levels),
            "best_fixed": fixed,
        }
    table = keyframe_costs_table(costs, selections, levels)
    log.info("true interpolation cost of the keyframes:\n%s", table.to_string(index=False))
    for row in table[table["dphi_loses_to_uniform"]].itertuples():
        log.warning(
            "%s level %d (K=%d): DP(D_phi) keyframes cost %.4g, uniform spacing %.4g: "
            "D_phi does not beat uniform keyframes",
            row.split,
            row.level,
            row.K,
            row.dp_dphi,
            row.uniform,
        )
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
