import numpy as np
import pytest

from interdiff_core.data import maze2d
from interdiff_core.metrics import maze as metrics

# Hand-made maze: from (3, 1) to (3, 3) the only route goes up, across and back down.
TINY = np.array(
    [[ch == "#" for ch in row] for row in ["#######", "#OOOOO#", "#O###O#", "#O#OOO#", "#######"]]
)


def test_parse_layout_shapes_and_errors():
    shapes = {name: maze2d.parse_layout(name).shape for name in maze2d.LAYOUTS}
    assert shapes == {"umaze": (5, 5), "medium": (8, 8), "large": (9, 12)}
    for name in maze2d.LAYOUTS:
        w = maze2d.parse_layout(name)
        assert w[0].all() and w[-1].all() and w[:, 0].all() and w[:, -1].all()
    with pytest.raises(ValueError, match="umaze"):
        maze2d.parse_layout("nope")


def test_shortest_path_is_minimal_contiguous_and_free():
    path = maze2d.shortest_path(TINY, (3, 1), (3, 3))
    assert path[0] == (3, 1) and path[-1] == (3, 3)
    assert len(path) == 11  # 10 steps: up 2, right 4, down 2, left 2
    for (r0, c0), (r1, c1) in zip(path[:-1], path[1:], strict=True):
        assert abs(r1 - r0) + abs(c1 - c0) == 1
    assert not any(TINY[r, c] for r, c in path)
    assert len(set(path)) == len(path)
    assert maze2d.shortest_path(TINY, (1, 1), (1, 1)) == [(1, 1)]
    with pytest.raises(ValueError):
        maze2d.shortest_path(TINY, (0, 0), (1, 1))  # start in a wall
    cut = TINY.copy()
    cut[1, 3] = True
    with pytest.raises(ValueError, match="unreachable"):
        maze2d.shortest_path(cut, (3, 1), (3, 3))


def test_pad_walls_and_free_cells():
    padded = maze2d.pad_walls(TINY, 9)
    assert padded.shape == (9, 9)
    assert (padded[:5, :7] == TINY).all() and padded[5:].all() and padded[:, 7:].all()
    assert maze2d.free_cells(padded) == maze2d.free_cells(TINY)
    assert len(maze2d.free_cells(TINY)) == 11  # 5 + 2 + 4
    with pytest.raises(ValueError):
        maze2d.pad_walls(TINY, 6)


def test_sdf_signs_and_values():
    sdf = maze2d.sdf_from_occupancy(TINY)
    assert sdf.dtype == np.float32 and sdf.shape == TINY.shape
    assert (sdf[TINY] < 0).all() and (sdf[~TINY] > 0).all()
    assert sdf[1, 1] == pytest.approx(1 / 7)  # free, next to a wall
    assert sdf[0, 0] == pytest.approx(-2 / 7)  # corner wall, L1 distance 2 to (1, 1)
    assert sdf[2, 3] == pytest.approx(-1 / 7)  # interior wall between free cells


def test_metric_closed_forms():
    occ = np.zeros((1, 4, 4), np.float32)
    occ[0, 1, 2] = 1  # wall cell (1, 2) covers [0.25, 0.5) x [0.5, 0.75)
    in_wall = np.array([[[0.3, 0.6]]])
    free = np.array([[[0.1, 0.1]]])
    assert metrics.collision_rate(in_wall, occ)[0] == 1.0
    assert metrics.collision_rate(free, occ)[0] == 0.0
    assert metrics.collision_rate(np.array([[[1.0, 0.1]]]), occ)[0] == 1.0  # outside [0, 1)
    assert metrics.collision_rate(np.array([[[-0.01, 0.1]]]), occ)[0] == 1.0
    mixed = np.concatenate([in_wall, free, free, free], axis=1)
    assert metrics.collision_rate(mixed, occ)[0] == 0.25

    sg = np.array([[0.1, 0.2, 0.7, 0.5], [0.5, 0.5, 0.5, 0.5]])
    line = metrics.straight_line(sg, 11)
    assert line.shape == (2, 11, 2)
    assert np.allclose(line[:, 0], sg[:, :2]) and np.allclose(line[:, -1], sg[:, 2:])
    assert np.allclose(metrics.smoothness(line), 0.0)
    assert np.allclose(metrics.goal_distance(line, sg[:, 2:]), 0.0)

    shifted = line.copy()
    shifted[:, -1] += [0.3, 0.4]
    assert np.allclose(metrics.goal_distance(shifted, sg[:, 2:]), 0.5)
    assert np.allclose(metrics.path_mse(line + 0.1, line), 0.01)
    t = np.arange(5, dtype=np.float64)
    parabola = np.stack([0.01 * t**2, np.zeros(5)], -1)[None]  # second difference 0.02 on row
    assert np.allclose(metrics.smoothness(parabola), 0.02**2 / 2)

    s = metrics.summarize(line + 0.1, line, np.zeros((2, 4, 4), np.float32), sg)
    assert set(s) == {"collision_rate", "goal_distance", "mse", "smoothness"}
    assert all(isinstance(v, float) for v in s.values())
    assert s["mse"] == pytest.approx(0.01) and s["smoothness"] == pytest.approx(0.0, abs=1e-12)
    assert s["goal_distance"] == pytest.approx(np.hypot(0.1, 0.1))
    assert s["collision_rate"] == 0.0
