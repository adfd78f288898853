"""D4RL-style maze2d trajectories, generated locally (no download).

A point mass moves in continuous cell coordinates (row, col); cell (r, c) covers
[r, r+1) x [c, c+1). As in D4RL, a PD waypoint controller follows the centres of the BFS
shortest path from the start cell to the goal cell. Per physics step dt:

    a = clip(kp * (wp - pos) - kd * vel, -1, 1) + action_noise * N(0, 1)
    vel += gain * a * dt;  pos += vel * dt   (blocked axes: keep old coordinate, zero velocity)

Tuned defaults: dt=0.01, kp=10, kd=1, gain=40, action_noise=0.3, waypoint_jitter=0.2 and
record_every=5 for horizon 64 (3.15 s; ~0.4 cells between records); use record_every=10 for
horizon 32 (same duration, so the same success rate, ~0.8 cells between records).
gain=40 makes the unsaturated loop critically damped (gain * kd**2 == 4 * kp), so the mass
rounds corners on a curve instead of overshooting into the walls.
"""

from __future__ import annotations

import hashlib
from collections import deque

import numpy as np

LAYOUTS: dict[str, str] = {
    "umaze": "#####/#OOO#/###O#/#OOO#/#####",
    "medium": "########/#OO##OO#/#OO#OOO#/##OOO###/#OO#OOO#/#O#OO#O#/#OOO#OO#/########",
    "large": (
        "############/#OOOO#OOOOO#/#O##O#O#O#O#/#OOOOOO#OOO#/#O####O###O#/"
        "#OO#O#OOOOO#/##O#O#O#O###/#OO#OOO#OOO#/############"
    ),
}

SPLITS = ("train", "val", "test")
# Half-size of the point mass, in cells: keeps every position this far from a wall cell, so
# that float32 normalisation can never round a recorded point across a cell boundary.
_MARGIN = 1e-3


def parse_layout(name: str) -> np.ndarray:
    """Layout name -> bool [H, W] wall map (True = wall)."""
    if name not in LAYOUTS:
        raise ValueError(f"unknown maze layout {name!r}; valid names: {sorted(LAYOUTS)}")
    rows = LAYOUTS[name].split("/")
    if len({len(r) for r in rows}) != 1 or not set("".join(rows)) <= {"#", "O"}:
        raise ValueError(f"layout {name!r} is malformed: rows must be equal-length '#'/'O'")
    return np.array([[ch == "#" for ch in row] for row in rows], dtype=bool)


def pad_walls(walls: np.ndarray, size: int) -> np.ndarray:
    """Pad bottom/right with walls to [size, size]."""
    h, w = walls.shape
    if size < max(h, w):
        raise ValueError(f"grid size {size} is smaller than the maze ({h}x{w})")
    return np.pad(walls.astype(bool), ((0, size - h), (0, size - w)), constant_values=True)


def free_cells(walls: np.ndarray) -> list[tuple[int, int]]:
    return [(int(r), int(c)) for r, c in np.argwhere(~np.asarray(walls, dtype=bool))]


def _bfs_parents(walls: np.ndarray, start: tuple[int, int]) -> dict:
    """BFS tree over free cells (4-connected) from start: {cell: parent}, start -> start."""
    h, w = walls.shape
    parent = {start: start}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for nxt in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nxt[0] < h and 0 <= nxt[1] < w and not walls[nxt] and nxt not in parent:
                parent[nxt] = (r, c)
                queue.append(nxt)
    return parent


def shortest_path(
    walls: np.ndarray, start: tuple[int, int], goal: tuple[int, int]
) -> list[tuple[int, int]]:
    """BFS over free cells, 4-connected; the path includes both start and goal."""
    walls = np.asarray(walls, dtype=bool)
    h, w = walls.shape
    start, goal = tuple(map(int, start)), tuple(map(int, goal))
    for name, (r, c) in (("start", start), ("goal", goal)):
        if not (0 <= r < h and 0 <= c < w) or walls[r, c]:
            raise ValueError(f"{name} cell {(r, c)} is not a free cell")
    parent = _bfs_parents(walls, start)
    if goal not in parent:
        raise ValueError(f"goal {goal} is unreachable from {start}")
    path = [goal]
    while path[-1] != start:
        path.append(parent[path[-1]])
    return path[::-1]


def sdf_from_occupancy(walls: np.ndarray) -> np.ndarray:
    """Signed grid distance: free cells +L1 steps to the nearest wall, walls -steps to the
    nearest free cell, divided by max(H, W). float32 [H, W]."""
    walls = np.asarray(walls, dtype=bool)
    h, w = walls.shape
    rc = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"), -1).reshape(-1, 2)
    flat = walls.reshape(-1)

    def dist_to(targets: np.ndarray) -> np.ndarray:
        if not targets.any():  # no cell of the other kind: use an upper bound
            return np.full(h * w, h + w, dtype=np.float64)
        d = np.abs(rc[:, None, :] - rc[None, targets, :]).sum(-1)  # L1 == BFS on an open grid
        return d.min(1).astype(np.float64)

    sdf = np.where(flat, -dist_to(~flat), dist_to(flat))
    return (sdf / max(h, w)).reshape(h, w).astype(np.float32)


def simulate_episode(
    walls: np.ndarray,
    start: tuple[int, int],
    goal: tuple[int, int],
    rng: np.random.Generator,
    horizon: int,
    record_every: int = 5,
    dt: float = 0.01,
    kp: float = 10.0,
    kd: float = 1.0,
    gain: float = 40.0,
    action_noise: float = 0.3,
    waypoint_jitter: float = 0.2,
) -> np.ndarray | None:
    """One controller rollout in cell units -> float32 [horizon, 2], or None if it ends more
    than 0.5 cells from the goal centre."""
    if not 0.0 <= waypoint_jitter < 0.5:
        raise ValueError(f"waypoint_jitter must be in [0, 0.5), got {waypoint_jitter}")
    walls = np.asarray(walls, dtype=bool)
    h, w = walls.shape
    path = shortest_path(walls, start, goal)
    # Waypoints: jittered centres of the path cells after the start; the goal is exact so the
    # controller holds the mass on the goal centre once it gets there.
    jit = rng.uniform(-waypoint_jitter, waypoint_jitter, size=(max(len(path) - 2, 0), 2))
    wps = [(r + 0.5 + jr, c + 0.5 + jc) for (r, c), (jr, jc) in zip(path[1:-1], jit, strict=True)]
    wps.append((goal[0] + 0.5, goal[1] + 0.5))
    start_jitter = min(waypoint_jitter, 0.1)
    sj = rng.uniform(-start_jitter, start_jitter, size=2)
    n_steps = (horizon - 1) * record_every
    noise = (action_noise * rng.standard_normal((n_steps, 2))).tolist()

    def blocked(r: float, c: float) -> bool:
        # A tiny box of half-size _MARGIN around (r, c) must lie in free cells inside the grid.
        if not (_MARGIN <= r < h - _MARGIN and _MARGIN <= c < w - _MARGIN):
            return True
        r0, r1, c0, c1 = int(r - _MARGIN), int(r + _MARGIN), int(c - _MARGIN), int(c + _MARGIN)
        return walls[r0, c0] or walls[r0, c1] or walls[r1, c0] or walls[r1, c1]

    # Scalar Python floats: ~10x faster than numpy for 2-vectors in this inner loop.
    pr, pc = start[0] + 0.5 + float(sj[0]), start[1] + 0.5 + float(sj[1])
    vr = vc = 0.0
    k = 0
    out = [(pr, pc)]
    for step in range(n_steps):
        wr, wc = wps[k]
        if k < len(wps) - 1 and (wr - pr) ** 2 + (wc - pc) ** 2 < 0.25:
            k += 1
            wr, wc = wps[k]
        ar = min(1.0, max(-1.0, kp * (wr - pr) - kd * vr)) + noise[step][0]
        ac = min(1.0, max(-1.0, kp * (wc - pc) - kd * vc)) + noise[step][1]
        vr += gain * ar * dt
        vc += gain * ac * dt
        # Axis by axis, so the accepted position is always free (also at diagonal corners).
        nr = pr + vr * dt
        if blocked(nr, pc):
            vr = 0.0
        else:
            pr = nr
        nc = pc + vc * dt
        if blocked(pr, nc):
            vc = 0.0
        else:
            pc = nc
        if (step + 1) % record_every == 0:
            out.append((pr, pc))
    gr, gc = goal[0] + 0.5, goal[1] + 0.5
    if (pr - gr) ** 2 + (pc - gc) ** 2 >= 0.25:
        return None
    return np.asarray(out, dtype=np.float32)


def split_of(layout: str, start: tuple[int, int], goal: tuple[int, int], fractions) -> str:
    """Deterministic split of an (unordered) start/goal pair in a layout.

    The pair is unordered so that the reverse of a test route is never in train either.
    """
    a, b = sorted([tuple(map(int, start)), tuple(map(int, goal))])
    key = f"{layout}:{a[0]},{a[1]}:{b[0]},{b[1]}".encode()
    u = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2.0**64
    edges = np.cumsum(fractions)
    for name, edge in zip(SPLITS, edges, strict=True):
        if u < edge:
            return name
    return SPLITS[-1]


def generate_split_data(
    layouts: list[str],
    counts: dict[str, int],
    horizon: int,
    record_every: int = 5,
    seed: int = 0,
    grid_size: int | None = None,
    split_fractions=(0.8, 0.1, 0.1),
    **controller,
) -> dict[str, dict[str, np.ndarray]]:
    """Draw controller episodes until every split in `counts` is full (see module docstring).

    Positions are divided by grid_size, so they lie in [0, 1] on one shared padded grid.
    """
    if not layouts:
        raise ValueError("no layouts given")
    if bad := set(counts) - set(SPLITS):
        raise ValueError(f"unknown split(s) {sorted(bad)}; valid: {list(SPLITS)}")
    if len(split_fractions) != 3 or abs(sum(split_fractions) - 1.0) > 1e-6:
        raise ValueError(f"split_fractions must be 3 numbers summing to 1, got {split_fractions}")
    raw = [parse_layout(name) for name in layouts]
    g = grid_size or max(max(wl.shape) for wl in raw)
    occ = [pad_walls(wl, g) for wl in raw]
    sdf = [sdf_from_occupancy(o) for o in occ]
    cells = [free_cells(wl) for wl in raw]

    # Split of every (layout, start, goal) the sampler may accept: reachable, BFS distance >= 2.
    candidates: dict[tuple, str] = {}
    for li, name in enumerate(layouts):
        for s in cells[li]:
            for t in _bfs_parents(raw[li], s):
                if abs(t[0] - s[0]) + abs(t[1] - s[1]) >= 2:  # not the start, not a neighbour
                    candidates[(li, s, t)] = split_of(name, s, t, split_fractions)
    for split, n in counts.items():
        if n > 0 and split not in candidates.values():
            raise ValueError(
                f"split {split!r} has no valid start/goal pair in layouts {layouts} "
                f"with split_fractions={split_fractions}"
            )

    rng = np.random.default_rng(seed)
    samples: dict[str, list] = {s: [] for s in counts}
    max_draws = 10_000 + 100 * sum(counts.values())

    def done() -> bool:
        return all(len(samples[s]) >= n for s, n in counts.items())

    for _ in range(max_draws):
        if done():
            break
        li = int(rng.integers(len(layouts)))
        i, j = rng.integers(len(cells[li]), size=2)
        key = (li, cells[li][i], cells[li][j])
        split = candidates.get(key)  # None: same cell or BFS distance < 2
        if split is None or len(samples.get(split, ())) >= counts.get(split, 0):
            continue
        traj = simulate_episode(raw[li], key[1], key[2], rng, horizon, record_every, **controller)
        if traj is not None:
            samples[split].append((li, key[1] + key[2], traj))
    if not done():
        have = {s: len(v) for s, v in samples.items()}
        raise RuntimeError(
            f"gave up after {max_draws} draws with {have} of {counts} samples; "
            "episodes keep failing (is the horizon too short for these mazes?)"
        )

    out = {}
    for split, items in samples.items():
        maze_id = np.array([li for li, _, _ in items], dtype=np.int64)
        pos = np.zeros((len(items), horizon, 2), dtype=np.float32)
        for n, (_, _, traj) in enumerate(items):
            pos[n] = traj / np.float32(g)
        out[split] = {
            "pos": pos,
            "occ": np.stack(occ)[maze_id].astype(np.float32),
            "sdf": np.stack(sdf)[maze_id],
            "start_goal": np.concatenate([pos[:, 0], pos[:, -1]], axis=1),
            "maze_id": maze_id,
            "cells": np.array([c for _, c, _ in items], dtype=np.int64).reshape(-1, 4),
        }
    return out
