"""The simulator layer: MuJoCo PointMaze factory, coordinate frames, exact reset, tracker, loop."""

import warnings

import numpy as np
import pytest

pytest.importorskip("gymnasium_robotics")

from interdiff_core.envs import episodes as ep  # noqa: E402
from interdiff_core.envs import pointmaze as pm  # noqa: E402
from interdiff_core.envs import tracker  # noqa: E402
from interdiff_core.metrics import episodes as em  # noqa: E402

MAZES = ("umaze", "medium", "large")
warnings.filterwarnings("ignore", message=".*reward functions were updated.*")


@pytest.fixture(scope="module")
def envs():
    out = {m: pm.make_env(m, pm.EPISODE_STEPS[m]) for m in MAZES}
    yield out
    for env in out.values():
        env.close()


def test_env_map_equals_layout_and_physics(envs):
    for maze, env in envs.items():
        u = env.unwrapped
        assert np.array_equal(np.array(u.maze.maze_map) == 1, pm.walls(maze))
        assert u.position_noise_range == 0.0 and not u.reset_target and u.continuing_task
        assert env.spec.max_episode_steps == pm.EPISODE_STEPS[maze]
        assert u.point_env.dt == pytest.approx(pm.DT)
        assert np.allclose(env.action_space.low, -1) and np.allclose(env.action_space.high, 1)
        assert not pm.walls(maze)[pm.EVAL_GOAL_CELL[maze]]
    with pytest.raises(ValueError, match="unknown maze"):
        pm.make_env("nope", 10)


def test_frames_round_trip_against_the_env(envs):
    rng = np.random.default_rng(0)
    for maze, env in envs.items():
        m = env.unwrapped.maze
        h, w = pm.walls(maze).shape
        cells = np.argwhere(np.ones((h, w), bool))
        xy = pm.cell_to_xy(maze, cells)
        assert np.allclose(xy, [m.cell_rowcol_to_xy(c) for c in cells])
        pts = xy + rng.uniform(-0.49, 0.49, size=xy.shape)
        want = np.array([m.cell_xy_to_rowcol(p) for p in pts])
        assert np.array_equal(pm.xy_to_cell(maze, pts), want)
        grid = pm.xy_to_grid(maze, pts)
        assert np.array_equal(np.floor(grid).astype(int), want)  # cell (i, j) = [i, i+1) x [j, j+1)
        assert np.allclose(pm.grid_to_xy(maze, grid), pts)
        assert np.allclose(pm.d4rl_to_xy(maze, pm.xy_to_d4rl(maze, pts)), pts)
        assert np.allclose(pm.xy_to_d4rl(maze, pts), grid - pm.D4RL_OFFSET)
        # vectorised over leading dims
        assert pm.xy_to_grid(maze, pts.reshape(-1, 1, 1, 2)).shape == (len(pts), 1, 1, 2)
    v = rng.normal(size=(5, 3, 2))
    assert np.allclose(pm.vel_grid_to_xy(pm.vel_xy_to_grid(v)), v)
    assert np.allclose(pm.vel_xy_to_grid([1.0, 2.0]), [-2.0, 1.0])  # y up = row down
    obs = np.concatenate([pts[:4], v[0, :2].repeat(2, 0)], -1)
    assert np.allclose(pm.obs_from_d4rl("large", pm.obs_to_d4rl("large", obs)), obs)
    with pytest.raises(ValueError, match="last dimension"):
        pm.xy_to_grid("umaze", np.zeros((3, 3)))


def test_per_maze_converts_each_row_in_its_own_maze():
    from interdiff_core.data.maze_windows import goal_to_model, per_maze, to_model, to_world

    mazes, G = ["umaze", "medium"], 8
    maze_id = np.array([1, 0, 0, 1, 1])
    cells = [(1, 1), (1, 2), (3, 1), (6, 6), (1, 4)]
    xy = np.stack([pm.cell_to_xy(mazes[m], np.array(c)) for m, c in zip(maze_id, cells)])
    state = np.concatenate([np.repeat(xy[:, None], 3, 1), np.ones((5, 3, 2))], -1)
    model = per_maze(to_model, state, maze_id, mazes, G)
    goal = per_maze(goal_to_model, xy, maze_id, mazes, G)
    for i, m in enumerate(maze_id):  # row by row, in its own maze's frame
        assert np.allclose(model[i], to_model(state[i], mazes[m], G))
        assert np.allclose(goal[i], model[i, 0, :2])
    assert np.allclose(per_maze(to_world, model, maze_id, mazes, G), state, atol=1e-5)
    with pytest.raises(ValueError, match="maze_id"):
        per_maze(to_model, state, np.array([0, 2, 0, 0, 0]), mazes, G)


def test_reset_to_is_exact(envs):
    env = envs["medium"]
    start, goal = np.array([-1.93, 2.71]), np.array([2.4, -2.6])
    obs = pm.reset_to(env, start, goal, start_vel=(0.5, -1.0))
    assert np.allclose(obs["observation"], [*start, 0.5, -1.0])
    assert np.allclose(obs["desired_goal"], goal) and np.allclose(env.unwrapped.goal, goal)
    nxt = env.unwrapped.step(np.zeros(2))[0]
    assert np.allclose(nxt["desired_goal"], goal)
    assert np.linalg.norm(nxt["achieved_goal"] - start) < 0.02  # moved by one step of v
    wall_xy = pm.cell_to_xy("medium", (0, 0))
    with pytest.raises(ValueError, match="not a free cell"):
        pm.reset_to(env, wall_xy, goal)
    with pytest.raises(ValueError, match="goal_xy"):
        pm.reset_to(env, start, pm.cell_to_xy("medium", (1, 3)))


def _d4rl_mjcf(maze: str) -> str:
    """D4RL's maze2d MJCF (d4rl/pointmaze/maze_model.py: point_maze), rebuilt for this test."""
    walls = "".join(
        f'<geom conaffinity="1" type="box" pos="{i + 1.0} {j + 1.0} 0" size="0.5 0.5 0.2"/>'
        for i, j in np.argwhere(pm.walls(maze))
    )
    return f"""<mujoco model="point_maze">
  <compiler inertiafromgeom="true" angle="radian"/>
  <option timestep="0.01" gravity="0 0 0" iterations="20" integrator="Euler"/>
  <default><joint damping="1" limited="false"/>
    <geom friction=".5 .1 .1" density="1000" margin="0.002" condim="1" contype="2"
          conaffinity="1"/></default>
  <worldbody>
    <geom name="ground" size="40 40 0.25" pos="0 0 -0.1" type="plane" contype="1"
          conaffinity="0"/>
    <body name="particle" pos="1.2 1.2 0">
      <geom name="particle_geom" type="sphere" size="0.1" contype="1"/>
      <joint name="ball_x" type="slide" pos="0 0 0" axis="1 0 0"/>
      <joint name="ball_y" type="slide" pos="0 0 0" axis="0 1 0"/>
    </body>{walls}
  </worldbody>
  <actuator>
    <motor joint="ball_x" ctrlrange="-1.0 1.0" ctrllimited="true" gear="100"/>
    <motor joint="ball_y" ctrlrange="-1.0 1.0" ctrllimited="true" gear="100"/>
  </actuator>
</mujoco>"""


def test_d4rl_offset_decided_by_driving_into_walls():
    """Drive D4RL's own physics into every wall around every free cell, starting where D4RL
    resets (qpos = cell index). Offset 0.7 keeps every converted segment out of the walls (the
    ball rests ~0.1 from them); the 'cell centre' reading 0.5 puts it inside walls."""
    import mujoco

    maze = "medium"
    model = mujoco.MjModel.from_xml_string(_d4rl_mjcf(maze))
    data = mujoco.MjData(model)
    qpos = []
    for cell in pm.free_cell_array(maze):
        for push in ([1, 0], [-1, 0], [0, 1], [0, -1]):
            mujoco.mj_resetData(model, data)
            data.qpos[:] = cell
            mujoco.mj_forward(model, data)
            run = [data.qpos.copy()]
            for _ in range(60):
                data.qvel[:] = np.clip(data.qvel, -5, 5)  # D4RL's clip_velocity
                data.ctrl[:] = push
                mujoco.mj_step(model, data)
                run.append(data.qpos.copy())
            qpos.append(run)
    qpos = np.array(qpos)  # [runs, 61, 2], D4RL frame
    walls = pm.walls(maze)
    d07 = em.segment_wall_distance(qpos + pm.D4RL_OFFSET, walls)
    d05 = em.segment_wall_distance(qpos + 0.5, walls)
    assert d07.min() > 0.05 and abs(np.median(d07[:, -1]) - 0.1) < 0.05
    assert (d05.min(axis=1) == 0).mean() > 0.2
    # the same experiment in gymnasium-robotics' env gives the same resting distance
    env = pm.make_env(maze, 100)
    rest = []
    for push in ([1, 0], [-1, 0], [0, 1], [0, -1]):
        pm.reset_to(env, pm.cell_to_xy(maze, (1, 1)), pm.cell_to_xy(maze, (6, 6)))
        for _ in range(60):
            xy = env.unwrapped.step(np.array(push, float))[0]["achieved_goal"]
        rest.append(em.segment_wall_distance(pm.xy_to_grid(maze, [[xy, xy]]), walls)[0, 0])
    env.close()
    assert np.allclose(rest, np.median(d07[:, -1]), atol=0.01)


def test_pd_formulas_and_plan_follower_targets():
    a = tracker.expert_action([1.0, 0.0], [0.95, 0.0], [0.2, 0.1])
    assert np.allclose(a, [0.5 - 0.2, -0.1])
    assert np.allclose(tracker.expert_action([5, -5], [0, 0], [0, 0]), [1, -1])
    assert np.allclose(tracker.plan_action([0.3, 0], [0.1, 0], [0, 0], [0, 0.2]), [0.4, -0.2])
    plan = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 4.0]])
    vel = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    f = tracker.PlanFollower(plan, vel, stride=4)
    p, v = f.target(0)  # time 1 = a quarter of the way to planned state 1
    assert np.allclose(p, [0.5, 0.0]) and np.allclose(v, [0.75, 0.25])
    p, v = f.target(3)  # time 4 = planned state 1 exactly
    assert np.allclose(p, plan[1]) and np.allclose(v, vel[1])
    p, v = f.target(7)  # time 8 = the last planned state, with its velocity
    assert np.allclose(p, plan[2]) and np.allclose(v, vel[2])
    p, v = f.target(8)  # after the plan: hold the last state, zero velocity
    assert np.allclose(p, plan[2]) and np.allclose(v, 0.0)
    assert np.allclose(f.act(8, [2.0, 3.0], [0.0, 0.5]), [0.0, 0.5])
    with pytest.raises(ValueError, match="stride"):
        tracker.PlanFollower(plan, vel, stride=0)
    with pytest.raises(ValueError, match="plan_v"):
        tracker.PlanFollower(plan, vel[:2])


def test_velocities_from_positions_are_their_finite_differences():
    """Central differences over stride · dt inside, one-sided at the ends: exact on a line at
    constant speed, and inside on a parabola (x = t²: v = 2t); any leading batch shape."""
    h = 4 * 0.01  # stride 4, dt 0.01
    t = np.arange(6) * h
    line = np.stack([3 * t, -2 * t], axis=-1)
    assert np.allclose(tracker.velocities_from_positions(line, 4), [3.0, -2.0])
    parabola = np.stack([t**2, np.zeros_like(t)], axis=-1)
    v = tracker.velocities_from_positions(np.stack([parabola, line]), 4)
    assert v.shape == (2, 6, 2) and np.allclose(v[1], [3.0, -2.0])
    assert np.allclose(v[0, 1:-1, 0], 2 * t[1:-1])
    assert np.isclose(v[0, 0, 0], h) and np.isclose(v[0, -1, 0], t[-1] + t[-2])
    with pytest.raises(ValueError, match=r"\[..., T, 2\] with T >= 2"):
        tracker.velocities_from_positions(np.zeros((1, 2)), 4)


def test_expert_waypoints_follow_the_shortest_path():
    rng = np.random.default_rng(0)
    e = tracker.WaypointExpert("medium", rng)
    start, goal = pm.cell_to_xy("medium", (1, 1)), pm.cell_to_xy("medium", (6, 6))
    e.act(start, np.zeros(2), goal)
    wps = e._waypoints
    cells = pm.xy_to_cell("medium", wps[:-1] + 0.1)  # jitter is -U(0, 0.2): back inside cells
    assert np.allclose(wps[-1], goal)
    assert (np.abs(np.diff(cells, axis=0)).sum(1) == 1).all()  # neighbouring cells
    assert len(wps) == 10  # BFS distance (1,1) -> (6,6) in the medium maze is 10
    off = wps[:-1] - pm.cell_to_xy("medium", cells)
    assert (off <= 0).all() and (off >= -0.2).all()


def test_eval_tasks_protocol():
    a = ep.eval_tasks("large", 40, seed=1)
    b = ep.eval_tasks("large", 40, seed=1)
    c = ep.eval_tasks("large", 40, seed=2)
    for k in a:
        assert np.array_equal(a[k], b[k])
    assert not np.array_equal(a["start_xy"], c["start_xy"])
    assert (a["goal_cell"] == pm.EVAL_GOAL_CELL["large"]).all()
    assert (a["start_cell"] != a["goal_cell"]).any(axis=1).all()
    assert not pm.walls("large")[tuple(a["start_cell"].T)].any()
    for xy, cell in ((a["start_xy"], a["start_cell"]), (a["goal_xy"], a["goal_cell"])):
        off = xy - pm.cell_to_xy("large", cell)
        assert (np.abs(off) <= 0.25).all() and off.std() > 0.05
    r = ep.eval_tasks("umaze", 30, seed=0, goal="random")
    assert len({tuple(g) for g in r["goal_cell"]}) > 1
    with pytest.raises(ValueError, match="fixed"):
        ep.eval_tasks("umaze", 3, seed=0, goal="nope")


def test_expert_reaches_eval_goals_and_plan_follower_tracks_it(envs):
    rng = np.random.default_rng(0)
    for maze in MAZES:
        env, n = envs[maze], pm.EPISODE_STEPS[maze]
        tasks = ep.eval_tasks(maze, 3, seed=5)
        for k in range(3):
            s, g = tasks["start_xy"][k], tasks["goal_xy"][k]
            rec = ep.run_episode(env, ep.expert_policy(maze, rng), n, s, g)
            assert rec["xy"].shape == (n + 1, 2) and rec["vel"].shape == (n + 1, 2)
            assert rec["actions"].shape == (n, 2) and rec["dist"].shape == (n,)
            assert all(rec[key].dtype == np.float32 for key in rec)
            assert np.allclose(rec["xy"][0], s)
            assert em.success(rec["dist"][None], pm.SUCCESS_RADIUS)[0] == 1.0
            assert rec["dist"][-1] <= pm.SUCCESS_RADIUS  # and stays there
            grid = pm.xy_to_grid(maze, rec["xy"])[None]
            assert not em.wall_crossings(grid, pm.walls(maze), radius=0.0)[0]
        # Diffuser's tracker on the expert's own states (stride 2) reaches the goal too.
        plan_xy, plan_v = rec["xy"][::2], rec["vel"][::2]
        follow = ep.run_episode(env, ep.plan_policy(plan_xy, plan_v, stride=2), n, s, g)
        assert em.success(follow["dist"][None], pm.SUCCESS_RADIUS)[0] == 1.0
        err = em.tracking_error(follow["xy"][None, ::2], plan_xy[None])[0]
        assert err < 0.5


def test_random_policy_and_loop_errors(envs):
    env = envs["umaze"]
    pol = ep.random_policy(np.random.default_rng(0))
    s, g = pm.cell_to_xy("umaze", (3, 1)), pm.cell_to_xy("umaze", (1, 1))
    r1 = ep.run_episode(env, pol, 50, s, g)
    r2 = ep.run_episode(env, ep.random_policy(np.random.default_rng(0)), 50, s, g)
    assert np.array_equal(r1["xy"], r2["xy"])  # seeded
    assert np.abs(r1["actions"]).max() <= 1 and r1["actions"].std() > 0.3
    with pytest.raises(ValueError, match="finite"):
        ep.run_episode(env, lambda t, xy, v, goal: np.array([np.nan, 0.0]), 5, s, g)
    moving = pm.make_env("umaze", 10, reset_target=True)
    with pytest.raises(ValueError, match="reset_target"):
        ep.run_episode(moving, pol, 5, s, g)
    moving.close()
