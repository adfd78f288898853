"""Planning time per plan, two-phase against the teacher, both timed here side by side.

Runs every planner `sample` builds (`interdiff_core.sample.planners`: the same models called the
same way) on one split of a finished pipeline, best of `--repeats` timed calls each, and prints
wall milliseconds, tokens and network evaluations per plan beside the executed D4RL score that
`episode_metrics` wrote for that planner (so quality and compute come from one run). Then, for
each two-phase setting, the ratio of its compute to the teacher's setting chosen on val and to
the cheapest teacher setting that scores at least as well on the split.

    python bench/bench_sampling.py [--results results/default] [--split test] [--repeats 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch
from timing import best_time

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_tensors
from interdiff_core.sample.planners import Models, build_planners


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results/default")
    ap.add_argument("--run", default="base/seed0", help="variant/seed folder of the models")
    ap.add_argument("--split", default="test", choices=["val", "test"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res, run = Path(args.results), Path(args.results) / args.run
    cfg = load_tensors(run / "samples" / f"{args.split}.safetensors")[1]["config"]
    data = load_split(res / "shards" / args.split)
    data = data.subset(torch.arange(min(cfg["n_samples"], len(data))))
    m = run / "models"
    models = Models.load(
        m / "teacher.safetensors",
        m / "selector.safetensors",
        m / "phase1.safetensors",
        m / "phase2.safetensors",
        cfg["phase2_noise"],
        m / "dphi.safetensors",
    )
    planners = build_planners(models, cfg, data.T, data.cond.shape[1], data.baseline, 0)
    scores = pd.read_csv(run / "eval" / "episodes.csv")
    scores = scores[scores["split"] == args.split].set_index(["method", "steps"])
    rows = []
    with torch.no_grad():
        for p in planners:
            if p.method not in ("teacher", "two_phase", "interp_only"):
                continue
            sec, _ = best_time(lambda p=p: p.plan(data, torch.Generator().manual_seed(0)),
                               args.repeats)  # fmt: skip
            s = scores.loc[(p.method, p.steps)]
            rows.append(dict(method=p.method, steps=p.steps, score=s["score_d4rl"],
                             se=s["score_d4rl_se"], ms=1e3 * sec / len(data), tokens=p.tokens,
                             nfe=p.nfe, chosen_on_val=bool(s["chosen_on_val"])))  # fmt: skip
    t = pd.DataFrame(rows)
    print(f"{args.split}: {len(data)} plans of T = {data.T}, threads {args.threads}, best of "
          f"{args.repeats}; score: executed D4RL score and s.e. (episode_metrics)")  # fmt: skip
    print(t.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    teacher = t[t["method"] == "teacher"]
    ref = teacher[teacher["chosen_on_val"]].iloc[0]
    print(f"\ntwo-phase against teacher@{ref['steps']} (chosen on val, score {ref['score']:.1f}) "
          "and the cheapest teacher scoring at least as well; ratios are teacher / two-phase "
          "(above 1: two-phase is cheaper)")  # fmt: skip
    for r in t[t["method"] == "two_phase"].itertuples():
        line = (f"  two_phase@{r.steps:<3} score {r.score:6.1f}: time x{ref['ms'] / r.ms:5.2f}, "
                f"tokens x{ref['tokens'] / r.tokens:5.2f}")  # fmt: skip
        match = teacher[teacher["score"] >= r.score].sort_values("tokens")
        if len(match):
            mt = match.iloc[0]
            line += (f"; as good: teacher@{mt['steps']}, time x{mt['ms'] / r.ms:.2f}, "
                     f"tokens x{mt['tokens'] / r.tokens:.2f}")  # fmt: skip
        else:
            line += "; no teacher setting scores as well"
        print(line)


if __name__ == "__main__":
    main()
