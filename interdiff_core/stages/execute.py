"""execute: every sampled plan of a split executed in MuJoCo PointMaze (Diffuser's protocol).

One plan per episode, made at t = 0 from the first observation and the goal (rule `sample`,
never re-sampled here), tracked open-loop by `a = (p[t+1] − xy) + (v[t+1] − v)`, the last
planned state held after the plan ends. Beside the plans, three references run the same
episodes: the noise-free waypoint expert that generated the data (closed loop), the tracker on
the expert's reference plan (what the tracker alone loses), and a uniformly random policy.

Records only (positions, distance to the goal per step); scoring is `episode_metrics`.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from interdiff_core.data.maze_windows import to_world
from interdiff_core.envs.episodes import expert_policy, plan_policy, random_policy, run_episode
from interdiff_core.envs.pointmaze import EPISODE_STEPS, make_env
from interdiff_core.io import load_tensors, save_tensors
from interdiff_core.runtime import stage_meta

log = logging.getLogger(__name__)
REFERENCES = ("expert", "tracked_reference", "random")


def _policy(method: str, plans: dict, i: int, maze: str, stride: int, seed: int):
    if method == "expert":
        return expert_policy(maze, np.random.default_rng(seed), jitter=0.0)
    if method == "random":
        return random_policy(np.random.default_rng(seed))
    return plan_policy(plans[method][i, :, :2], plans[method][i, :, 2:], stride)


def execute(samples_path, raw_path, split: str, out_path, seed: int) -> None:
    samples, meta = load_tensors(samples_path)
    raw, raw_meta = load_tensors(raw_path)
    mazes, stride, n = raw_meta["mazes"], raw_meta["stride"], meta["n"]
    maze_id = raw[f"{split}.maze_id"][:n].numpy()
    start_xy = raw[f"{split}.start_xy"][:n].numpy()
    goal_xy = raw[f"{split}.goal_xy"][:n].numpy()
    if not np.array_equal(maze_id, samples["maze_id"].numpy()):
        raise ValueError(f"{samples_path} and {raw_path} ({split}) disagree on the episodes")
    grid = samples["occ"].shape[-1]
    keys = [f"{r['method']}@{r['steps']}" for r in meta["rows"]]
    plans = {}  # model states -> world states, per episode's maze
    for key in [*keys, "gt"]:
        world = np.zeros(samples[key].shape, dtype=np.float32)
        for m, maze in enumerate(mazes):
            rows = maze_id == m
            world[rows] = to_world(samples[key][rows].numpy(), maze, grid)
        plans[key] = world
    plans["tracked_reference"] = plans.pop("gt")
    methods = [*keys, *REFERENCES]
    n_steps = max(EPISODE_STEPS[mazes[m]] for m in set(maze_id.tolist()))
    dist = np.full((len(methods), n, n_steps), np.inf, dtype=np.float32)
    xy = np.full((len(methods), n, n_steps + 1, 2), np.nan, dtype=np.float32)
    envs = {m: make_env(maze, EPISODE_STEPS[maze]) for m, maze in enumerate(mazes)}
    for i in range(n):
        maze = mazes[maze_id[i]]
        steps = EPISODE_STEPS[maze]
        for k, method in enumerate(methods):
            policy = _policy(method, plans, i, maze, stride, seed * 100_003 + i)
            rec = run_episode(envs[maze_id[i]], policy, steps, start_xy[i], goal_xy[i])
            dist[k, i, :steps] = rec["dist"]
            xy[k, i, : steps + 1] = rec["xy"]
    for env in envs.values():
        env.close()
    for k, method in enumerate(methods):
        log.info("%-20s success %.2f", method, np.mean((dist[k] <= 0.5).any(axis=1)))
    tensors = {f"{m}.dist": torch.from_numpy(dist[k]) for k, m in enumerate(methods)}
    tensors.update({f"{m}.xy": torch.from_numpy(xy[k]) for k, m in enumerate(methods)})
    tensors["maze_id"] = torch.from_numpy(maze_id)
    tensors["goal_xy"] = torch.from_numpy(goal_xy)
    for key, world in plans.items():
        tensors[f"{key}.plan"] = torch.from_numpy(world)
    out_meta = stage_meta(
        "execute", {}, split=split, methods=methods, rows=meta["rows"], mazes=mazes, n=n
    )
    save_tensors(out_path, tensors, out_meta)
