"""Paired differences between any two arms of finished maze runs, on the same episodes.

The workflow's `eval/paired_seeds.csv` pairs the comparisons each run names (two-phase against
the teacher, interpolation only and the other keyframe sources) and each variant against its
parent arm by arm. A question across two variants that are not parent and child
(uniform_only_plans8's system against plans8's method, both with eight plans per episode; runs
made before `sample.two_phase_keyframes` hold the uniform-only system as `two_phase_uniform@4`), or
across two different arms, is not among them; this pools any such pair over seeds with the
`summarize_runs` stage's own two-stage bootstrap, from the runs' `eval/episodes.csv` and
`episodes/<split>.safetensors`:

    python bench/pair_arms.py --run results/default --seeds 0-2 \\
        --pair uniform_only_plans8:two_phase@val plans8:two_phase@val

An arm is `<variant>:<method>@<steps>`; `@val` takes the steps the run chose on val (as the report
does; interpolation only at two-phase's). Each seed's two runs must have executed the same
episodes (the data expert's per-episode scores agree), or the pair is refused.
"""

from __future__ import annotations

import argparse
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from pool_seeds import run_files, seed_list

from interdiff_core.stages.summarize_runs import pooled_row, run_episodes, val_chosen_key


def arm_key(arm: str, chosen: dict[str, int]) -> str:
    """`two_phase@val` -> `two_phase@<the run's val-chosen steps>`; other keys as given."""
    method, _, steps = arm.partition("@")
    if steps != "val":
        return arm
    try:
        return val_chosen_key(method, chosen)
    except KeyError:
        known = sorted(chosen)
        raise ValueError(f"{arm}: @val names the steps chosen on val for {known}") from None


@cache
def episodes_of(run: Path, variant: str, seed: int) -> tuple[dict, dict]:
    """A run's per-episode values and val-chosen steps, read once however many arms use them."""
    return run_episodes(run_files(run, variant, seed))


def arm_values(run: Path, arm: str, seed: int, split: str, metric: str, maze: str | None):
    """One arm's per-episode values in one seed and split (on `maze`, or the run's one maze),
    and the data expert's (the episodes' fingerprint)."""
    variant, _, key = arm.partition(":")
    if not variant or "@" not in key:
        raise ValueError(f"arm {arm!r}: expected variant:method@steps (steps may be val)")
    values, chosen = episodes_of(run, variant, seed)
    mazes = sorted({mz for mz, _ in values[split]})
    if (maze is None and len(mazes) > 1) or (maze is not None and maze not in mazes):
        raise ValueError(f"{variant} seed {seed} ran mazes {mazes}: name one with --maze")
    maze = maze or mazes[0]
    key = arm_key(key, chosen)
    if (maze, key) not in values[split]:
        known = sorted(k for mz, k in values[split] if mz == maze)
        raise ValueError(f"{variant} seed {seed}: no arm {key!r} on {split}; known: {known}")
    return values[split][(maze, key)][metric], values[split][(maze, "expert")]["score_d4rl"]


def pair_rows(run: Path, seeds: list[int], pairs: list[tuple[str, str]], metric: str,
              n_boot: int, boot_seed: int, maze: str | None = None) -> pd.DataFrame:  # fmt: skip
    rows = []
    for split in ("val", "test"):
        for a, b in pairs:
            diffs, means = [], []
            for seed in seeds:
                (xa, ea), (xb, eb) = (
                    arm_values(run, arm, seed, split, metric, maze) for arm in (a, b)
                )
                if not np.array_equal(ea, eb):
                    raise ValueError(f"{a} and {b}, seed {seed}, {split}: not the same episodes")
                diffs.append(xa - xb)
                means.append((float(xa.mean()), float(xb.mean())))
            mean_a, mean_b = np.mean(means, axis=0)
            rows.append(pooled_row(diffs, n_boot, boot_seed, split=split, a=a, b=b, metric=metric,
                                   mean_a=mean_a, mean_b=mean_b))  # fmt: skip
    return pd.DataFrame(rows)


def arm_pairs_parser(doc: str) -> argparse.ArgumentParser:
    """The options of a bench that pairs arms of a finished run over seeds (this one's and
    `return_split.py`'s): --run, --seeds, --pair A B (repeatable), --bootstrap, --boot-seed."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="run.results of a maze run")
    p.add_argument("--seeds", type=seed_list, required=True, help="e.g. 0-2 or 0,2,4")
    p.add_argument("--pair", nargs=2, action="append", required=True, metavar=("A", "B"),
                   help="two arms, variant:method@steps (steps may be val); A − B")  # fmt: skip
    p.add_argument("--bootstrap", type=int, default=2000, help="resamples (evaluate.bootstrap)")
    p.add_argument("--boot-seed", type=int, default=0, help="the bootstrap's seed (run.seed)")
    return p


def main() -> None:
    p = arm_pairs_parser(__doc__)
    p.add_argument("--metric", default="score_d4rl", choices=["score_d4rl", "success", "score"])
    p.add_argument("--maze", help="the maze, where the runs ran several (data.mazes)")
    p.add_argument("--out", type=Path, help="also write the rows to this CSV")
    args = p.parse_args()
    try:
        table = pair_rows(args.run, args.seeds, args.pair, args.metric, args.bootstrap,
                          args.boot_seed, args.maze)  # fmt: skip
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"pair_arms: {err}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:+.2f}"))
    if args.out:
        table.to_csv(args.out, index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
