"""bench/episode_oracle.py's choosers on draws whose answer is known: a per-episode source
advantage is found on held-out draws, noise alone is not, ties keep uniform keyframes, and the
router takes each test task's source from its nearest val tasks."""

import sys

import numpy as np
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from episode_oracle import oracle_gains, val_router  # noqa: E402


def _arms(selector: np.ndarray) -> dict:
    """uniform scores 0 everywhere; the selector's draws as given ([k, n])."""
    return {"uniform": np.zeros_like(selector), "selector": selector}


def test_a_per_episode_advantage_is_kept_on_held_out_draws():
    # episode 0: the selector is 10 better on every draw; episode 1: 10 worse
    sel = np.tile([10.0, -10.0], (8, 1))
    g = oracle_gains(_arms(sel), "uniform", "selector")
    np.testing.assert_allclose(g["oracle_all"], [10.0, 0.0])
    np.testing.assert_allclose(g["oracle_pair"], [10.0, 0.0])
    np.testing.assert_allclose(g["best_arm"], [0.0, 0.0])  # equal means: uniform kept
    np.testing.assert_allclose(g["oracle_all_minus_best_arm"], [10.0, 0.0])


def test_noise_chosen_on_one_half_does_not_carry_to_the_other():
    # the selector's first four draws of the episode are +5, the last four −5: no advantage
    sel = np.repeat([[5.0], [-5.0]], 4, axis=0)
    g = oracle_gains(_arms(sel), "uniform", "selector")
    assert g["in_sample"][0] == 0.0  # its mean over all draws is uniform's
    # chosen on the first half (+5) it scores −5 on the second; chosen on the second it keeps
    # uniform: the cross-fitted oracle loses what the in-sample one would have claimed
    assert g["oracle_all"][0] == -2.5


def test_ties_keep_uniform_keyframes():
    sel = np.zeros((8, 3))
    g = oracle_gains(_arms(sel) | {"dp_dphi": np.zeros((8, 3))}, "uniform", "selector")
    for name, gain in g.items():
        np.testing.assert_array_equal(gain, 0.0, err_msg=name)


def test_the_router_takes_each_test_tasks_source_from_its_nearest_val_tasks():
    # two regions of tasks: the selector wins near 0 and loses near 10, on val and on test
    val_tasks = np.array([[0.0] * 4, [0.1] * 4, [10.0] * 4, [10.1] * 4])
    test_tasks = np.array([[0.05] * 4, [10.05] * 4])
    val = _arms(np.tile([3.0, 3.0, -3.0, -3.0], (8, 1)))
    test = _arms(np.tile([4.0, -4.0], (8, 1)))
    out = val_router(val, test, val_tasks, test_tasks, neighbours=2, versus=np.array([1.0, 1.0]))
    np.testing.assert_allclose(out["router"], [4.0, 0.0])
    np.testing.assert_allclose(out["best_arm"], [0.0, 0.0])  # val means tie: uniform
    np.testing.assert_allclose(out["router_minus_versus_uniform"], [3.0, -1.0])
    # with every val task as a neighbour it is the best single source again
    wide = val_router(val, test, val_tasks, test_tasks, neighbours=4)
    np.testing.assert_allclose(wide["router"], wide["best_arm"])
