"""D4RL maze2d layouts and grid helpers (no simulation here: see `interdiff_core.envs`).

Layouts are D4RL's maze strings ('#' wall, 'O' free), the same maps as gymnasium-robotics'
PointMaze_UMaze / Medium / Large. Grid convention: cell (r, c) covers [r, r+1) x [c, c+1),
row down, column right. The trajectories themselves come from MuJoCo PointMaze
(`data/maze_streams.py`).
"""

from __future__ import annotations

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


def parse_layout(name: str) -> np.ndarray:
    """Layout name -> bool [H, W] wall map (True = wall)."""
    if name not in LAYOUTS:
        raise ValueError(f"unknown maze layout {name!r}; valid names: {sorted(LAYOUTS)}")
    rows = LAYOUTS[name].split("/")
    if len({len(r) for r in rows}) != 1 or not set("".join(rows)) <= {"#", "O"}:
        raise ValueError(f"layout {name!r} is malformed: rows must be equal-length '#'/'O'")
    return np.array([[ch == "#" for ch in row] for row in rows], dtype=bool)


def grid_side(mazes: list[str]) -> int:
    """The side G of the square occupancy grid every maze of a run is padded to."""
    return max(max(parse_layout(m).shape) for m in mazes)


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
