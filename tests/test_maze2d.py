import numpy as np
import pytest

from interdiff_core.data import maze2d
from interdiff_core.metrics import maze as metrics

# Hand-made maze: from (3, 1) to (3, 3) the only route goes up, across and back down.
TINY = np.array(
    [[ch == "#" for ch in row] for row in ["#######", "#OOOOO#", "#O###O#", "#O#OOO#", "#######"]]
)


@pytest.fixture(scope="module")
def splits():
    counts = {"train": 120, "val": 20, "test": 30}
    return maze2d.generate_split_data(
        ["medium", "large"], counts, horizon=32, record_every=10, seed=7
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


def test_simulated_episodes_reach_goal_without_collisions():
    walls = maze2d.parse_layout("medium")
    rng = np.random.default_rng(0)
    for start, goal in [((1, 1), (6, 6)), ((6, 1), (1, 6)), ((1, 5), (5, 4))]:
        traj = maze2d.simulate_episode(walls, start, goal, rng, horizon=64)
        assert traj is not None and traj.shape == (64, 2) and traj.dtype == np.float32
        assert np.linalg.norm(traj[0] - (np.array(start) + 0.5)) < 0.2
        assert np.linalg.norm(traj[-1] - (np.array(goal) + 0.5)) < 0.5
        assert np.linalg.norm(np.diff(traj, axis=0), axis=1).max() < 1.0  # no teleporting
        rate = metrics.collision_rate(traj[None] / 8, walls[None].astype(np.float32))
        assert rate[0] == 0.0


def test_episode_too_short_is_rejected():
    walls = maze2d.parse_layout("medium")
    rng = np.random.default_rng(0)
    assert maze2d.simulate_episode(walls, (1, 1), (6, 6), rng, horizon=4, record_every=1) is None


def test_split_data_contract(splits):
    g = 12  # the large maze is 9 x 12
    for name, n in {"train": 120, "val": 20, "test": 30}.items():
        d = splits[name]
        assert d["pos"].shape == (n, 32, 2) and d["pos"].dtype == np.float32
        assert d["occ"].shape == d["sdf"].shape == (n, g, g)
        assert d["occ"].dtype == d["sdf"].dtype == d["start_goal"].dtype == np.float32
        assert d["maze_id"].dtype == d["cells"].dtype == np.int64 and d["cells"].shape == (n, 4)
        assert (d["pos"] >= 0).all() and (d["pos"] <= 1).all()
        assert (d["start_goal"] == np.concatenate([d["pos"][:, 0], d["pos"][:, -1]], 1)).all()
        assert (np.floor(d["pos"][:, 0] * g) == d["cells"][:, :2]).all()
        assert (np.floor(d["pos"][:, -1] * g) == d["cells"][:, 2:]).all()
        assert (metrics.collision_rate(d["pos"], d["occ"]) == 0).all()
        assert ((d["sdf"] < 0) == (d["occ"] == 1)).all()
        for i, layout in enumerate(["medium", "large"]):
            want = maze2d.pad_walls(maze2d.parse_layout(layout), g).astype(np.float32)
            assert (d["occ"][d["maze_id"] == i] == want).all()
    assert set(np.unique(splits["train"]["maze_id"])) == {0, 1}


def test_splits_are_disjoint(splits):
    def pairs(d, ordered=True):
        out = set()
        for m, (sr, sc, gr, gc) in zip(d["maze_id"].tolist(), d["cells"].tolist(), strict=True):
            a, b = (sr, sc), (gr, gc)
            out.add((m, a, b) if ordered else (m, *sorted([a, b])))
        return out

    for ordered in (True, False):
        train, val, test = (pairs(splits[s], ordered) for s in ("train", "val", "test"))
        assert not train & test and not train & val and not val & test
    for name, d in splits.items():
        for m, (sr, sc, gr, gc) in zip(d["maze_id"].tolist(), d["cells"].tolist(), strict=True):
            layout = ["medium", "large"][m]
            assert maze2d.split_of(layout, (sr, sc), (gr, gc), (0.8, 0.1, 0.1)) == name


def test_generation_is_deterministic():
    kw = dict(layouts=["umaze", "medium"], counts={"train": 30, "test": 5}, horizon=16)
    a = maze2d.generate_split_data(**kw, record_every=20, seed=3)
    b = maze2d.generate_split_data(**kw, record_every=20, seed=3)
    c = maze2d.generate_split_data(**kw, record_every=20, seed=4)
    for split in a:
        for key in a[split]:
            assert a[split][key].dtype == b[split][key].dtype
            assert np.array_equal(a[split][key], b[split][key]), (split, key)
    assert not np.array_equal(a["train"]["pos"], c["train"]["pos"])


def test_generation_errors():
    with pytest.raises(ValueError, match="unknown split"):
        maze2d.generate_split_data(["umaze"], {"training": 1}, horizon=16, record_every=20)
    with pytest.raises(ValueError, match="no valid start/goal"):
        maze2d.generate_split_data(
            ["umaze"], {"test": 1}, horizon=16, record_every=20, split_fractions=(1.0, 0.0, 0.0)
        )
    with pytest.raises(RuntimeError, match="gave up"):
        maze2d.generate_split_data(["medium"], {"train": 5}, horizon=2, record_every=1)


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
