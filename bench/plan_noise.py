"""How much of a paired executed-score difference is plan noise: from a variant run with
`sample.plans_per_episode = k > 1`, the per-draw difference a − b (D4RL score) of every episode
split into its variance between draws of the same episode (the plans' noise) and the rest (the
episode), then what that leaves of the s.e. of one seed's mean difference at 1 and k draws, and
the spread of the seeds' means against it (a spread beyond the s.e. is the models' own).

    python bench/plan_noise.py results/medium_cpu budget2x_plans8 \
        two_phase@4 two_phase_uniform@4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from interdiff_core.stages.episode_metrics import episode_count, split_values


def draw_differences(episodes_path, a: str, b: str) -> np.ndarray:
    """[k, n] per-draw D4RL score difference a − b (one maze per run, as the maze configs)."""
    values, meta = split_values(episodes_path, per_draw=True)
    (maze,) = {m for m, _ in values}
    if (maze, a) not in values or (maze, b) not in values:
        raise SystemExit(f"{episodes_path}: needs methods {a!r} and {b!r}; has {meta['methods']}")
    diff = values[(maze, a)]["score_d4rl"] - values[(maze, b)]["score_d4rl"]
    return diff.reshape(-1, episode_count(meta))  # row j * n + i: draw j of episode i


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("variant")
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args()
    runs = sorted((args.results / args.variant).glob("seed*"), key=lambda p: int(p.name[4:]))
    print(f"{args.a} − {args.b}, {args.variant}, {len(runs)} seed(s)")
    for split in ("val", "test"):
        paths = [r / "episodes" / f"{split}.safetensors" for r in runs]
        d = [draw_differences(p, args.a, args.b) for p in paths]
        k, n = d[0].shape
        if k < 2:
            raise SystemExit(f"{args.variant}: one plan per episode; needs plans_per_episode > 1")
        within = np.mean([x.var(axis=0, ddof=1).mean() for x in d])  # between draws
        total = np.mean([x.var(ddof=1) for x in d])  # one draw of one episode
        se1, sek = np.sqrt(total / n), np.sqrt((total - within + within / k) / n)
        means = np.array([x.mean() for x in d])
        spread = f", sd {means.std(ddof=1):.1f}" if len(d) > 1 else ""
        print(
            f"{split:4s} k={k} n={n}: plan noise {within / total:.0%} of one draw's variance; "
            f"one seed's s.e. {se1:.1f} (1 draw) -> {sek:.1f} ({k} draws); "
            f"seeds' means {np.round(means, 1).tolist()}{spread}"
        )


if __name__ == "__main__":
    main()
