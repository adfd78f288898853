"""The episode loop and the eval protocol. The loop returns records; scoring is in
`metrics/episodes.py`.

A policy is a callable `policy_fn(t, xy, v, goal_xy) -> action [2]` (env xy frame; t is the
env step, starting at 0). `expert_policy`, `data_expert_policy` (with the data's action noise),
`plan_policy` and `random_policy` build the ones the pipeline uses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from interdiff_core.envs import pointmaze as pm
from interdiff_core.envs.tracker import PlanFollower, WaypointExpert

Policy = Callable[[int, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def random_policy(rng: np.random.Generator) -> Policy:
    """Uniform actions in [-1, 1]^2 (the random reference)."""

    def act(t, xy, v, goal_xy):
        return rng.uniform(-1.0, 1.0, size=2)

    return act


def expert_policy(maze: str, rng: np.random.Generator, jitter: float | None = None) -> Policy:
    """The noise-free data expert (WaypointExpert) as a policy."""
    expert = WaypointExpert(maze, rng) if jitter is None else WaypointExpert(maze, rng, jitter)

    def act(t, xy, v, goal_xy):
        return expert.act(xy, v, goal_xy)

    return act


def data_expert_policy(
    maze: str, rng: np.random.Generator, noise_rng: np.random.Generator, action_noise: float
) -> Policy:
    """The data-generating expert of D4RL / Minari: jittered waypoints, then N(0, σ²) action
    noise and a clip to [-1, 1] (σ = data.action_noise)."""
    if action_noise < 0:
        raise ValueError(f"action_noise must be >= 0, got {action_noise}")
    expert = expert_policy(maze, rng)

    def act(t, xy, v, goal_xy):
        return np.clip(expert(t, xy, v, goal_xy) + noise_rng.normal(0.0, action_noise, 2), -1, 1)

    return act


def plan_policy(plan_xy, plan_v, stride: int = 1) -> Policy:
    """Diffuser's open-loop plan tracking (PlanFollower) as a policy."""
    follower = PlanFollower(plan_xy, plan_v, stride)

    def act(t, xy, v, goal_xy):
        return follower.act(t, xy, v)

    return act


def run_episode(env, policy_fn: Policy, n_steps: int, start_xy, goal_xy, start_vel=(0.0, 0.0)):
    """Reset exactly (pointmaze.reset_to) and run n_steps actions.

    Returns float32 arrays: xy [n+1, 2] and vel [n+1, 2] (the states, start included),
    actions [n, 2] (as sent; the env clips to [-1, 1]), dist [n] (distance to the goal after
    each step). The env must not move the goal (make_env's default reset_target=False).
    The loop steps the unwrapped env, so the TimeLimit of make_env does not cut it.
    """
    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if getattr(env.unwrapped, "reset_target", False):
        raise ValueError("run_episode needs an env with reset_target=False (a fixed goal)")
    obs = pm.reset_to(env, start_xy, goal_xy, start_vel)
    u = env.unwrapped
    goal = np.asarray(goal_xy, dtype=np.float64).reshape(2)
    states = np.empty((n_steps + 1, 4), dtype=np.float64)
    actions = np.empty((n_steps, 2), dtype=np.float64)
    states[0] = obs["observation"]
    for t in range(n_steps):
        a = np.asarray(policy_fn(t, states[t, :2].copy(), states[t, 2:].copy(), goal.copy()))
        if a.shape != (2,) or not np.isfinite(a).all():
            raise ValueError(f"policy returned {a!r} at step {t}; expected a finite [2] action")
        actions[t] = a
        obs, *_ = u.step(a)
        states[t + 1] = obs["observation"]
    dist = np.linalg.norm(states[1:, :2] - goal, axis=-1)
    return {
        "xy": states[:, :2].astype(np.float32),
        "vel": states[:, 2:].astype(np.float32),
        "actions": actions.astype(np.float32),
        "dist": dist.astype(np.float32),
    }


def eval_tasks(maze: str, n: int, seed: int, goal: str = "fixed") -> dict[str, np.ndarray]:
    """D4RL/Minari eval episodes: start_xy [n, 2], goal_xy [n, 2], start_cell, goal_cell [n, 2].

    goal='fixed': the maze's EVAL_GOAL_CELL; goal='random' (Multi2D): a random free cell per
    episode. The start is a random free cell other than the goal cell. Both get the env's
    U(+-0.25) position noise (as Minari's eval env adds to its goal and reset cells). Seeded:
    val and test pass different seeds.
    """
    if goal not in ("fixed", "random"):
        raise ValueError(f"goal must be 'fixed' or 'random', got {goal!r}")
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    free = pm.free_cell_array(maze)
    if goal == "fixed":
        goal_cells = np.tile(np.asarray(pm.EVAL_GOAL_CELL[maze], dtype=np.int64), (n, 1))
    else:
        goal_cells = free[rng.integers(len(free), size=n)]
    start_cells = np.empty_like(goal_cells)
    for k in range(n):
        others = free[(free != goal_cells[k]).any(axis=1)]
        start_cells[k] = others[rng.integers(len(others))]
    return {
        "start_xy": pm.noisy_cell_xy(maze, start_cells, rng),
        "goal_xy": pm.noisy_cell_xy(maze, goal_cells, rng),
        "start_cell": start_cells,
        "goal_cell": goal_cells,
    }
