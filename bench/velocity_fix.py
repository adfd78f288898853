"""Phase-2 against a stronger trivial replacement: interpolation whose velocities follow its
positions.

An interpolated plan's velocities are the line between its keyframes' velocities, not the rate
its positions change at, and the tracker (`a = (p* − xy) + (v* − v)`) follows both. This takes
the plans a finished maze run executed (`episodes/<split>.safetensors`, world units), sets each
planned state's velocity to the central difference of the planned positions, (p[k+1] − p[k−1]) /
(2 · stride · dt) (one-sided at the ends), and executes them again on the same episodes with the
run's tracker; nothing is sampled or retrained. An arm re-executed unchanged must reproduce the
run's saved distances exactly (checked on every seed and split before any fixed arm runs).

    python bench/velocity_fix.py --run results/default --variants uniform_only_plans8 \\
        --seeds 1-2

Prints, pooled over seeds with `summarize_runs`' two-stage bootstrap (D4RL points): the fixed
interpolation against interpolation and against two-phase, and the fixed two-phase against
two-phase, at phase-1 @`--steps` and at the steps each run chose on val.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from pair_arms import arm_key, episodes_of
from pool_seeds import seed_list

from interdiff_core.envs.episodes import plan_policy, run_episode
from interdiff_core.envs.pointmaze import D4RL_RADIUS, D4RL_REF, EPISODE_STEPS, make_env
from interdiff_core.io import load_tensors
from interdiff_core.metrics.episodes import normalised_score, returns
from interdiff_core.stages.episode_metrics import episode_means
from interdiff_core.stages.execute import with_position_velocities
from interdiff_core.stages.summarize_runs import pooled_row


def execute_plans(plans: np.ndarray, start_xy, goal_xy, maze: str, stride: int) -> np.ndarray:
    """[N, steps] distance to the goal of each plan executed from its episode's start."""
    steps = EPISODE_STEPS[maze]
    env = make_env(maze, steps)
    try:
        return np.stack([
            run_episode(env, plan_policy(plan[:, :2], plan[:, 2:], stride), steps, s, g)["dist"]
            for plan, s, g in zip(plans, start_xy, goal_xy, strict=True)
        ])  # fmt: skip
    finally:
        env.close()


def scores(dist: np.ndarray, episode: np.ndarray, maze: str) -> np.ndarray:
    """Per-episode D4RL score (the mean over the episode's plans), as `episode_metrics` scores."""
    score = normalised_score(returns(dist, D4RL_RADIUS), *D4RL_REF[maze])
    return episode_means({"score": score}, episode)["score"]


def seed_arms(
    run: Path, variant: str, seed: int, split: str, steps: int, methods=("interp_only", "two_phase")
) -> dict[str, np.ndarray]:
    """Per-episode scores of `methods` at `steps` and at the val choice, each as the run executed
    it and with position velocities (`_fd`)."""
    folder = run / variant / f"seed{seed}"
    episodes, meta = load_tensors(folder / "episodes" / f"{split}.safetensors")
    if len(meta["mazes"]) != 1:
        raise ValueError(f"{folder}: ran mazes {meta['mazes']}; this bench takes one")
    maze = meta["mazes"][0]
    stride = int(load_tensors(run / "data" / "raw.safetensors")[1]["stride"])
    episode, goal_xy = episodes["episode"].numpy(), episodes["goal_xy"].numpy()
    _, chosen = episodes_of(run, variant, seed)
    out = {}
    for at in (f"@{steps}", "@val"):
        for method in methods:
            key = arm_key(f"{method}{at}", chosen)
            plan = episodes[f"{key}.plan"].numpy()
            start_xy = episodes[f"{key}.xy"].numpy()[:, 0]
            saved = episodes[f"{key}.dist"].numpy()
            if method == methods[0] and at == f"@{steps}":  # the tracker reproduces the run
                again = execute_plans(plan[:16], start_xy[:16], goal_xy[:16], maze, stride)
                if not np.array_equal(again, saved[:16]):
                    raise ValueError(f"{folder} {split} {key}: re-executed plans differ")
            fixed = with_position_velocities(plan, stride)
            dist = execute_plans(fixed, start_xy, goal_xy, maze, stride)
            out[f"{method}{at}"] = scores(saved, episode, maze)
            out[f"{method}_fd{at}"] = scores(dist, episode, maze)
    return out


ROWS = (("interp_only_fd", "interp_only"), ("two_phase", "interp_only_fd"),
        ("two_phase_fd", "two_phase"), ("two_phase", "interp_only"),
        ("two_phase_fd", "interp_only_fd"))  # fmt: skip


def rows_of(methods: list[str]) -> list[tuple[str, str]]:
    """The planned rows for interpolation and two-phase; each other method's fix against it."""
    rows = [r for r in ROWS if {r[0].removesuffix("_fd"), r[1].removesuffix("_fd")} <= set(methods)]
    return rows + [(f"{m}_fd", m) for m in methods if m not in ("interp_only", "two_phase")]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="run.results of a maze run")
    p.add_argument("--variants", nargs="+", required=True)
    p.add_argument("--seeds", type=seed_list, required=True, help="e.g. 0-2 or 0,2,4")
    p.add_argument("--steps", type=int, default=4, help="phase-1 steps of the fixed-steps rows")
    p.add_argument("--methods", nargs="+", default=["interp_only", "two_phase"],
                   help="methods as the run names them (@val: each its own choice)")  # fmt: skip
    p.add_argument("--bootstrap", type=int, default=2000)
    p.add_argument("--boot-seed", type=int, default=0)
    args = p.parse_args()
    rows = []
    try:
        for variant in args.variants:
            for split in ("val", "test"):
                per_seed = [seed_arms(args.run, variant, s, split, args.steps, args.methods)
                            for s in args.seeds]  # fmt: skip
                for at in (f"@{args.steps}", "@val"):
                    for a, b in rows_of(args.methods):
                        diffs = [arms[a + at] - arms[b + at] for arms in per_seed]
                        means = [float(np.mean([arms[x + at].mean() for arms in per_seed]))
                                 for x in (a, b)]  # fmt: skip
                        rows.append(pooled_row(diffs, args.bootstrap, args.boot_seed,
                                               variant=variant, split=split, a=a + at, b=b + at,
                                               mean_a=means[0], mean_b=means[1]))  # fmt: skip
                print(f"{variant} {split}: done", file=sys.stderr, flush=True)
    except (FileNotFoundError, ValueError, KeyError) as err:
        sys.exit(f"velocity_fix: {err}")
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda v: f"{v:+.2f}"))


if __name__ == "__main__":
    main()
