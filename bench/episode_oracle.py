"""Is there a per-episode keyframe choice to learn? From runs with `sample.plans_per_episode` =
k > 1, each episode's plan draws are split in two halves; on one half an oracle picks, episode by
episode, the keyframe source whose plans scored best, and it is scored on the other half (both
ways round, averaged): a yardstick for how much a selector that knew which source suits an
episode could gain over uniform keyframes (not a bound: four draws choose noisily). Chosen on
the draws it is scored on, the oracle's gain is mostly plan noise; chosen on the other half it
has none (the halves' noise is independent), so a cross-fitted gain above zero is per-episode
signal:

    python bench/episode_oracle.py --run results/default --variant plans8 --seeds 0-2

Rows, each a difference against the uniform arm on the held-out half, pooled over seeds with
`summarize_runs`' two-stage bootstrap: `oracle_all` (any two-phase source at the steps),
`oracle_pair` (the learned source or uniform, episode by episode), `best_arm` (one source for
every episode, the best on the choosing half: no per-episode choice), `oracle_all_minus_best_arm`
(what the per-episode choice adds to the best single source), `in_sample` (the all-source oracle
chosen and scored on every draw: what noise alone makes of a choice), and with several seeds the
`task_*` rows: the same choices made on the other seeds' models (what of it is the task's).
With `--router K`, a chooser a practitioner could deploy: fit on val's executions of the same
models (each test episode takes the source best on its K nearest val tasks), scored on test
(`val_router`), beside the one source best on val (`val_best_arm`); `--versus V` adds the router
minus variant V's uniform arm on the same test episodes (a system trained for uniform keyframes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from pool_seeds import seed_list

from interdiff_core.io import load_tensors
from interdiff_core.sample.planners import KEYFRAME_SOURCES, source_method
from interdiff_core.stages.episode_metrics import episode_count, split_values
from interdiff_core.stages.summarize_runs import pooled_row


def draws(folder: Path, split: str, steps: int, drop: tuple[str, ...] = ()):
    """{keyframe source: [k, n] D4RL scores of its two-phase arm at `steps`} of one run (one
    maze; the arms named as the `sample` stage named them), k, and the data expert's per-episode
    scores (the episodes' fingerprint)."""
    path = folder / "episodes" / f"{split}.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; run the workflow for this variant and seed")
    values, meta = split_values(path, per_draw=True)
    sample_cfg = load_tensors(folder / "samples" / f"{split}.safetensors")[1]["config"]
    mazes = sorted({m for m, _ in values})
    if len(mazes) != 1:
        raise ValueError(f"{path}: ran mazes {mazes}; the oracle reads one-maze runs")
    maze, n = mazes[0], episode_count(meta)
    arms = {}
    for source in KEYFRAME_SOURCES:
        key = (maze, f"{source_method('two_phase', source, sample_cfg)}@{steps}")
        if key in values and source not in drop:
            arms[source] = values[key]["score_d4rl"].reshape(-1, n)
    if not arms:
        raise ValueError(f"{path}: no two-phase arm at phase-1 steps {steps} (--steps)")
    k = next(iter(arms.values())).shape[0]
    if k < 2:
        raise ValueError(f"{path}: one plan per episode; needs sample.plans_per_episode > 1")
    return arms, k, values[(maze, "expert")]["score_d4rl"]


def order(arms: dict, uniform: str = "uniform") -> list[str]:
    """The sources, uniform first: where sources tie on the choosing draws (scores saturate at
    the goal), every chooser keeps the trivial replacement."""
    return [uniform, *sorted(a for a in arms if a != uniform)]


def oracle_gains(arms: dict[str, np.ndarray], uniform: str, learned: str) -> dict[str, np.ndarray]:
    """Per-episode gain over `uniform` of each chooser, cross-fitted over the two halves."""
    for name in (uniform, learned):
        if name not in arms:
            raise ValueError(f"no arm {name!r}; the run has {sorted(arms)}")
    names = order(arms, uniform)
    x = np.stack([arms[a] for a in names])  # [arms, k, n]
    k = x.shape[1]
    halves = (np.arange(k) < k // 2, np.arange(k) >= k // 2)
    pair = np.array([names.index(uniform), names.index(learned)])
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
    out["oracle_all_minus_best_arm"] = out["oracle_all"] - out["best_arm"]
    every = x.mean(axis=1)
    out["in_sample"] = every.max(axis=0) - every[u]
    return out


def picks(arms: dict[str, np.ndarray]) -> pd.Series:
    """How often each arm is the best on the first half of the draws, over episodes."""
    names = order(arms)
    k = arms[names[0]].shape[0]
    first = np.stack([arms[a][: k // 2].mean(axis=0) for a in names])
    return pd.Series(np.bincount(first.argmax(axis=0), minlength=len(names)), index=names)


def across_seeds(per_seed: list[dict[str, np.ndarray]], uniform: str) -> list[dict]:
    """Per seed, the per-episode choice made on the *other* seeds' draws of the same episodes
    (other models): gain over `uniform` of that choice and of the best single source there. What
    survives a change of models is a property of the task, which the conditioning holds."""
    names = order(per_seed[0], uniform)
    means = np.stack([np.stack([arms[a].mean(axis=0) for a in names]) for arms in per_seed])
    u = names.index(uniform)
    out = []
    for s, held in enumerate(means):  # [arms, n]
        pick = np.delete(means, s, axis=0).mean(axis=0)
        task = held[pick.argmax(axis=0), np.arange(held.shape[1])] - held[u]
        best = held[pick.mean(axis=1).argmax()] - held[u]
        out.append(
            {"task_oracle": task, "task_best_arm": best, "task_oracle_minus_best_arm": task - best}
        )
    return out


def tasks(run: Path, split: str, n: int) -> np.ndarray:
    """[n, 4] start and goal of the split's first n episodes (those the runs execute)."""
    raw, _ = load_tensors(run / "data" / "raw.safetensors")
    return np.concatenate([raw[f"{split}.start_xy"][:n], raw[f"{split}.goal_xy"][:n]], axis=1)


def val_router(val: dict, test: dict, val_tasks, test_tasks, neighbours: int, versus=None):
    """A chooser fit on val, scored on test, one model: each test episode takes the source whose
    plans scored best on its `neighbours` nearest val tasks (start and goal); beside it the one
    source best on all of val. Per-episode gains over uniform on test (and, given `versus`, the
    router's over another run's per-episode test scores)."""
    names = order(val)
    v = np.stack([val[a].mean(axis=0) for a in names])  # [sources, n_val]
    t = np.stack([test[a].mean(axis=0) for a in names])  # [sources, n_test]
    dist = np.linalg.norm(test_tasks[:, None] - val_tasks[None], axis=-1)
    near = np.argsort(dist, axis=1, kind="stable")[:, :neighbours]  # [n_test, neighbours]
    choice = v[:, near].mean(axis=2).argmax(axis=0)
    routed = t[choice, np.arange(t.shape[1])] - t[0]
    best = t[v.mean(axis=1).argmax()] - t[0]
    out = {"router": routed, "best_arm": best, "router_minus_best_arm": routed - best}
    if versus is not None:
        out["router_minus_versus_uniform"] = routed + t[0] - versus
    return out


def oracle_rows(
    run: Path,
    variant: str,
    seeds: list[int],
    steps: int,
    uniform: str,
    learned: str,
    n_boot: int,
    boot_seed: int,
    drop: tuple[str, ...] = (),
    neighbours: int = 0,
    versus: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The choosers' rows over seeds, val then test, and how often each source is picked."""
    rows, counts, by_split = [], [], {}
    for split in ("val", "test"):
        per_seed, arms_per_seed, experts = [], [], []
        for seed in seeds:
            arms, k, expert = draws(run / variant / f"seed{seed}", split, steps, drop)
            per_seed.append(oracle_gains(arms, uniform, learned))
            arms_per_seed.append(arms)
            experts.append(expert)
            counts.append(picks(arms).rename(f"{split} seed {seed}"))
        if len(seeds) > 1:
            if any(not np.array_equal(e, experts[0]) for e in experts):
                raise ValueError(f"{variant} {split}: the seeds executed different episodes")
            for gains, task in zip(per_seed, across_seeds(arms_per_seed, uniform)):
                gains.update(task)
        for name in per_seed[0]:
            rows.append(pooled_row([g[name] for g in per_seed], n_boot, boot_seed, split=split,
                                   chooser=name, k=k))  # fmt: skip
        by_split[split] = arms_per_seed, experts
    if neighbours:
        val_tasks, test_tasks = (
            tasks(run, split, len(by_split[split][1][0])) for split in ("val", "test")
        )
        other = [None] * len(seeds)
        if versus:  # the other run's uniform arm on the same test episodes
            other = []
            for seed, expert in zip(seeds, by_split["test"][1]):
                arms, _, theirs = draws(run / versus / f"seed{seed}", "test", steps)
                if not np.array_equal(theirs, expert):
                    raise ValueError(f"{versus} seed {seed}: not {variant}'s test episodes")
                other.append(arms[uniform].mean(axis=0))
        routed = [
            val_router(v, t, val_tasks, test_tasks, neighbours, o)
            for v, t, o in zip(by_split["val"][0], by_split["test"][0], other)
        ]
        for name in routed[0]:
            rows.append(pooled_row([g[name] for g in routed], n_boot, boot_seed, split="test",
                                   chooser=f"val_{name}", k=k))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(counts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="run.results of a maze run")
    p.add_argument("--variant", required=True, help="a variant run with plans_per_episode > 1")
    p.add_argument("--seeds", type=seed_list, required=True, help="e.g. 0-2 or 0,2,4")
    p.add_argument("--steps", type=int, default=4, help="phase-1 steps of the arms compared")
    p.add_argument("--learned", default="selector", choices=KEYFRAME_SOURCES,
                   help="the learned source of oracle_pair")  # fmt: skip
    p.add_argument("--drop", nargs="*", default=[], choices=KEYFRAME_SOURCES, metavar="SOURCE",
                   help="sources the oracle may not pick, e.g. dp_true (it reads the episode's "
                   "ground truth, which a deployed selector does not have)")  # fmt: skip
    p.add_argument("--router", type=int, default=0, metavar="K",
                   help="also fit a chooser on val (each test episode: the source best on its K "
                   "nearest val tasks) and score it on test")  # fmt: skip
    p.add_argument("--versus", metavar="VARIANT",
                   help="with --router: also the router minus this variant's uniform arm on the "
                   "same test episodes (e.g. uniform_only_plans8)")  # fmt: skip
    p.add_argument("--bootstrap", type=int, default=2000, help="resamples (evaluate.bootstrap)")
    p.add_argument("--boot-seed", type=int, default=0, help="the bootstrap's seed (run.seed)")
    args = p.parse_args()
    if args.versus and not args.router:
        p.error("--versus pairs the router's choice: give --router K too")
    try:
        table, counts = oracle_rows(
            args.run, args.variant, args.seeds, args.steps, "uniform", args.learned,
            args.bootstrap, args.boot_seed, tuple(args.drop), args.router, args.versus,
        )  # fmt: skip
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"episode_oracle: {err}")
    dropped = f", never picking {args.drop}" if args.drop else ""
    print(
        f"{args.variant}, seeds {args.seeds}: gain over uniform keyframes @{args.steps} on "
        f"held-out draws{dropped}"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:+.2f}"))
    print("\nepisodes on which each source is best on the first half of the draws")
    print(counts.to_string())


if __name__ == "__main__":
    main()
