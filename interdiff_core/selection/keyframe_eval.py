"""Keyframe sets judged by what they cost: the true interpolation error (Σ of squared LERP
error between consecutive keyframes against the ground truth, over every frame), per split and
level, for every source of keyframes side by side with its trivial replacements."""

from __future__ import annotations

import pandas as pd
import torch

from interdiff_core.metrics.stats import mean_se
from interdiff_core.selection.costs import oracle_cost_matrix
from interdiff_core.selection.dp import dp_select_levels, path_cost

# source -> what the column means; `dp_true` uses the ground truth: an upper bound, not a method
SOURCES = {
    "dp_dphi": "DP over D_phi's predicted costs",
    "dp_true": "DP over the true cost (ground truth: upper bound)",
    "selector": "the selector",
    "uniform": "uniform spacing",
    "best_fixed": "the single nested schedule with the lowest mean true cost on train",
}
# optional (mazes): DP over the mean true cost of the data expert's runs of each task, the pick of
# a perfect D_phi of the training distribution (simulator and evaluation tasks: a bound)
EXPERT_MEAN = "dp_expert_mean"


def true_cost_matrix(x: torch.Tensor, chunk: int = 128) -> torch.Tensor:
    """[N, T, T] true segment costs of sequences x [N, T, *F] (features flattened)."""
    x = x.flatten(2)
    return torch.cat([oracle_cost_matrix(x[s : s + chunk]) for s in range(0, len(x), chunk)])


def mean_true_cost_matrix(x: torch.Tensor) -> torch.Tensor:
    """[T, T] mean over sequences x [N, T, *F] of the true segment costs (`true_cost_matrix`),
    exactly, from the frames' second moments: each interior error x_t − (1−a) x_i − a x_j is
    linear in x, so its mean square needs only M = E[x_u · x_v] ([T, T]), never all [N, T, T]."""
    x = x.flatten(2).double()
    T = x.shape[1]
    M = torch.einsum("ntd,nsd->ts", x, x) / len(x)
    d = M.diagonal()
    j, t = torch.meshgrid(torch.arange(T), torch.arange(T), indexing="ij")
    out = torch.zeros(T, T, dtype=torch.float64)
    for i in range(T - 2):  # one start frame at a time: [T, T] over (end j, interior frame t)
        inside = (i < t) & (t < j)
        a = torch.where(inside, (t - i) / (j - i).clamp(min=1), 0.0).double()
        b = 1 - a
        sq = (
            d[t] + b**2 * d[i] + a**2 * d[j]
            - 2 * b * M[t, i] - 2 * a * M[t, j] + 2 * a * b * M[i, j]
        )  # fmt: skip
        out[i] = (sq * inside).sum(-1)
    return out.float()


def best_fixed_nested(train_x: torch.Tensor, levels: list[int]) -> list[torch.Tensor]:
    """The nested schedule (one index set per level, `[1, K_s]`) with the lowest mean true cost
    over the training sequences: costs are additive, so the DP over the mean cost matrix finds
    it exactly (level 0 exactly, finer levels the best supersets)."""
    return dp_select_levels(mean_true_cost_matrix(train_x)[None], levels)


def keyframe_costs_table(
    true_costs: dict[str, torch.Tensor],
    selections: dict[str, dict[str, list[torch.Tensor]]],
    levels: list[int],
) -> pd.DataFrame:
    """One row per split and level: mean ± s.e. of the true cost of each source's keyframes,
    the paired differences DP(D_phi) − uniform and selector − uniform with their s.e., and the
    flags `dphi_loses_to_uniform`, `selector_loses_to_uniform`; with the optional `EXPERT_MEAN`
    source, the same difference and flag for it.

    true_costs: split -> [N, T, T] true segment costs; selections: split -> source (keys of
    `SOURCES`, optionally `EXPERT_MEAN`) -> one `[N or 1, K_s]` index tensor per level (a single
    row is broadcast)."""
    rows = []
    for split, costs in true_costs.items():
        N = costs.shape[0]
        names = [*SOURCES, *[EXPERT_MEAN] * (EXPERT_MEAN in selections[split])]
        for s, K in enumerate(levels):
            row: dict = {"split": split, "level": s, "K": K, "n": N}
            per = {}
            for name in names:
                idx = selections[split][name][s].expand(N, -1)
                per[name] = path_cost(costs, idx)
                row[name], row[f"{name}_se"] = mean_se(per[name])
            for name, short in [
                ("dp_dphi", "dphi"),
                ("selector", "selector"),
                (EXPERT_MEAN, "expert_mean"),
            ]:
                if name in per:
                    diff = per[name] - per["uniform"]
                    row[f"{short}_minus_uniform"], row[f"{short}_minus_uniform_se"] = mean_se(diff)
                    row[f"{short}_loses_to_uniform"] = bool(row[name] >= row["uniform"])
            rows.append(row)
    return pd.DataFrame(rows)
