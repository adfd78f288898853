"""Maze data sources returning one record type, `MazeStream`: a continuing run of states in
gymnasium-robotics' xy frame with the goal in effect at each state.

- `generate_stream`: the D4RL/Minari expert driving the real env (MuJoCo PointMaze).
- `rest_episodes`: the same expert in short episodes started at rest (not a stream).
- `load_minari`: a local Minari dataset (never downloaded).
- `load_d4rl`: a D4RL maze2d hdf5 file (h5py only).

Convention (all three): obs[k] is the state at step k, goal[k] the goal pursued at that state,
reached[k] is True where the state is within SUCCESS_RADIUS of goal[k]; the goal changes right
after (goal[k + 1] is the next one), so each True ends an episode, as Minari cuts its
D4RL/pointmaze episodes at `info['success']`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interdiff_core.envs import pointmaze as pm

# Minari's pointmaze check (minari-dataset-generation-scripts/checks/check_maze_dataset.py,
# check_maze_reset_nonterminal): no achieved_goal jump above 0.5 within an episode.
MINARI_MAX_JUMP = 0.5


@dataclass
class MazeStream:
    maze: str
    obs: np.ndarray  # [N, 4] float32 (x, y, vx, vy), env xy frame
    goal: np.ndarray  # [N, 2] float32, env xy frame
    reached: np.ndarray  # [N] bool: goal[k] reached at state k (an episode ends here)

    def __post_init__(self):
        n = len(self.obs)
        if self.obs.shape != (n, 4) or self.goal.shape != (n, 2) or self.reached.shape != (n,):
            raise ValueError(
                f"MazeStream({self.maze}): obs {self.obs.shape}, goal {self.goal.shape}, "
                f"reached {self.reached.shape}; expected [N, 4], [N, 2], [N]"
            )

    def episode_bounds(self) -> list[tuple[int, int]]:
        """[start, stop) of each episode: cut after every reached state (last one may be open)."""
        ends = np.flatnonzero(self.reached) + 1
        edges = [0, *ends.tolist()]
        if edges[-1] != len(self.obs):
            edges.append(len(self.obs))
        return list(zip(edges[:-1], edges[1:], strict=True))


def _sample_goal(maze, rng, free, xy) -> np.ndarray:
    """A random free cell plus the env's U(+-0.25) noise, redrawn while within the success
    radius of the ball (the env's update_goal rule)."""
    while True:
        g = pm.noisy_cell_xy(maze, free[rng.integers(len(free))], rng)
        if np.linalg.norm(g - xy) > pm.SUCCESS_RADIUS:
            return g


def generate_stream(maze: str, n_steps: int, seed: int, action_noise: float = 0.5) -> MazeStream:
    """One continuing stream of n_steps states from the real env driven by the data expert.

    a = clip(clip(10 (wp - xy) - v) + N(0, action_noise^2), -1, 1) (D4RL's
    generate_maze2d_datasets.py: the controller clips, noise is added, the env clips; Minari
    adds the noise to the unclipped PD output). Start: a random free cell with the env's
    position noise; goal: a random free cell with noise, resampled when reached (distance <=
    0.45, gymnasium-robotics' / Minari's radius). Seeded: the same seed gives identical arrays,
    and a shorter stream is a prefix of a longer one (tasks and action noise draw from two
    generators spawned from the seed).
    """
    from interdiff_core.envs.tracker import WaypointExpert

    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if action_noise < 0:
        raise ValueError(f"action_noise must be >= 0, got {action_noise}")
    rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    free = pm.free_cell_array(maze)
    env = pm.make_env(maze, max_episode_steps=n_steps, continuing_task=True, reset_target=False)
    start = pm.noisy_cell_xy(maze, free[rng.integers(len(free))], rng)
    goal = _sample_goal(maze, rng, free, start)
    obs = pm.reset_to(env, start, goal)["observation"]
    expert = WaypointExpert(maze, rng)
    u = env.unwrapped
    out_obs = np.empty((n_steps, 4), dtype=np.float64)
    out_goal = np.empty((n_steps, 2), dtype=np.float64)
    reached = np.zeros(n_steps, dtype=bool)
    for k in range(n_steps):
        out_obs[k], out_goal[k] = obs, goal
        xy, v = obs[:2], obs[2:]
        if math.hypot(*(xy - goal)) <= pm.SUCCESS_RADIUS:
            reached[k] = True
            goal = _sample_goal(maze, rng, free, xy)
            pm.set_goal(env, goal)
        if k == n_steps - 1:
            break
        a = np.clip(expert.act(xy, v, goal) + noise_rng.normal(0.0, action_noise, 2), -1.0, 1.0)
        obs = u.step(a)[0]["observation"]
    env.close()
    return MazeStream(maze, out_obs.astype(np.float32), out_goal.astype(np.float32), reached)


def rest_episodes(
    maze: str, n: int, n_steps: int, seed, action_noise: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """n episodes of the noisy data expert started at rest, as the evaluation starts them
    (`eval_tasks` with a random goal: a random start cell and goal cell, both with the env's
    position noise, zero velocity), each n_steps long -> (states [n, n_steps + 1, 4], the goal
    each was driven to [n, 2]), env xy frame. The expert's action noise is the stream's; `seed`
    is anything SeedSequence takes. A continuing stream never starts at rest nor stays at its
    goal; these episodes hold both, as every evaluation episode does, and a far start may not
    reach its goal within n_steps."""
    from interdiff_core.envs.episodes import data_expert_policy, eval_tasks, run_episode

    if action_noise < 0:
        raise ValueError(f"action_noise must be >= 0, got {action_noise}")
    out = np.empty((n, n_steps + 1, 4), dtype=np.float32)
    if n == 0:
        return out, np.empty((0, 2), dtype=np.float32)
    rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    tasks = eval_tasks(maze, n, int(rng.integers(2**31)), goal="random")
    env = pm.make_env(maze, max_episode_steps=n_steps + 1)
    for k, (start, goal) in enumerate(zip(tasks["start_xy"], tasks["goal_xy"], strict=True)):
        policy = data_expert_policy(maze, rng, noise_rng, action_noise)
        rec = run_episode(env, policy, n_steps, start, goal)
        out[k] = np.concatenate([rec["xy"], rec["vel"]], axis=1)
    env.close()
    return out, tasks["goal_xy"].astype(np.float32)


# ----------------------------------------------------------------------------- Minari


def load_minari(dataset_id: str, datasets_path, on_bad_sample: str = "raise"):
    """Read a local Minari PointMaze dataset -> (list[MazeStream], n_skipped_episodes).

    `minari.load_dataset(dataset_id, download=False)` with MINARI_DATASETS_PATH = datasets_path
    (restored afterwards); nothing is ever downloaded. The maze comes from the dataset's env spec
    (its maze_map must equal one of our layouts). Positions, velocities from `observation`
    ([T + 1, 4]), goals from `desired_goal`; `achieved_goal` must equal the positions.
    Consecutive episodes where the next one starts at the previous one's last state (Minari's
    continuing pointmaze data) are joined into one stream (that shared state kept once);
    otherwise a new stream starts. Minari's sanity check (no position jump > 0.5 within an
    episode) raises naming the dataset id, episode and key, or with on_bad_sample='skip' drops
    the episode (it also breaks the stream) and counts it.
    """
    if on_bad_sample not in ("raise", "skip"):
        raise ValueError(f"on_bad_sample must be 'raise' or 'skip', got {on_bad_sample!r}")
    root = Path(datasets_path)
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        import minari

        local = minari.list_local_datasets()
        if dataset_id not in local:
            raise FileNotFoundError(
                f"Minari dataset {dataset_id!r} not found in {root} (local: {sorted(local)}); "
                "it is never downloaded: put it there first"
            )
        ds = minari.load_dataset(dataset_id, download=False)
        maze = _minari_maze(ds, dataset_id)
        streams, skipped = _minari_streams(ds, dataset_id, maze, on_bad_sample)
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old
    return streams, skipped


def _minari_maze(ds, dataset_id: str) -> str:
    spec = ds.spec.env_spec
    maze_map = (spec.kwargs or {}).get("maze_map") if spec is not None else None
    if maze_map is None:
        raise ValueError(
            f"Minari dataset {dataset_id!r}: env spec has no maze_map (not a PointMaze dataset?)"
        )
    env_walls = np.array([[c == 1 for c in row] for row in maze_map], dtype=bool)
    for name in pm.ENV_IDS:
        if np.array_equal(env_walls, pm.walls(name)):
            return name
    raise ValueError(f"Minari dataset {dataset_id!r}: its maze_map is none of {sorted(pm.ENV_IDS)}")


def _minari_episode(ep, dataset_id: str, maze: str):
    obs = ep.observations
    if not isinstance(obs, dict):
        raise ValueError(f"Minari dataset {dataset_id!r}, episode {ep.id}: observations not a dict")
    n = len(ep.actions)
    want = {"observation": (n + 1, 4), "achieved_goal": (n + 1, 2), "desired_goal": (n + 1, 2)}
    arrays = {}
    for key, shape in want.items():
        if key not in obs:
            raise ValueError(
                f"Minari dataset {dataset_id!r}, episode {ep.id}: missing observations/{key}"
            )
        arrays[key] = np.asarray(obs[key], dtype=np.float64)
        if arrays[key].shape != shape:
            raise ValueError(
                f"Minari dataset {dataset_id!r}, episode {ep.id}: observations/{key} has shape "
                f"{arrays[key].shape}, expected {shape}"
            )
    if np.asarray(ep.actions).shape != (n, 2):
        raise ValueError(
            f"Minari dataset {dataset_id!r}, episode {ep.id}: actions has shape "
            f"{np.asarray(ep.actions).shape}, expected ({n}, 2)"
        )
    return arrays


def _minari_check(arrays, dataset_id: str, ep_id) -> str | None:
    """Minari's pointmaze checks; returns the failure message or None."""
    for key, a in arrays.items():
        if not np.isfinite(a).all():
            return f"Minari dataset {dataset_id!r}, episode {ep_id}: non-finite values in {key}"
    if not np.allclose(arrays["achieved_goal"], arrays["observation"][:, :2]):
        return f"Minari dataset {dataset_id!r}, episode {ep_id}: achieved_goal != observation[:2]"
    jump = np.linalg.norm(np.diff(arrays["achieved_goal"], axis=0), axis=-1)
    if len(jump) and jump.max() > MINARI_MAX_JUMP:
        k = int(jump.argmax())
        return (
            f"Minari dataset {dataset_id!r}, episode {ep_id}: achieved_goal jumps by "
            f"{jump[k]:.3f} > {MINARI_MAX_JUMP} at step {k}"
        )
    return None


def _minari_streams(ds, dataset_id: str, maze: str, on_bad_sample: str):
    streams, skipped = [], 0
    parts: list[dict] = []

    def flush():
        if parts:
            obs = np.concatenate([p["observation"] for p in parts])
            goal = np.concatenate([p["desired_goal"] for p in parts])
            d = np.linalg.norm(obs[:, :2] - goal, axis=-1)
            ends = np.zeros(len(obs), dtype=bool)
            ends[np.cumsum([len(p["observation"]) for p in parts]) - 1] = True
            reached = ends & (d <= pm.SUCCESS_RADIUS)
            f32 = np.float32
            streams.append(MazeStream(maze, obs.astype(f32), goal.astype(f32), reached))
            parts.clear()

    last = None
    for ep in ds.iterate_episodes():
        arrays = _minari_episode(ep, dataset_id, maze)
        problem = _minari_check(arrays, dataset_id, ep.id)
        if problem is not None:
            if on_bad_sample == "raise":
                raise ValueError(problem)
            skipped += 1
            flush()
            last = None
            continue
        if last is not None and np.array_equal(arrays["observation"][0], last):
            # Continuing data: this episode starts at the previous one's last state.
            arrays = {k: v[1:] for k, v in arrays.items()}
        else:
            flush()
        parts.append(arrays)
        last = parts[-1]["observation"][-1] if len(parts[-1]["observation"]) else last
    flush()
    return streams, skipped


# ----------------------------------------------------------------------------- D4RL

D4RL_KEYS = {
    "observations": 4,
    "actions": 2,
    "rewards": None,
    "terminals": None,
    "timeouts": None,
    "infos/goal": 2,
}


def load_d4rl(path, maze: str) -> MazeStream:
    """Read a D4RL maze2d hdf5 (e.g. maze2d-umaze-v1.hdf5) -> one MazeStream in the env frame.

    Keys checked as D4RL's get_dataset: observations [N, 4], actions [N, 2], rewards,
    terminals, timeouts [N] (or [N, 1], squeezed), infos/goal [N, 2]. D4RL's qpos/qvel are
    converted with pointmaze.obs_from_d4rl. Re-segmented where infos/goal changes (the expert's
    goal was reached and resampled): reached[k] marks the last state before each change. (Diffuser's
    maze2d_set_terminals instead cuts where the ball leaves the fixed eval target's 0.5 radius.)
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"D4RL file {path} does not exist")
    data = {}
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"D4RL file {path} is not a readable hdf5 file: {e}") from e
    with f:
        n = None
        for key, dim in D4RL_KEYS.items():
            if key not in f:
                raise ValueError(f"D4RL file {path}: missing key {key!r}")
            a = np.asarray(f[key][()])
            if dim is None and a.ndim == 2 and a.shape[1] == 1:
                a = a[:, 0]
            n = len(a) if n is None else n
            want = (n,) if dim is None else (n, dim)
            if a.shape != want:
                raise ValueError(
                    f"D4RL file {path}: key {key!r} has shape {a.shape}, expected {want}"
                )
            data[key] = a
    if n == 0:
        raise ValueError(f"D4RL file {path}: key 'observations' is empty, expected [N, 4], N > 0")
    for key in ("observations", "infos/goal"):
        if not np.isfinite(data[key]).all():
            raise ValueError(f"D4RL file {path}: key {key!r} has non-finite values")
    obs = pm.obs_from_d4rl(maze, data["observations"])
    goal = pm.d4rl_to_xy(maze, data["infos/goal"])
    reached = np.zeros(n, dtype=bool)
    reached[:-1] = np.linalg.norm(np.diff(data["infos/goal"], axis=0), axis=-1) > 1e-6
    return MazeStream(maze, obs.astype(np.float32), goal.astype(np.float32), reached)
