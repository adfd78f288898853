"""Maze data sources: the generated stream, a local Minari dataset, a D4RL hdf5 file."""

import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium_robotics")
pytest.importorskip("minari")
h5py = pytest.importorskip("h5py")

from interdiff_core.data import maze_streams as ms  # noqa: E402
from interdiff_core.envs import pointmaze as pm  # noqa: E402
from interdiff_core.envs.tracker import WaypointExpert  # noqa: E402
from interdiff_core.metrics import episodes as em  # noqa: E402

warnings.filterwarnings("ignore", message=".*reward functions were updated.*")


@pytest.fixture(scope="module")
def stream():
    return ms.generate_stream("medium", 4000, seed=3)


def _grid(s: ms.MazeStream) -> np.ndarray:
    return pm.xy_to_grid(s.maze, s.obs[:, :2].astype(np.float64))


def test_stream_contract_and_physics(stream):
    s = stream
    assert s.obs.shape == (4000, 4) and s.goal.shape == (4000, 2) and s.reached.shape == (4000,)
    assert s.obs.dtype == s.goal.dtype == np.float32 and s.reached.dtype == bool
    step = np.abs(np.diff(s.obs[:, :2], axis=0))
    assert step.max() < 6 * pm.DT  # |v| <= 5 per axis (clipped before the step): no teleport
    # positions integrate velocities (the recorded v is the one after the step)
    assert np.allclose(np.diff(s.obs[:, :2], axis=0), s.obs[1:, 2:] * pm.DT, atol=2e-3)
    # the ball never enters a wall, segment by segment (MuJoCo contacts let it sink ~0.04)
    d = em.segment_wall_distance(_grid(s)[None], pm.walls("medium"))
    assert d.min() > 0.05
    # goals: inside free cells with the env's noise, changing exactly after each reach
    gc = pm.xy_to_cell("medium", s.goal)
    assert not pm.walls("medium")[tuple(gc.T)].any()
    changes = np.flatnonzero((np.diff(s.goal, axis=0) != 0).any(axis=1))
    assert np.array_equal(changes, np.flatnonzero(s.reached[:-1]))
    dist = np.linalg.norm(s.obs[:, :2] - s.goal, axis=-1)
    assert (dist[s.reached] <= pm.SUCCESS_RADIUS).all()
    assert (dist[~s.reached] > pm.SUCCESS_RADIUS).all()


def test_noisy_expert_reaches_goals(stream):
    bounds = stream.episode_bounds()
    done = [(a, b) for a, b in bounds if stream.reached[b - 1]]
    assert len(done) >= 15  # 4000 steps in the medium maze: ~160 steps an episode
    assert max(b - a for a, b in done) < 800
    assert bounds[0][0] == 0 and bounds[-1][1] == 4000


def test_stream_is_seeded_and_deterministic():
    a = ms.generate_stream("umaze", 600, seed=11)
    b = ms.generate_stream("umaze", 600, seed=11)
    c = ms.generate_stream("umaze", 600, seed=12)
    for k in ("obs", "goal", "reached"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert not np.array_equal(a.obs, c.obs)
    prefix = ms.generate_stream("umaze", 250, seed=11)
    assert np.array_equal(prefix.obs, a.obs[:250]) and np.array_equal(prefix.goal, a.goal[:250])
    quiet = ms.generate_stream("umaze", 600, seed=11, action_noise=0.0)
    assert not np.array_equal(a.obs, quiet.obs)
    with pytest.raises(ValueError, match="n_steps"):
        ms.generate_stream("umaze", 0, seed=0)


def test_rest_episodes_start_at_rest_and_wait_at_their_goal():
    ep, goal = ms.rest_episodes("umaze", 12, 300, seed=[5, 1])
    assert ep.shape == (12, 301, 4) and ep.dtype == np.float32 and goal.shape == (12, 2)
    assert np.array_equal(ep[:, 0, 2:], np.zeros((12, 2), np.float32))  # every start at rest
    free = ~pm.walls("umaze")[tuple(pm.xy_to_cell("umaze", ep[:, 0, :2]).T)]
    assert free.all()
    # 300 noisy steps reach most goals in the U-maze: the ball then hovers near its last position
    settled = np.linalg.norm(ep[:, -50:, :2] - ep[:, -1:, :2], axis=-1).max(1) < 0.3
    assert settled.mean() >= 0.5
    # ... and it settles at the goal it was driven to (the goal D_phi is told: dphi.windows)
    at_goal = np.linalg.norm(ep[:, -1, :2] - goal, axis=-1) < 0.5
    assert at_goal[settled].mean() >= 0.8
    again, goal_again = ms.rest_episodes("umaze", 12, 300, seed=[5, 1])
    assert np.array_equal(ep, again) and np.array_equal(goal, goal_again)
    assert not np.array_equal(ep, ms.rest_episodes("umaze", 12, 300, seed=[5, 2])[0])
    empty, no_goal = ms.rest_episodes("umaze", 0, 300, seed=0)
    assert empty.shape == (0, 301, 4) and no_goal.shape == (0, 2)


def test_reference_plans_noise_free_and_data_expert():
    """The eval's reference plan (noise-free expert) and the data expert's run of the same
    tasks: both start at the task's start, the data expert is slower on average (clipped noise)
    and seeded."""
    from interdiff_core.envs.episodes import eval_tasks
    from interdiff_core.stages.prepare_data import reference_plans

    tasks = eval_tasks("umaze", 8, seed=3)
    clean = reference_plans("umaze", tasks, 17, 4)
    noisy = reference_plans("umaze", tasks, 17, 4, action_noise=0.5, seed=1)
    assert clean.shape == noisy.shape == (8, 17, 4)
    np.testing.assert_allclose(noisy[:, 0, :2], tasks["start_xy"], atol=1e-6)
    np.testing.assert_allclose(clean[:, 0, :2], tasks["start_xy"], atol=1e-6)
    assert np.array_equal(clean, reference_plans("umaze", tasks, 17, 4))
    assert np.array_equal(noisy, reference_plans("umaze", tasks, 17, 4, action_noise=0.5, seed=1))
    assert not np.array_equal(noisy, reference_plans("umaze", tasks, 17, 4, 0.5, seed=2))
    path = lambda x: np.linalg.norm(np.diff(x[..., :2], axis=1), axis=-1).sum(1)  # noqa: E731
    assert path(noisy).mean() < path(clean).mean()


# ----------------------------------------------------------------------------- D4RL


def _write_d4rl(path, s: ms.MazeStream, drop=None, bad_shape=None, col_terminals=True):
    obs = pm.obs_to_d4rl(s.maze, s.obs).astype(np.float32)
    goal = pm.xy_to_d4rl(s.maze, s.goal).astype(np.float32)
    n = len(obs)
    keys = {
        "observations": obs,
        "actions": np.zeros((n, 2), np.float32),
        "rewards": (np.linalg.norm(obs[:, :2] - goal, axis=-1) <= 0.5).astype(np.float32),
        "terminals": np.zeros((n, 1) if col_terminals else n, bool),
        "timeouts": np.zeros(n, bool),
        "infos/goal": goal,
        "infos/qpos": obs[:, :2],
        "infos/qvel": obs[:, 2:],
    }
    if bad_shape:
        keys[bad_shape] = keys[bad_shape][:, :1]
    with h5py.File(path, "w") as f:
        for k, v in keys.items():
            if k != drop:
                f.create_dataset(k, data=v)


def test_d4rl_round_trip(tmp_path, stream):
    path = tmp_path / "maze2d-medium-v1.hdf5"
    _write_d4rl(path, stream)
    back = ms.load_d4rl(path, "medium")
    assert back.maze == "medium" and back.obs.dtype == np.float32
    assert np.allclose(back.obs, stream.obs, atol=1e-5)
    assert np.allclose(back.goal, stream.goal, atol=1e-5)
    assert np.array_equal(back.reached[:-1], stream.reached[:-1])  # cut where the goal changes
    d = em.segment_wall_distance(_grid(back)[None], pm.walls("medium"))
    assert d.min() > 0.05  # no converted position or segment inside a wall


def test_d4rl_errors(tmp_path, stream):
    short = ms.MazeStream("medium", stream.obs[:50], stream.goal[:50], stream.reached[:50])
    with pytest.raises(ValueError, match="does not exist"):
        ms.load_d4rl(tmp_path / "missing.hdf5", "medium")
    p = tmp_path / "no_goal.hdf5"
    _write_d4rl(p, short, drop="infos/goal")
    with pytest.raises(ValueError, match=r"no_goal\.hdf5: missing key 'infos/goal'"):
        ms.load_d4rl(p, "medium")
    p = tmp_path / "bad_obs.hdf5"
    _write_d4rl(p, short, bad_shape="observations")
    with pytest.raises(ValueError, match=r"'observations' has shape \(50, 1\), expected \(50, 4\)"):
        ms.load_d4rl(p, "medium")
    p = tmp_path / "flat_terminals.hdf5"
    _write_d4rl(p, short, col_terminals=False)
    assert len(ms.load_d4rl(p, "medium").obs) == 50
    p = tmp_path / "junk.hdf5"
    p.write_text("not hdf5")
    with pytest.raises(ValueError, match="junk.hdf5"):
        ms.load_d4rl(p, "medium")


# ----------------------------------------------------------------------------- Minari


def _collect_minari(root, dataset_id, n_steps, seed, jump_at=None):
    """Minari's own recipe (create_pointmaze_dataset.py): a continuing env that resamples its
    goal, DataCollector with episodes truncated at success, noisy expert actions."""
    import minari

    class SuccessTruncates(minari.StepDataCallback):
        def __call__(self, env, **kwargs):
            step = super().__call__(env, **kwargs)
            if step["info"].get("success"):
                step["truncated"] = True
            return step

    env = pm.make_env("umaze", n_steps + 10, continuing_task=True, reset_target=True)
    env.unwrapped.position_noise_range = 0.25
    col = minari.DataCollector(env, step_data_callback=SuccessTruncates, record_infos=True)
    rng = np.random.default_rng(seed)
    expert = WaypointExpert("umaze", rng)
    obs, _ = col.reset(seed=seed)
    states = [obs["observation"].copy()]
    for t in range(n_steps):
        if t == jump_at:
            env.unwrapped.point_env.set_state(obs["observation"][:2] + [0.0, 0.6], np.zeros(2))
        xy, v = obs["observation"][:2], obs["observation"][2:]
        a = np.clip(expert.act(xy, v, obs["desired_goal"]) + rng.normal(0, 0.5, 2), -1, 1)
        obs, *_ = col.step(a.astype(np.float32))
        states.append(obs["observation"].copy())
    col.create_dataset(dataset_id=dataset_id, algorithm_name="WaypointExpert+noise")
    col.close()
    return np.array(states)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Minari asks for author, permalink, ...
def test_minari_round_trip_and_errors(tmp_path, monkeypatch):
    import minari

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    states = _collect_minari(tmp_path, "pointmaze/umaze-test-v0", 700, seed=0)
    streams, skipped = ms.load_minari("pointmaze/umaze-test-v0", tmp_path)
    assert skipped == 0 and len(streams) == 1  # continuing episodes joined into one stream
    s = streams[0]
    assert s.maze == "umaze" and s.obs.shape == (701, 4)
    assert np.allclose(s.obs, states, atol=1e-6)
    assert s.reached.sum() >= 3  # several goals reached, each one an episode end
    n_eps = minari.load_dataset("pointmaze/umaze-test-v0").total_episodes
    assert n_eps in (s.reached.sum(), s.reached.sum() + 1)  # + the open last one
    dist = np.linalg.norm(s.obs[:, :2] - s.goal, axis=-1)
    assert (dist[s.reached] <= pm.SUCCESS_RADIUS).all()
    d = em.segment_wall_distance(_grid(s)[None], pm.walls("umaze"))
    assert d.min() > 0.05

    _collect_minari(tmp_path, "pointmaze/umaze-jump-v0", 300, seed=1, jump_at=20)
    with pytest.raises(ValueError, match=r"umaze-jump-v0.*episode 0.*achieved_goal jumps"):
        ms.load_minari("pointmaze/umaze-jump-v0", tmp_path)
    streams, skipped = ms.load_minari("pointmaze/umaze-jump-v0", tmp_path, on_bad_sample="skip")
    assert skipped == 1 and sum(len(x.obs) for x in streams) < 301

    with pytest.raises(
        FileNotFoundError, match=r"pointmaze/nope-v0.*not found in .*" + tmp_path.name
    ):
        ms.load_minari("pointmaze/nope-v0", tmp_path)
    with pytest.raises(ValueError, match="on_bad_sample"):
        ms.load_minari("pointmaze/umaze-test-v0", tmp_path, on_bad_sample="ignore")


def test_test_seed_draws_a_fresh_test_split_alone(tmp_path):
    """data.test_seed: the test episodes change, the train windows and val episodes (every
    model and val choice) stay byte for byte."""
    from interdiff_core.io import load_tensors
    from interdiff_core.stages.prepare_data import prepare_data

    cfg = dict(domain="maze2d", source="generate", mazes=["umaze"], horizon=9, stride=16,
               stream_steps=2000, rest_episodes=0.25, n_train=16, n_val=3, n_test=3,
               on_bad_sample="error")  # fmt: skip
    prepare_data(cfg, 0, tmp_path / "same.safetensors")
    prepare_data({**cfg, "test_seed": 0}, 0, tmp_path / "explicit.safetensors")
    prepare_data({**cfg, "test_seed": 5}, 0, tmp_path / "fresh.safetensors")
    same, explicit, fresh = (
        load_tensors(tmp_path / f"{n}.safetensors")[0] for n in ("same", "explicit", "fresh")
    )
    for key, value in same.items():
        assert torch.equal(value, explicit[key]), key  # test_seed = run.seed: the default
        if not key.startswith("test."):
            assert torch.equal(value, fresh[key]), key
    assert not torch.equal(same["test.start_xy"], fresh["test.start_xy"])
