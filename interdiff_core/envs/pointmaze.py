"""MuJoCo PointMaze (gymnasium-robotics): the factory, every coordinate frame, the exact reset.

Frames (all numpy in / numpy out, vectorised over leading dims; `maze` is a layout name of
`data.maze2d.LAYOUTS`, whose wall map [H, W] is the env's `maze_map`):

- **xy** -- gymnasium-robotics' frame: centred, y up. Cell (i, j) has its centre at
  x = (j + 0.5) - W/2, y = H/2 - (i + 0.5) (the env's `cell_rowcol_to_xy`, scaling 1).
- **grid** -- ours: continuous (row, col) in cell units, row down, col right; cell (i, j)
  covers [i, i+1) x [j, j+1). Velocities: v_row = -vy, v_col = vx.
- **d4rl** -- D4RL maze2d's qpos: its x is the row axis, its y the column axis, and
  qpos = grid - D4RL_OFFSET. D4RL's MJCF puts wall (i, j) at world (i + 1, j + 1) (half-size
  0.5) and the ball's body at world (1.2, 1.2) with slide joints, so qpos = world - 1.2 and cell
  i covers qpos [i - 0.7, i + 0.3): offset 0.7, not 0.5. tests/test_pointmaze.py rebuilds that
  MJCF in MuJoCo, drives the ball into every wall and checks that offset 0.7 keeps it outside
  the walls while 0.5 does not. D4RL's velocities are grid velocities (v_row, v_col).

Physics (checked): dt 0.01, action Box[-1, 1]^2 (gear 100), |qvel| clipped to 5 before each
step, success / sparse reward at distance <= 0.45 (D4RL: 0.5).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from interdiff_core.data.maze2d import parse_layout

ENV_IDS = {
    "umaze": "PointMaze_UMaze-v3",
    "medium": "PointMaze_Medium-v3",
    "large": "PointMaze_Large-v3",
}
# The fixed evaluation goal cell (row, col): the 'G' of D4RL's U_MAZE / MEDIUM_MAZE / LARGE_MAZE
# strings (d4rl/pointmaze/maze_model.py; maze2d-*-v1 targets) and the 'g' cell of Minari's
# EVAL_ENV_MAPS (minari-dataset-generation-scripts/scripts/pointmaze/create_pointmaze_dataset.py,
# the eval env of D4RL/pointmaze/*-v2). Both use the same cells.
EVAL_GOAL_CELL: dict[str, tuple[int, int]] = {"umaze": (1, 1), "medium": (6, 6), "large": (7, 9)}
# Eval episode lengths of D4RL maze2d-*-v1 and Minari's pointmaze eval envs.
EPISODE_STEPS: dict[str, int] = {"umaze": 300, "medium": 600, "large": 800}
# D4RL's normalisation references (random, expert) for maze2d-*-v1 (sparse reward, radius 0.5).
D4RL_REF: dict[str, tuple[float, float]] = {
    "umaze": (23.85, 161.86),
    "medium": (13.13, 277.39),
    "large": (6.7, 273.99),
}
# Minari's D4RL/pointmaze/*-v2 references (random, expert; radius 0.45, DFS-path expert).
MINARI_REF: dict[str, tuple[float, float]] = {
    "umaze": (13.49, 218.70),
    "medium": (17.66, 361.05),
    "large": (3.55, 462.26),
}
SUCCESS_RADIUS = 0.45  # gymnasium-robotics (and Minari)
D4RL_RADIUS = 0.5  # D4RL maze2d sparse reward
POSITION_NOISE = 0.25  # the env's U(+-0.25) noise on reset / goal cells
D4RL_OFFSET = 0.7  # grid = d4rl qpos + 0.7 (see module docstring)
DT = 0.01  # seconds per env step (frame_skip 1)


@cache
def _walls(maze: str) -> np.ndarray:
    w = parse_layout(maze)
    w.setflags(write=False)
    return w


def walls(maze: str) -> np.ndarray:
    """bool [H, W] wall map of the layout (read-only)."""
    return _walls(maze)


def _hw(maze: str) -> tuple[float, float]:
    h, w = _walls(maze).shape
    return float(h), float(w)


def _pair(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.shape[-1:] != (2,):
        raise ValueError(f"{name}: expected a last dimension of 2, got shape {a.shape}")
    return a


def xy_to_grid(maze: str, xy) -> np.ndarray:
    """env xy [..., 2] -> continuous (row, col) [..., 2]."""
    h, w = _hw(maze)
    xy = _pair(xy, "xy")
    return np.stack([h / 2 - xy[..., 1], xy[..., 0] + w / 2], axis=-1)


def grid_to_xy(maze: str, rc) -> np.ndarray:
    """continuous (row, col) [..., 2] -> env xy [..., 2]."""
    h, w = _hw(maze)
    rc = _pair(rc, "rc")
    return np.stack([rc[..., 1] - w / 2, h / 2 - rc[..., 0]], axis=-1)


def cell_to_xy(maze: str, cells) -> np.ndarray:
    """integer cells (i, j) [..., 2] -> the xy of their centres."""
    return grid_to_xy(maze, np.asarray(cells, dtype=np.float64) + 0.5)


def xy_to_cell(maze: str, xy) -> np.ndarray:
    """env xy [..., 2] -> int64 cells (i, j) [..., 2] (may lie outside the map)."""
    return np.floor(xy_to_grid(maze, xy)).astype(np.int64)


def vel_xy_to_grid(v) -> np.ndarray:
    """(vx, vy) -> (v_row, v_col) = (-vy, vx)."""
    v = _pair(v, "v")
    return np.stack([-v[..., 1], v[..., 0]], axis=-1)


def vel_grid_to_xy(v) -> np.ndarray:
    """(v_row, v_col) -> (vx, vy) = (v_col, -v_row)."""
    v = _pair(v, "v")
    return np.stack([v[..., 1], -v[..., 0]], axis=-1)


def xy_to_d4rl(maze: str, xy) -> np.ndarray:
    """env xy -> D4RL qpos (row-axis first)."""
    return xy_to_grid(maze, xy) - D4RL_OFFSET


def d4rl_to_xy(maze: str, q) -> np.ndarray:
    """D4RL qpos -> env xy."""
    return grid_to_xy(maze, _pair(q, "d4rl qpos") + D4RL_OFFSET)


def obs_to_d4rl(maze: str, obs) -> np.ndarray:
    """(x, y, vx, vy) [..., 4] -> D4RL observation (qpos, qvel) [..., 4]."""
    obs = np.asarray(obs, dtype=np.float64)
    return np.concatenate([xy_to_d4rl(maze, obs[..., :2]), vel_xy_to_grid(obs[..., 2:])], -1)


def obs_from_d4rl(maze: str, obs) -> np.ndarray:
    """D4RL observation (qpos, qvel) [..., 4] -> (x, y, vx, vy) [..., 4]."""
    obs = np.asarray(obs, dtype=np.float64)
    return np.concatenate([d4rl_to_xy(maze, obs[..., :2]), vel_grid_to_xy(obs[..., 2:])], -1)


def free_cell_array(maze: str) -> np.ndarray:
    """int64 [K, 2] free cells of the layout, row-major."""
    return np.argwhere(~_walls(maze)).astype(np.int64)


def noisy_cell_xy(maze: str, cells, rng: np.random.Generator, noise: float = POSITION_NOISE):
    """Cell centres plus the env's U(+-noise) position noise on x and y: [..., 2] -> [..., 2]."""
    centre = cell_to_xy(maze, cells)
    return centre + rng.uniform(-noise, noise, size=centre.shape)


def make_env(
    maze: str, max_episode_steps: int, continuing_task: bool = True, reset_target: bool = False
):
    """A gymnasium PointMaze env for a layout name, position noise off (exact cells).

    The registered D4RL map of the env must equal our layout (checked). `max_episode_steps`
    sets gymnasium's TimeLimit (truncation after that many steps).
    """
    import gymnasium as gym
    import gymnasium_robotics

    if maze not in ENV_IDS:
        raise ValueError(f"unknown maze {maze!r}; valid: {sorted(ENV_IDS)}")
    if int(max_episode_steps) < 1:
        raise ValueError(f"max_episode_steps must be >= 1, got {max_episode_steps}")
    gym.register_envs(gymnasium_robotics)
    env = gym.make(
        ENV_IDS[maze],
        max_episode_steps=int(max_episode_steps),
        continuing_task=bool(continuing_task),
        reset_target=bool(reset_target),
    )
    u = env.unwrapped
    env_walls = np.array([[c == 1 for c in row] for row in u.maze.maze_map], dtype=bool)
    if not np.array_equal(env_walls, _walls(maze)):
        raise RuntimeError(f"{ENV_IDS[maze]}'s maze_map differs from layout {maze!r}")
    if u.maze.maze_size_scaling != 1:
        raise RuntimeError(f"{ENV_IDS[maze]}: maze_size_scaling {u.maze.maze_size_scaling} != 1")
    u.position_noise_range = 0.0
    return env


def _maze_name(env) -> str:
    u = env.unwrapped
    env_walls = np.array([[c == 1 for c in row] for row in u.maze.maze_map], dtype=bool)
    for name in ENV_IDS:
        if env_walls.shape == _walls(name).shape and np.array_equal(env_walls, _walls(name)):
            return name
    raise ValueError("the env's maze_map is none of our layouts")


def _obs_dict(env) -> dict:
    u = env.unwrapped
    state = np.concatenate([u.data.qpos, u.data.qvel]).ravel()
    return {
        "observation": state.copy(),
        "achieved_goal": state[:2].copy(),
        "desired_goal": np.asarray(u.goal, dtype=np.float64).copy(),
    }


def set_goal(env, goal_xy) -> None:
    """Move the goal (and its marker) without touching the ball."""
    u = env.unwrapped
    u.goal = np.asarray(goal_xy, dtype=np.float64).reshape(2).copy()
    u.update_target_site_pos()


def _check_cell(maze: str, xy, name: str) -> np.ndarray:
    cell = xy_to_cell(maze, np.asarray(xy, dtype=np.float64).reshape(2))
    w = _walls(maze)
    i, j = int(cell[0]), int(cell[1])
    if not (0 <= i < w.shape[0] and 0 <= j < w.shape[1]) or w[i, j]:
        raise ValueError(f"{name} {np.asarray(xy).tolist()} lies in cell {(i, j)}, not a free cell")
    return cell


def reset_to(env, start_xy, goal_xy, start_vel=(0.0, 0.0)) -> dict:
    """Reset the env with the ball exactly at start_xy (velocity start_vel) and the goal at goal_xy.

    The cells go through the env's own reset options first (which validate them), then qpos,
    qvel and the goal are set exactly. Returns the observation dict; it is checked to agree.
    """
    u = env.unwrapped
    maze = _maze_name(env)
    if u.position_noise_range != 0:
        raise ValueError("reset_to needs an env from make_env (position noise off)")
    start_cell = _check_cell(maze, start_xy, "start_xy")
    goal_cell = _check_cell(maze, goal_xy, "goal_xy")
    env.reset(options={"reset_cell": start_cell, "goal_cell": goal_cell})
    set_goal(env, goal_xy)
    qpos = np.asarray(start_xy, dtype=np.float64).reshape(2)
    qvel = np.asarray(start_vel, dtype=np.float64).reshape(2)
    u.point_env.set_state(qpos, qvel)
    obs = _obs_dict(env)
    want = np.concatenate([qpos, qvel])
    if not (np.allclose(obs["observation"], want) and np.allclose(obs["desired_goal"], goal_xy)):
        raise RuntimeError(f"reset_to: observation {obs} disagrees with the requested state")
    return obs
