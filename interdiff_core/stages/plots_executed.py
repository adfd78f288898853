"""plots_executed: executed scores against plan compute, executed trajectories over the maze,
and the table beside the published numbers. Settings are the ones chosen on val."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from interdiff_core.data.maze2d import parse_layout  # noqa: E402
from interdiff_core.envs.pointmaze import cell_to_xy  # noqa: E402
from interdiff_core.io import atomic_path, load_tensors  # noqa: E402
from interdiff_core.stages.episode_metrics import (  # noqa: E402
    LITERATURE,
    VELOCITY_FIXES,
    episode_count,
)

CURVES = [("teacher", "o-"), ("two_phase", "s-"), ("interp_only", "^--"), ("interp_fd", "v:"),
          ("two_phase_fd", "D:")]  # fmt: skip
LEVELS = {"straight_line": "red", "expert": "green", "tracked_reference": "olive", "random": "k"}
PROTOCOL = (
    "ours: MuJoCo PointMaze (gymnasium-robotics v3, D4RL physics), fixed eval goal, random start, "
    "one open-loop plan at t = 0 (first state and goal inpainted when sample.inpaint, as "
    "Diffuser) tracked by a = (p[t+1] - xy) + (v[t+1] - v); plans of T states "
    "`stride` env steps apart (see config); trained on our own expert stream (plus the share "
    "data.rest_episodes of expert episodes started at rest), not D4RL's 1M/2M/4M steps; mean "
    "over the test episodes of one training seed, each episode scored by the mean over its "
    "{plans} plan draw(s), each executed. Published: D4RL maze2d-v1 datasets, H = 128/256/384, "
    "scores as reported."
)


def _save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def _test_with_seconds(table: pd.DataFrame, timing: pd.DataFrame) -> pd.DataFrame:
    test = table[table.split == "test"]
    sec = timing[timing.split == "test"][["method", "steps", "seconds_per_sample"]]
    fixed = [sec[sec.method == plain].assign(method=fd) for fd, plain in VELOCITY_FIXES.items()]
    return test.merge(pd.concat([sec, *fixed]), on=["method", "steps"], how="left")  # same plans


def score_vs_compute(test: pd.DataFrame, path) -> None:
    mazes = sorted(test.maze.unique())
    fig, axes = plt.subplots(len(mazes), 2, figsize=(10, 4 * len(mazes)), squeeze=False)
    for row, maze in zip(axes, mazes):
        t = test[test.maze == maze]
        for ax, x in zip(row, ("tokens", "seconds_per_sample")):
            for method, style in CURVES:
                r = t[t.method == method].sort_values(x)
                ax.errorbar(r[x], r.score_d4rl, yerr=r.score_d4rl_se, fmt=style, label=method)
                for _, p in r.iterrows():
                    ax.annotate(str(int(p.steps)), (p[x], p.score_d4rl), fontsize=7)
            for method, color in LEVELS.items():
                for v in t[t.method == method].score_d4rl:
                    ax.axhline(v, color=color, ls=":", label=method)
            ax.set_xscale("log")
            ax.set_xlabel("tokens per plan" if x == "tokens" else "seconds per plan")
            ax.set_ylabel(f"{maze}: D4RL normalised score (test, ± s.e.)")
        row[0].legend(fontsize=7)
    fig.suptitle("executed score against plan compute (numbers: sampling steps)")
    _save(fig, path)


def _walls(ax, maze: str) -> None:
    walls = parse_layout(maze)
    for i, j in np.argwhere(walls):
        x, y = cell_to_xy(maze, np.array([i, j]))
        ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, color="0.6"))
    h, w = walls.shape
    ax.set_xlim(-w / 2, w / 2)
    ax.set_ylim(-h / 2, h / 2)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def executed_trajectories(t: dict, meta: dict, methods: list[str], n: int, path) -> None:
    """The first n rows (draw 0 of the first n episodes) of an episodes file's tensors."""
    n = min(n, int(meta["n"]))
    fig, axes = plt.subplots(n, len(methods), figsize=(2.6 * len(methods), 2.6 * n), squeeze=False)
    for i in range(n):
        maze = meta["mazes"][int(t["maze_id"][i])]
        for ax, method in zip(axes[i], methods):
            _walls(ax, maze)
            xy = t[f"{method}.xy"][i].numpy()
            xy = xy[np.isfinite(xy).all(axis=1)]
            if f"{method}.plan" in t:
                plan = t[f"{method}.plan"][i].numpy()
                ax.plot(plan[:, 0], plan[:, 1], "--", color="tab:orange", lw=1)
            ax.plot(xy[:, 0], xy[:, 1], "-", color="tab:blue", lw=1.2)
            ax.plot(*xy[0], "o", color="tab:green", ms=4)
            ax.plot(*t["goal_xy"][i].numpy(), "*", color="tab:red", ms=8)
            if i == 0:
                ax.set_title(method, fontsize=8)
    fig.suptitle("test episodes: plan (dashed) and where the ball went (solid)")
    _save(fig, path)


def literature_table(test: pd.DataFrame, plans_per_episode: int = 1) -> pd.DataFrame:
    chosen = test[test.chosen_on_val | test.method.isin(list(LEVELS))]
    rows = [
        dict(method=f"{r.method}@{r.steps}", maze=r.maze, score_d4rl=r.score_d4rl,
             score_d4rl_se=r.score_d4rl_se, success=r.success, tokens=r.tokens,
             seconds_per_plan=r.seconds_per_sample, source="this run (test)")
        for r in chosen.itertuples()
    ]  # fmt: skip
    for name, scores in LITERATURE.items():
        for maze in sorted(test.maze.unique()):
            rows.append(dict(method=name, maze=maze, score_d4rl=scores[maze], source="published"))
    table = pd.DataFrame(rows)
    table["protocol"] = PROTOCOL.format(plans=plans_per_episode)
    return table


def plots_executed(table_csv, timing_csv, episodes_path, out: dict, n_examples: int) -> None:
    table, timing = pd.read_csv(table_csv), pd.read_csv(timing_csv)
    test = _test_with_seconds(table, timing)
    score_vs_compute(test, out["executed"])
    chosen = test[test.chosen_on_val].drop_duplicates("method").sort_values("method")
    keys = [f"{r.method}@{int(r.steps)}" for r in chosen.itertuples()]
    two = next((k for k in keys if k.startswith("two_phase")), None)
    if two is not None:
        keys.append(two.replace("two_phase", "interp_only"))
    methods = [*keys, "straight_line@0", "expert", "tracked_reference"]
    episodes, meta = load_tensors(episodes_path)
    executed_trajectories(episodes, meta, methods, n_examples, out["rollouts"])
    plans = meta["n"] // episode_count(meta)
    with atomic_path(out["literature"]) as tmp:
        literature_table(test, plans).to_csv(tmp, index=False, float_format="%.4g")
