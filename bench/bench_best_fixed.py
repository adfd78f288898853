"""Benchmark the best fixed schedule's mean cost matrix: from the frames' second moments
(`mean_true_cost_matrix`, what `best_fixed_nested` uses) against averaging every sequence's
[T, T] true cost matrix (`true_cost_matrix`, the definition), side by side in one run.

    python bench/bench_best_fixed.py [--n 500 --T 33,128 --levels 6,12,20]

Both get the same random walks (N sequences, 4 features, as a maze state). Printed per T: each
way's time, the ratio, the largest difference between the two mean matrices relative to its
largest entry, and whether the DP over each picks the same nested schedule.
"""

from __future__ import annotations

import argparse

import torch
from timing import best_time

from interdiff_core.selection.dp import dp_select_levels
from interdiff_core.selection.keyframe_eval import mean_true_cost_matrix, true_cost_matrix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="sequences")
    parser.add_argument("--T", type=str, default="33,128", help="comma-separated horizons")
    parser.add_argument("--levels", type=str, default="6,12,20", help="nested K per level")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    levels = [int(k) for k in args.levels.split(",")]
    gen = torch.Generator().manual_seed(args.seed)
    print(f"N={args.n} features=4 levels={levels} threads={torch.get_num_threads()}")
    print(f"{'T':>4} {'per-seq s':>10} {'moments s':>10} {'ratio':>7} {'max rel diff':>13} same")
    for T in (int(t) for t in args.T.split(",")):
        x = torch.randn(args.n, T, 4, generator=gen).cumsum(1)
        slow, ref = best_time(lambda x=x: true_cost_matrix(x).mean(0), args.repeats)
        fast, got = best_time(lambda x=x: mean_true_cost_matrix(x), args.repeats)
        rel = ((got - ref).abs().max() / ref.abs().max()).item()
        picks = [dp_select_levels(m[None], levels) for m in (ref, got)]
        same = all(torch.equal(a, b) for a, b in zip(*picks))
        print(f"{T:>4} {slow:>10.3f} {fast:>10.3f} {slow / fast:>6.0f}x {rel:>13.1e} {same}")


if __name__ == "__main__":
    main()
