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


def test_plan_metric_closed_forms():
    occ = np.zeros((2, 4, 4), np.float32)
    occ[:, 1, 2] = 1  # wall cell (1, 2) covers [0.25, 0.5) x [0.5, 0.75) in normalised units
    T = 5
    ref = np.zeros((2, T, 4), np.float32)
    ref[:, :, 0] = 0.1  # row 0.4 in cells: far from the wall
    ref[:, :, 1] = np.linspace(0.1, 0.9, T)
    plan = ref.copy()
    plan[1, :, 0] = 0.375  # through the middle of the wall's row
    out = metrics.summarize(plan, ref, occ)
    assert out["wall_crossing"] == 0.5  # one plan of two crosses the wall between states
    assert out["mse"] == pytest.approx(0.5 * (0.375 - 0.1) ** 2 / 2)  # rows only, half the plans
    curved = ref.copy()
    curved[:, 2, 0] += 0.05
    assert metrics.summarize(ref, ref, occ)["wall_crossing"] == 0.0
    assert metrics.summarize(curved, curved, occ)["smoothness_ratio"] == pytest.approx(1.0)
