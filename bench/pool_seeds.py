"""The `summarize_runs` stage's two tables for any variants and seeds found in a results folder.

The workflow pools the variants and seeds of the config it runs into `eval/summary.csv` and
`eval/paired_seeds.csv`; runs made under different config layers (more seeds for one variant, a
variant of another config file) share a results folder but not one summary. This calls the
stage's own functions on the finished runs named here, reading only their `eval/episodes.csv`
and `episodes/<split>.safetensors`, and writes both tables to --out (the results folder's own
are left alone).

    python bench/pool_seeds.py --run results/medium_cpu --variants dphi_tasks4x_plans8 \\
        --seeds 0-9 --out results/medium_cpu/pooled
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from interdiff_core.stages.summarize_runs import paired_across_seeds, summarize_runs


def seed_list(text: str) -> list[int]:
    """'0-9' or '0,1,5' (or both: '0-3,7')."""
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += range(int(lo), int(hi or lo) + 1)
    return seeds


def run_files(run: Path, variant: str, seed: int) -> dict[str, Path]:
    folder = run / variant / f"seed{seed}"
    files = {
        "table": folder / "eval" / "episodes.csv",
        "val": folder / "episodes" / "val.safetensors",
        "test": folder / "episodes" / "test.safetensors",
    }
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; run the workflow for {variant}, seed {seed}")
    return files


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="run.results of a maze run")
    p.add_argument("--variants", nargs="+", required=True)
    p.add_argument("--seeds", type=seed_list, required=True, help="e.g. 0-9 or 0,2,4")
    p.add_argument("--parents", nargs="*", default=[], metavar="VARIANT=PARENT",
                   help="pair a variant's val-chosen rows with this variant's (default base, "
                        "where base is among --variants)")  # fmt: skip
    p.add_argument("--bootstrap", type=int, default=2000, help="resamples (evaluate.bootstrap)")
    p.add_argument("--boot-seed", type=int, default=0, help="the bootstrap's seed (run.seed)")
    p.add_argument("--out", type=Path, required=True, help="folder for the two tables")
    args = p.parse_args()
    parents = dict(pair.split("=", 1) for pair in args.parents)
    try:
        runs = {(v, s): run_files(args.run, v, s) for v in args.variants for s in args.seeds}
    except FileNotFoundError as err:
        p.error(str(err))
    args.out.mkdir(parents=True, exist_ok=True)
    summarize_runs({k: f["table"] for k, f in runs.items()}, {}, args.out / "summary.csv")
    table = paired_across_seeds(
        runs, args.bootstrap, args.boot_seed, args.out / "paired_seeds.csv", parents
    )
    pd.set_option("display.width", 200)
    print(table.round(3).to_string(index=False))
    print(f"wrote {args.out}/summary.csv and paired_seeds.csv")


if __name__ == "__main__":
    main()
