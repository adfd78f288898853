"""execute: every sampled plan of a split executed in MuJoCo PointMaze (Diffuser's protocol).

One plan per episode, made at t = 0 from the first observation and the goal (rule `sample`,
never re-sampled here), tracked open-loop by `a = (p[t+1] − xy) + (v[t+1] − v)`, the last
planned state held after the plan ends. With `replan_every = k > 0`, every method makes a new
plan from the current observation every k env steps (the same planners as `sample`) and tracks
it from there; the plan at t = 0 is still `sample`'s. Beside the plans, three references run
the same episodes: the noise-free waypoint expert that generated the data (closed loop), the
tracker on the expert's reference plan (what the tracker alone loses), a uniformly random policy.

With `sample.plans_per_episode = k` the samples hold k plans per episode (row `j * n + i`:
draw j of episode i); each is executed from episode i's start, and the references, which do not
plan, run once per episode and are copied to the other draws' rows.

Beside each `interp_only@k` plan its trivial fix `interp_fd@k` runs too: the same positions with
the velocities they imply (`with_position_velocities`), since the tracker follows the planned
velocities and interpolation's are the line between its keyframes' velocities; it is what phase-2
is measured against beside plain interpolation (`episode_metrics.comparisons`). `two_phase_fd@k`
does the same to `two_phase@k`, so each side can be tracked with or without the fix, as its val
episodes say (`summarize_runs.VELOCITY_CHOICES`). Not a positions-only comparison: one env step
apart (stride 1), the central difference turns phase-2's sampling jitter into large velocities.

Records only (positions, distance to the goal per step); scoring is `episode_metrics`.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from interdiff_core.data.maze_dataset import MazeSplit
from interdiff_core.data.maze_windows import goal_to_model, per_maze, to_model, to_world
from interdiff_core.envs.episodes import expert_policy, plan_policy, random_policy, run_episode
from interdiff_core.envs.pointmaze import DT, EPISODE_STEPS, make_env
from interdiff_core.envs.tracker import PlanFollower, velocities_from_positions
from interdiff_core.io import load_tensors, save_tensors
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.planners import Models, build_planners
from interdiff_core.stages.episode_metrics import VELOCITY_FIXES, episode_count

log = logging.getLogger(__name__)
REFERENCES = ("expert", "tracked_reference", "random")


def with_position_velocities(plan, stride: int) -> np.ndarray:
    """plan [..., T, 4] (xy, v) with v replaced by the velocities its positions imply."""
    fixed = np.array(plan, copy=True)
    fixed[..., 2:] = velocities_from_positions(fixed[..., :2], stride)
    return fixed


def fixed_plans(plans: dict[str, np.ndarray], rows: list[dict], stride: int):
    """The `<fd arm>@k` plans (world [N, T, 4]) and cost rows for every `<method>@k` of `rows`
    that `VELOCITY_FIXES` fixes: the same positions, their velocities from the positions, the
    same NFE and tokens."""
    out, out_rows = {}, []
    for fixed, method in VELOCITY_FIXES.items():
        for row in rows:
            if row["method"] == method:
                out[f"{fixed}@{row['steps']}"] = with_position_velocities(
                    plans[f"{method}@{row['steps']}"], stride
                )
                out_rows.append({**row, "method": fixed})
    return out, out_rows


def _policy(method: str, plans: dict, i: int, maze: str, stride: int, seed: int, replan=None):
    if method == "expert":
        return expert_policy(maze, np.random.default_rng(seed), jitter=0.0)
    if method == "random":
        return random_policy(np.random.default_rng(seed))
    if replan is None or method not in replan.planners:
        return plan_policy(plans[method][i, :, :2], plans[method][i, :, 2:], stride)
    return replan.policy(method, plans[method][i], i, maze, seed)


class Replanner:
    """Policies that replan every k env steps from the current observation."""

    def __init__(self, planners: list, samples: dict, k: int, stride: int):
        # an arm that reads the ground truth cannot replan (there is none mid-episode): open loop
        self.planners = {p.key: p for p in planners if not p.uses_truth}
        for fixed, method in VELOCITY_FIXES.items():
            for key in [k for k in self.planners if k.startswith(f"{method}@")]:
                self.planners[key.replace(method, fixed, 1)] = self.planners[key]
        self.samples, self.k, self.stride = samples, k, stride
        self.grid = samples["occ"].shape[-1]

    def _split(self, i: int, maze: str, xy, v, goal_xy, T: int):
        """A one-episode split whose conditioning starts at the current state."""
        state = to_model(np.concatenate([xy, v])[None], maze, self.grid)
        start_goal = np.concatenate([state[0], goal_to_model(goal_xy, maze, self.grid)])
        s = self.samples
        return MazeSplit(
            torch.zeros(1, T, 4),
            s["occ"][i : i + 1],
            s["sdf"][i : i + 1],
            torch.from_numpy(start_goal)[None].float(),
            s["maze_id"][i : i + 1],
            torch.tensor([self.stride * DT]),
        )

    def policy(self, method: str, first_plan: np.ndarray, i: int, maze: str, seed: int):
        planner, T = self.planners[method], first_plan.shape[0]
        gen = torch.Generator().manual_seed(seed)
        current = {
            "t0": 0,
            "follow": PlanFollower(first_plan[:, :2], first_plan[:, 2:], self.stride),
        }

        def act(t, xy, v, goal_xy):
            if t > 0 and t % self.k == 0:
                with torch.no_grad():
                    plan = planner.plan(self._split(i, maze, xy, v, goal_xy, T), gen)[0].numpy()
                world = to_world(plan, maze, self.grid)
                if method.partition("@")[0] in VELOCITY_FIXES:
                    world = with_position_velocities(world, self.stride)
                current.update(t0=t, follow=PlanFollower(world[:, :2], world[:, 2:], self.stride))
            return current["follow"].act(t - current["t0"], xy, v)

        return act


def execute(
    samples_path, raw_path, split: str, out_path, seed: int, replan_every: int = 0, models=None
) -> None:
    """models: the model paths and `sample` config (`replan_every > 0` only)."""
    samples, meta = load_tensors(samples_path)
    raw, raw_meta = load_tensors(raw_path)
    mazes, stride, n = raw_meta["mazes"], raw_meta["stride"], meta["n"]
    n_episodes = episode_count(meta)
    episode = np.arange(n) % n_episodes  # row -> episode (k plans per episode)
    maze_id = raw[f"{split}.maze_id"][:n_episodes].numpy()[episode]
    start_xy = raw[f"{split}.start_xy"][:n_episodes].numpy()[episode]
    goal_xy = raw[f"{split}.goal_xy"][:n_episodes].numpy()[episode]
    if not np.array_equal(maze_id, samples["maze_id"].numpy()):
        raise ValueError(f"{samples_path} and {raw_path} ({split}) disagree on the episodes")
    grid = samples["occ"].shape[-1]
    keys = [f"{r['method']}@{r['steps']}" for r in meta["rows"]]
    plans = {}  # model states -> world states, per episode's maze
    for key in [*keys, "gt"]:
        plans[key] = per_maze(to_world, samples[key].numpy(), maze_id, mazes, grid)
    plans["tracked_reference"] = plans.pop("gt")
    fixed, fixed_rows = fixed_plans(plans, meta["rows"], stride)
    plans.update(fixed)
    rows = [*meta["rows"], *fixed_rows]
    methods = [*keys, *fixed, *REFERENCES]
    replan = None
    if replan_every:
        teacher, selector, phase1, phase2, dphi = models["paths"]
        noise = models["cfg"]["phase2_noise"]
        loaded = Models.load(teacher, selector, phase1, phase2, noise, dphi)
        loaded.fixed = [samples[f"best_fixed.{s}"] for s in range(len(loaded.levels))
                        if f"best_fixed.{s}" in samples] or None  # fmt: skip
        cond_dim = samples["occ"][0].numel() * 2 + samples["start_goal"].shape[1]
        T = samples["gt"].shape[1]
        planners = build_planners(loaded, models["cfg"], T, cond_dim, "straight_line", seed)
        replan = Replanner(planners, samples, replan_every, stride)
    n_steps = max(EPISODE_STEPS[mazes[m]] for m in set(maze_id.tolist()))
    dist = np.full((len(methods), n, n_steps), np.inf, dtype=np.float32)
    xy = np.full((len(methods), n, n_steps + 1, 2), np.nan, dtype=np.float32)
    envs = {m: make_env(maze, EPISODE_STEPS[maze]) for m, maze in enumerate(mazes)}
    for i in range(n):
        maze = mazes[maze_id[i]]
        steps = EPISODE_STEPS[maze]
        for k, method in enumerate(methods):
            if method in REFERENCES and i >= n_episodes:  # no plan: the same run every draw
                dist[k, i], xy[k, i] = dist[k, episode[i]], xy[k, episode[i]]
                continue
            policy = _policy(method, plans, i, maze, stride, seed * 100_003 + i, replan)
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
    tensors["episode"] = torch.from_numpy(episode)
    tensors["goal_xy"] = torch.from_numpy(goal_xy)
    for key, world in plans.items():
        tensors[f"{key}.plan"] = torch.from_numpy(world)
    out_meta = stage_meta(
        "execute",
        {"replan_every": replan_every},
        split=split,
        methods=methods,
        rows=rows,
        mazes=mazes,
        n=n,
        episodes=n_episodes,
    )
    save_tensors(out_path, tensors, out_meta)
