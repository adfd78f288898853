"""Where a difference in executed return comes from: arriving sooner, or staying at the goal.

The sparse return the D4RL score normalises counts the steps within the reward radius (0.5) of
the goal among an episode's steps, so on every executed plan

    return = (steps − arrival) − (steps outside the radius after the first arrival)

with `arrival` the first step within the radius (`steps` if none). For pairs of arms of
finished maze runs on the same episodes this prints the paired difference A − B in return, in
−arrival and in −(steps outside after arrival) (the two add up to the first), each episode the
mean of its plans, pooled over seeds with `summarize_runs`' two-stage bootstrap; and each arm's
planned arrival (the first planned state within the radius, in env steps) and planned speed over
the plan's last quarter (mean |v|, world units), from the plans the runs executed:

    python bench/return_split.py --run results/default --seeds 1-2 \\
        --pair uniform_only_plans8:two_phase@4 uniform_only_plans8:interp_only@4

Arms are named as `pair_arms.py` names them (`variant:method@steps`, steps may be `val`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from pair_arms import arm_key, arm_pairs_parser, episodes_of

from interdiff_core.envs.pointmaze import D4RL_RADIUS
from interdiff_core.io import load_tensors
from interdiff_core.stages.episode_metrics import episode_means
from interdiff_core.stages.summarize_runs import pooled_row


def plan_terms(episodes: dict, key: str, stride: int) -> dict[str, np.ndarray]:
    """Per executed plan of arm `key`: return, arrival, steps outside after arrival, planned
    arrival (env steps) and planned end speed."""
    inside = episodes[f"{key}.dist"].numpy() <= D4RL_RADIUS
    steps = inside.shape[1]
    arrived = inside.any(axis=1)
    arrival = np.where(arrived, inside.argmax(axis=1), steps)
    after = np.arange(steps)[None] >= arrival[:, None]
    plan = episodes[f"{key}.plan"].numpy()
    goal = episodes["goal_xy"].numpy()[:, None]
    near = np.linalg.norm(plan[..., :2] - goal, axis=-1) <= D4RL_RADIUS
    T = plan.shape[1]
    return {
        "return": inside.sum(axis=1).astype(float),
        "arrival": arrival.astype(float),
        "outside_after": (after & ~inside).sum(axis=1).astype(float),
        "plan_arrival": np.where(near.any(axis=1), near.argmax(axis=1), T) * float(stride),
        "plan_end_speed": np.linalg.norm(plan[:, -(T // 4) :, 2:], axis=-1).mean(axis=1),
    }


def per_episode(run: Path, arm: str, seed: int, split: str) -> dict[str, np.ndarray]:
    """An arm's terms per episode (the mean over its plans), episodes in the runs' order."""
    variant, _, key = arm.partition(":")
    _, chosen = episodes_of(run, variant, seed)
    key = arm_key(key, chosen)
    folder = run / variant / f"seed{seed}"
    episodes, _ = load_tensors(folder / "episodes" / f"{split}.safetensors")
    if f"{key}.dist" not in episodes:
        raise ValueError(f"{folder}: no executed arm {key!r} on {split}")
    stride = int(load_tensors(run / "data" / "raw.safetensors")[1]["stride"])
    terms = plan_terms(episodes, key, stride)
    terms["expert_return"] = (episodes["expert.dist"].numpy() <= D4RL_RADIUS).sum(1).astype(float)
    return episode_means(terms, episodes["episode"].numpy())


def split_rows(run: Path, seeds: list[int], pairs: list[tuple[str, str]], n_boot: int,
               boot_seed: int) -> pd.DataFrame:  # fmt: skip
    rows = []
    for split in ("val", "test"):
        for a, b in pairs:
            per_seed = []
            for seed in seeds:
                ta, tb = per_episode(run, a, seed, split), per_episode(run, b, seed, split)
                if not np.array_equal(ta["expert_return"], tb["expert_return"]):
                    raise ValueError(f"{a} and {b}, seed {seed}, {split}: not the same episodes")
                per_seed.append((ta, tb))
            row = {"split": split, "a": a, "b": b}
            for term, sign in (("return", 1), ("arrival", -1), ("outside_after", -1)):
                diffs = [sign * (ta[term] - tb[term]) for ta, tb in per_seed]
                pooled = pooled_row(diffs, n_boot, boot_seed)
                name = {"return": "d_return", "arrival": "d_-arrival"}.get(term, "d_-outside")
                row[name] = pooled["diff"]
                row[f"{name}_ci"] = f"[{pooled['ci_lo']:+.1f}, {pooled['ci_hi']:+.1f}]"
            for term in ("arrival", "plan_arrival", "plan_end_speed"):
                for side, which in (("a", 0), ("b", 1)):
                    row[f"{term}_{side}"] = np.mean([p[which][term].mean() for p in per_seed])
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    args = arm_pairs_parser(__doc__).parse_args()
    try:
        table = split_rows(args.run, args.seeds, args.pair, args.bootstrap, args.boot_seed)
    except (FileNotFoundError, ValueError, KeyError) as err:
        sys.exit(f"return_split: {err}")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda v: f"{v:+.2f}"))


if __name__ == "__main__":
    main()
