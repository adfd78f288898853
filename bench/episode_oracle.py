"""Is there a per-episode keyframe choice to learn? From runs with `sample.plans_per_episode` =
k > 1, each episode's plan draws are split in two halves; on one half an oracle picks, episode by
episode, the keyframe source whose plans scored best, and it is scored on the other half (both
ways round, averaged). A selector that knew, from the conditioning alone, which source suits an
episode could gain at most about this over uniform keyframes. Chosen on the draws it is scored
on, the oracle's gain is mostly plan noise; chosen on the other half it has none (the halves'
noise is independent), so a cross-fitted gain above zero is per-episode signal:

    python bench/episode_oracle.py --run results/default --variant plans8 --seeds 0-2

Rows, each a difference against the uniform arm on the held-out half, pooled over seeds with
`summarize_runs`' two-stage bootstrap: `oracle_all` (any two-phase source at the steps),
`oracle_pair` (the learned source or uniform, episode by episode), `best_arm` (one source for
every episode, the best on the choosing half: no per-episode choice), and `in_sample` (the
all-source oracle chosen and scored on every draw: what noise alone makes of a choice).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from pool_seeds import seed_list

from interdiff_core.stages.episode_metrics import split_values
from interdiff_core.stages.summarize_runs import pooled_row


def draws(path: Path, steps: int) -> tuple[dict[str, np.ndarray], int]:
    """{two-phase method: [k, n] D4RL scores} at `steps` (one maze per run), and k."""
    values, meta = split_values(path, per_draw=True)
    (maze,) = {m for m, _ in values}
    n = meta.get("episodes", meta["n"])
    arms = {
        method: values[(maze, method)]["score_d4rl"].reshape(-1, n)
        for (_, method) in values
        if method.startswith("two_phase") and method.endswith(f"@{steps}")
    }
    k = next(iter(arms.values())).shape[0]
    if k < 2:
        raise ValueError(f"{path}: one plan per episode; needs sample.plans_per_episode > 1")
    return arms, k


def oracle_gains(arms: dict[str, np.ndarray], uniform: str, learned: str) -> dict[str, np.ndarray]:
    """Per-episode gain over `uniform` of each chooser, cross-fitted over the two halves."""
    for name in (uniform, learned):
        if name not in arms:
            raise ValueError(f"no arm {name!r}; the run has {sorted(arms)}")
    names = sorted(arms)
    x = np.stack([arms[a] for a in names])  # [arms, k, n]
    k = x.shape[1]
    halves = (np.arange(k) < k // 2, np.arange(k) >= k // 2)
    pair = np.array([names.index(learned), names.index(uniform)])
    u = names.index(uniform)
    gains = {"oracle_all": [], "oracle_pair": [], "best_arm": []}
    for choose, score in (halves, halves[::-1]):
        pick, held = x[:, choose].mean(axis=1), x[:, score].mean(axis=1)  # [arms, n]
        episodes = np.arange(pick.shape[1])
        base = held[u]
        gains["oracle_all"].append(held[pick.argmax(axis=0), episodes] - base)
        gains["oracle_pair"].append(held[pair[pick[pair].argmax(axis=0)], episodes] - base)
        gains["best_arm"].append(held[pick.mean(axis=1).argmax()] - base)
    out = {name: np.mean(g, axis=0) for name, g in gains.items()}
    every = x.mean(axis=1)
    out["in_sample"] = every.max(axis=0) - every[u]
    return out


def picks(arms: dict[str, np.ndarray]) -> pd.Series:
    """How often each arm is the best on the first half of the draws, over episodes."""
    names = sorted(arms)
    k = arms[names[0]].shape[0]
    first = np.stack([arms[a][: k // 2].mean(axis=0) for a in names])
    return pd.Series(np.bincount(first.argmax(axis=0), minlength=len(names)), index=names)


def oracle_rows(run: Path, variant: str, seeds: list[int], steps: int, uniform: str,
                learned: str, n_boot: int, boot_seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    rows, counts = [], []
    for split in ("val", "test"):
        per_seed = []
        for seed in seeds:
            path = run / variant / f"seed{seed}" / "episodes" / f"{split}.safetensors"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: missing; run the workflow for {variant}")
            arms, k = draws(path, steps)
            per_seed.append(oracle_gains(arms, uniform, learned))
            counts.append(picks(arms).rename(f"{split} seed {seed}"))
        for name in per_seed[0]:
            rows.append(pooled_row([g[name] for g in per_seed], n_boot, boot_seed, split=split,
                                   chooser=name, k=k))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(counts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="run.results of a maze run")
    p.add_argument("--variant", required=True, help="a variant run with plans_per_episode > 1")
    p.add_argument("--seeds", type=seed_list, required=True, help="e.g. 0-2 or 0,2,4")
    p.add_argument("--steps", type=int, default=4, help="phase-1 steps of the arms compared")
    p.add_argument("--uniform", default="two_phase_uniform@4", help="the arm to beat")
    p.add_argument("--learned", default="two_phase@4", help="the learned source of oracle_pair")
    p.add_argument("--bootstrap", type=int, default=2000, help="resamples (evaluate.bootstrap)")
    p.add_argument("--boot-seed", type=int, default=0, help="the bootstrap's seed (run.seed)")
    args = p.parse_args()
    try:
        table, counts = oracle_rows(args.run, args.variant, args.seeds, args.steps, args.uniform,
                                    args.learned, args.bootstrap, args.boot_seed)  # fmt: skip
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"episode_oracle: {err}")
    print(f"{args.variant}, seeds {args.seeds}: gain over {args.uniform} on held-out draws")
    print(table.to_string(index=False, float_format=lambda v: f"{v:+.2f}"))
    print("\nepisodes on which each arm is best on the first half of the draws")
    print(counts.to_string())


if __name__ == "__main__":
    main()
