"""One PD idea for data and for execution, in the env's xy frame.

- The data expert of D4RL (d4rl/pointmaze/waypoint_controller.py) and Minari
  (minari-dataset-generation-scripts/scripts/pointmaze/controller.py): a = clip(10 (wp - xy) - v)
  towards the next cell waypoint of a path to the goal.
- Diffuser's maze2d plan follower (scripts/plan_maze2d.py): a = clip((p* - xy) + (v* - v))
  towards the next planned state.

Noise is the caller's business (the data stream adds N(0, 0.5^2); execution adds none).
"""

from __future__ import annotations

import math

import numpy as np

from interdiff_core.data.maze2d import shortest_path
from interdiff_core.envs import pointmaze as pm

EXPERT_KP = 10.0
EXPERT_KD = 1.0
WAYPOINT_THRESHOLD = 0.1  # D4RL's solve_thresh / Minari's waypoint_threshold
WAYPOINT_JITTER = 0.2  # D4RL and Minari: waypoint = cell centre - U(0, 1) * 0.2 per axis
GOAL_CHANGE_TOL = 1e-3  # both replan when the goal moves by more than this


def expert_action(waypoint_xy, xy, v) -> np.ndarray:
    """D4RL/Minari waypoint controller: clip(10 (wp - xy) - v, -1, 1); vectorised over [..., 2]."""
    wp, xy, v = (np.asarray(a, dtype=np.float64) for a in (waypoint_xy, xy, v))
    return np.clip(EXPERT_KP * (wp - xy) - EXPERT_KD * v, -1.0, 1.0)


def plan_action(target_xy, target_v, xy, v) -> np.ndarray:
    """Diffuser's maze2d tracker: clip((p - xy) + (v* - v), -1, 1); vectorised over [..., 2]."""
    p, tv, xy, v = (np.asarray(a, dtype=np.float64) for a in (target_xy, target_v, xy, v))
    return np.clip((p - xy) + (tv - v), -1.0, 1.0)


class WaypointExpert:
    """Shortest-path cell waypoints to the goal, followed with `expert_action`.

    As D4RL and Minari: when the goal moves (by more than 1e-3) the path is recomputed from the
    ball's current cell (BFS here; D4RL used Q-iteration, Minari DFS); the waypoints are the
    centres of the path cells after the current one, each shifted by -U(0, jitter) per axis
    (one-sided, as both did), and the last waypoint is the goal itself; the next waypoint is
    taken when the ball is within 0.1 of the current one (D4RL also asked the per-step
    displacement to be under 0.1, which |v| <= 5 at dt 0.01 always gives). No noise here.
    """

    def __init__(self, maze: str, rng: np.random.Generator, jitter: float = WAYPOINT_JITTER):
        if not 0.0 <= jitter < 0.5:
            raise ValueError(f"jitter must be in [0, 0.5), got {jitter}")
        self.maze = maze
        self.rng = rng
        self.jitter = float(jitter)
        self.walls = pm.walls(maze)
        self._goal = None
        self._waypoints: np.ndarray | None = None
        self._k = 0

    def _replan(self, xy: np.ndarray, goal_xy: np.ndarray) -> None:
        start = tuple(int(c) for c in pm.xy_to_cell(self.maze, xy))
        goal = tuple(int(c) for c in pm.xy_to_cell(self.maze, goal_xy))
        cells = np.asarray(shortest_path(self.walls, start, goal)[1:-1], dtype=np.int64)
        wps = pm.cell_to_xy(self.maze, cells.reshape(-1, 2))
        wps = wps - self.rng.uniform(0.0, self.jitter, size=wps.shape)
        self._waypoints = np.concatenate([wps, goal_xy[None]], axis=0)
        self._goal = goal_xy.copy()
        self._k = 0

    @property
    def waypoint(self) -> np.ndarray:
        if self._waypoints is None:
            raise RuntimeError("no waypoint yet: call act first")
        return self._waypoints[self._k]

    def act(self, obs_xy, v, goal_xy) -> np.ndarray:
        xy = np.asarray(obs_xy, dtype=np.float64).reshape(2)
        goal_xy = np.asarray(goal_xy, dtype=np.float64).reshape(2)
        # math.hypot on 2-vectors: this runs every env step of the data stream
        if self._goal is None or math.hypot(*(goal_xy - self._goal)) > GOAL_CHANGE_TOL:
            self._replan(xy, goal_xy)
        last = len(self._waypoints) - 1
        if self._k < last and math.hypot(*(self._waypoints[self._k] - xy)) <= WAYPOINT_THRESHOLD:
            self._k += 1
        return expert_action(self._waypoints[self._k], xy, v)


def velocities_from_positions(plan_xy, stride: int) -> np.ndarray:
    """[..., T, 2] planned positions (T >= 2) -> the velocities they imply: central differences
    (p[k+1] - p[k-1]) / (2 stride dt), one-sided at the ends. The tracker follows a plan's
    velocities as well as its positions; an interpolated plan's are the line between its
    keyframes' velocities, not the rate its positions change at (`interp_fd` in `execute`)."""
    p = np.asarray(plan_xy, dtype=np.float64)
    if p.ndim < 2 or p.shape[-1] != 2 or p.shape[-2] < 2:
        raise ValueError(f"plan_xy must be [..., T, 2] with T >= 2, got {p.shape}")
    h = stride * pm.DT
    v = np.empty_like(p)
    v[..., 1:-1, :] = (p[..., 2:, :] - p[..., :-2, :]) / (2 * h)
    v[..., 0, :] = (p[..., 1, :] - p[..., 0, :]) / h
    v[..., -1, :] = (p[..., -1, :] - p[..., -2, :]) / h
    return v


class PlanFollower:
    """Track a plan of states with `plan_action`.

    Planned state k is the state at env step k * stride. At env step t the target is the plan at
    time t + 1 (linear interpolation between planned states); once t + 1 is past the last planned
    state the target is that state with zero velocity (Diffuser holds the last state).
    """

    def __init__(self, plan_xy, plan_v, stride: int = 1):
        self.plan_xy = np.asarray(plan_xy, dtype=np.float64)
        self.plan_v = np.asarray(plan_v, dtype=np.float64)
        if self.plan_xy.ndim != 2 or self.plan_xy.shape[1] != 2 or len(self.plan_xy) < 1:
            raise ValueError(f"plan_xy must be [T, 2] with T >= 1, got {self.plan_xy.shape}")
        if self.plan_v.shape != self.plan_xy.shape:
            raise ValueError(f"plan_v {self.plan_v.shape} must match plan_xy {self.plan_xy.shape}")
        if int(stride) < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.stride = int(stride)

    def target(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(target xy, target v) used at env step t."""
        s = (t + 1) / self.stride
        last = len(self.plan_xy) - 1
        if s > last:
            return self.plan_xy[last], np.zeros(2)
        k = min(int(np.floor(s)), last)
        if k == last:
            return self.plan_xy[k], self.plan_v[k]
        f = s - k
        xy = (1 - f) * self.plan_xy[k] + f * self.plan_xy[k + 1]
        v = (1 - f) * self.plan_v[k] + f * self.plan_v[k + 1]
        return xy, v

    def act(self, t: int, xy, v) -> np.ndarray:
        p, pv = self.target(t)
        return plan_action(p, pv, xy, v)
