"""Episode and plan metrics on hand-made cases (numpy only, no simulator)."""

import numpy as np
import pytest

from interdiff_core.metrics import episodes as em

# 3 x 3 free block inside a wall ring, with a wall in the middle: free cells form a ring.
RING = np.array(
    [[ch == "#" for ch in row] for row in ["#####", "#OOO#", "#O#O#", "#OOO#", "#####"]]
)


def test_returns_success_steps_score():
    dist = np.array([[1.0, 0.6, 0.5, 0.44, 0.3], [2.0, 2.0, 2.0, 2.0, 2.0]])
    assert np.array_equal(em.returns(dist, 0.5), [3.0, 0.0])
    assert np.array_equal(em.returns(dist, 0.45), [2.0, 0.0])
    assert np.array_equal(em.success(dist, 0.45), [1.0, 0.0])
    s = em.steps_to_goal(dist, 0.45)
    assert s[0] == 4.0 and np.isnan(s[1])
    assert np.allclose(em.normalised_score([23.85, 161.86, 92.855], 23.85, 161.86), [0, 100, 50])
    with pytest.raises(ValueError, match="ref_max"):
        em.normalised_score([1.0], 2.0, 2.0)
    with pytest.raises(ValueError, match="dist"):
        em.returns(np.zeros(5), 0.5)


def test_tracking_error():
    xy = np.zeros((2, 3, 2))
    plan = np.zeros((2, 3, 2))
    plan[0, :, 0] = [0.0, 3.0, 4.0]
    plan[1, 2] = np.nan
    assert np.allclose(em.tracking_error(xy, plan), [7.0 / 3.0, 0.0])


def test_wall_crossings_points_segments_and_corners():
    free = np.array([[1.5, 1.5], [1.5, 3.5], [3.5, 3.5]])  # along the ring, centre line
    assert not em.wall_crossings(free[None], RING)[0]
    # Straight through the middle wall cell (2, 2): both endpoints free.
    assert em.wall_crossings(np.array([[[1.5, 1.5], [3.5, 3.5]]]), RING)[0]
    # Cutting round the corner of wall (2, 2) at its vertex (row 2, col 3): both endpoints lie
    # in free cells, >= 0.45 from any wall, and the segment never enters the wall, but passes
    # 0.1 / sqrt(2) from the vertex. Checking points only would miss it.
    cut = np.array([[[1.45, 2.55], [2.45, 3.55]]])
    ends = em.segment_wall_distance(np.repeat(cut, 2, axis=1).reshape(2, 2, 2), RING)
    assert ends.min() >= 0.45 - 1e-9
    d = em.segment_wall_distance(cut, RING)[0, 0]
    assert d == pytest.approx(0.1 / np.sqrt(2))
    assert em.wall_crossings(cut, RING, radius=0.1)[0]
    assert not em.wall_crossings(cut, RING, radius=0.07)[0]
    # Through the corner of the wall: distance 0.
    diag = np.array([[[1.5, 1.5], [2.5, 3.6]]])  # (1, 1) -> (2, 3) crosses cell (2, 2)
    assert em.segment_wall_distance(diag, RING)[0, 0] == 0.0
    # Parallel to a wall at 0.15 vs 0.05.
    near = np.array([[[1.15, 1.5], [1.15, 3.5]]])
    assert not em.wall_crossings(near, RING, radius=0.1)[0]
    assert em.segment_wall_distance(near, RING)[0, 0] == pytest.approx(0.15)
    assert em.wall_crossings(near - [0.1, 0.0], RING, radius=0.1)[0]
    # Leaving the map counts (walls outside), a NaN counts.
    open_map = np.zeros((3, 3), bool)
    assert em.wall_crossings(np.array([[[1.5, 1.5], [1.5, 3.2]]]), open_map)[0]
    assert em.wall_crossings(np.array([[[1.5, 1.5], [np.nan, 1.5]]]), open_map)[0]
    assert not em.wall_crossings(np.array([[[1.5, 1.5], [1.5, 2.5]]]), open_map)[0]
    # Per-sample walls [N, H, W].
    pos = np.repeat(np.array([[[1.5, 1.5], [3.5, 3.5]]]), 2, 0)
    walls = np.stack([RING, np.zeros_like(RING)])
    assert em.wall_crossings(pos, walls).tolist() == [True, False]
    with pytest.raises(ValueError, match="walls"):
        em.wall_crossings(pos, np.stack([RING] * 3))


def test_smoothness_ratio():
    t = np.arange(6, dtype=np.float64)
    gt = np.stack([0.1 * t**2, t], -1)[None]  # second difference 0.2 on one axis
    plan = np.stack([0.2 * t**2, t], -1)[None]
    assert em.smoothness_ratio(plan, gt)[0] == pytest.approx(4.0)
    assert em.smoothness_ratio(gt, gt)[0] == pytest.approx(1.0)
    line = np.stack([t, t], -1)[None]
    assert em.smoothness_ratio(line, gt)[0] == 0.0
    with pytest.raises(ValueError, match="zero second difference"):
        em.smoothness_ratio(gt, line)


def test_segment_distance_matches_dense_sampling():
    """Exact segment distances (windowed for short segments, all walls for long ones) agree
    with an independent dense sampling of points along each segment."""
    rng = np.random.default_rng(0)
    walls = rng.random((6, 7)) < 0.4
    short = rng.uniform(0, [6, 7], size=(80, 2))
    starts = np.concatenate([short, rng.uniform(0, [6, 7], size=(30, 2))])
    steps = np.concatenate([rng.normal(0, 0.4, (80, 2)), rng.normal(0, 3.0, (30, 2))])
    ends = np.clip(starts + steps, 0, [6, 7])
    pos = np.stack([starts, ends], 1)  # 110 one-segment plans
    got = em.segment_wall_distance(pos, walls)[:, 0]
    padded = np.pad(walls, 1, constant_values=True)
    lo = np.argwhere(padded).astype(np.float64) - 1.0
    t = np.linspace(0, 1, 2001)[:, None]
    for k in range(len(pos)):
        pts = pos[k, 0] + t * (pos[k, 1] - pos[k, 0])  # [S, 2]
        gap = np.maximum(np.maximum(lo[None] - pts[:, None], pts[:, None] - lo[None] - 1), 0)
        want = min(np.linalg.norm(gap, axis=-1).min(), 1.0)
        seg_len = np.linalg.norm(pos[k, 1] - pos[k, 0])
        assert abs(got[k] - want) <= seg_len / 2000 + 1e-9, k
    assert (got == 0).mean() > 0.2 and ((got > 0) & (got < 1)).mean() > 0.2


def test_comparisons_pair_every_arm_with_its_trivial_replacement():
    from interdiff_core.stages.episode_metrics import comparisons

    keys = {"teacher@4", "two_phase@4", "interp_only@4", "two_phase_uniform@4", "interp_fd@4",
            "interp_only_uniform@4", "two_phase_dp_dphi@4", "interp_only_dp_dphi@4",
            "two_phase_fd@4"}  # fmt: skip
    pairs = set(comparisons(keys, "teacher@4"))
    assert ("two_phase@4", "teacher@4") in pairs and ("interp_only@4", "teacher@4") in pairs
    assert ("two_phase@4", "interp_only@4") in pairs  # what phase-2 adds
    assert ("two_phase@4", "interp_fd@4") in pairs  # ... beyond interpolation's velocity fix
    assert ("interp_fd@4", "teacher@4") in pairs
    assert ("two_phase@4", "two_phase_uniform@4") in pairs  # the selector against uniform
    assert ("two_phase_dp_dphi@4", "two_phase_uniform@4") in pairs  # D_phi against uniform
    assert ("two_phase_dp_dphi@4", "interp_only_dp_dphi@4") in pairs
    assert ("two_phase_uniform@4", "two_phase_dp_dphi@4") not in pairs
    assert ("two_phase_fd@4", "interp_fd@4") in pairs  # both plans with the velocity fix
    assert ("two_phase_fd@4", "two_phase@4") in pairs  # what the fix does to phase-2's plans
    assert ("two_phase@4", "two_phase_fd@4") not in pairs  # not a keyframe source
    assert not any(a.startswith("interp_fd") and b.startswith("interp_only") for a, b in pairs)


def test_answers_read_each_learned_part_against_its_replacement_and_warn_where_it_loses(
    tmp_path, caplog
):
    import pandas as pd

    from interdiff_core.stages.summarize_runs import answers

    def row(split, a, b, diff, lo, hi):
        return dict(variant="base", split=split, maze="umaze", a=a, b=b, seeds=3, diff=diff,
                    ci_lo=lo, ci_hi=hi, seeds_above_zero=int(diff > 0) + int(lo > 0))  # fmt: skip

    paired = pd.DataFrame([
        row("val", "two_phase@val", "teacher@val", -1.0, -3.0, 1.0),
        row("test", "two_phase@val", "teacher@val", -4.0, -6.0, -2.0),
        row("val", "two_phase@val", "interp_fd@val", 2.0, 0.5, 3.5),
        row("test", "two_phase@val", "interp_fd@val", 1.0, -0.5, 2.5),
        row("val", "two_phase_dp_dphi@4", "two_phase_uniform@4", -2.0, -3.0, -1.0),
        row("test", "two_phase_dp_dphi@4", "two_phase_uniform@4", -2.0, -3.0, -1.0),
        row("val", "two_phase@val", "interp_only@val", 1.0, -1.0, 3.0),  # the stronger on val
        row("test", "two_phase@val", "interp_only@val", 3.0, 1.0, 5.0),
        row("val", "two_phase_or_fd@val", "interp_or_fd@val", -0.5, -2.0, 1.0),  # fix by val
        row("test", "two_phase_or_fd@val", "interp_or_fd@val", 0.5, -1.0, 2.0),
        row("val", "two_phase@4", "interp_fd@4", 9.0, 8.0, 10.0),  # not a question: fixed steps
        row("val", "two_phase@val", "base:two_phase@val", 9.0, 8.0, 10.0),  # against a parent
    ])  # fmt: skip
    summary = pd.DataFrame({"variant": "base", "maze": "umaze", "tokens": [300.0, 2000.0],
                            "tokens_seeds": ["300/300/300", "100/100/5800"],  # one costly seed
                            "method": ["two_phase@val_choice", "teacher@val_choice"]})  # fmt: skip
    out = tmp_path / "answers.csv"
    with caplog.at_level("WARNING"):
        table = answers(paired, summary, out, margin=3.5)
    assert list(pd.read_csv(out).question) == list(table.question)
    assert list(table.b) == ["teacher@val", "interp_only@val", "interp_fd@val",
                             "interp_or_fd@val", "two_phase_uniform@4"]  # fmt: skip
    teacher, plain, fd, either, dphi = (r for _, r in table.iterrows())
    assert list(table.strongest_on_val) == [True, True, False, True, True]  # per learned part
    assert (either.a, either.val, either.holds_on_test) == (
        "two_phase_or_fd@val", "no difference shown", False)  # fmt: skip
    assert either.tokens_a == 300.0  # two-phase's: the fix changes no tokens
    assert (teacher.val, teacher.test) == ("no difference shown", "worse")
    assert (teacher.holds_on_val, teacher.holds_on_test) == (True, False)  # -3.0 > -3.5 > -6.0
    assert (teacher.tokens_a, teacher.tokens_b, teacher.tokens_ratio) == (300.0, 2000.0, 0.15)
    assert teacher.seeds_cheaper == 1  # cheaper on the mean, in one seed of three
    assert teacher.margin == 3.5 and np.isnan(fd.margin)
    assert (fd.val, fd.test, fd.holds_on_val, fd.holds_on_test) == (
        "better", "no difference shown", True, False)  # fmt: skip
    assert (dphi.val, dphi.holds_on_val) == ("worse", False) and np.isnan(dphi.tokens_a)
    assert (fd.val_seeds_above_zero, fd.test_seeds_above_zero) == (2, 1)  # each split's own
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 8  # teacher, interp_fd on test; interp_only, DP(D_phi), or_fd twice
    assert any("in only 1 of 3 seeds" in w and "(300.0 against 2000.0)" in w for w in warned)
    assert any("tokens per plan 300.0 against 2000.0 (fewer in 1 of 3 seeds)" in w for w in warned)
    assert any("phase-2 beats interpolation with position velocities" in w and "test" in w
               for w in warned)  # fmt: skip
    teacher_only = paired[paired.b == "teacher@val"]
    assert not answers(teacher_only, summary, out, margin=2.5).holds_on_val.iloc[0]  # -3.0 < -2.5
    # within the margin, but for more tokens
    costly = summary.assign(tokens=[2000.0, 300.0], tokens_seeds=["2000", "300"])
    assert not answers(teacher_only, costly, out, margin=3.5).holds_on_val.iloc[0]
    caplog.clear()
    with caplog.at_level("WARNING"):  # a planner without tokens is named so, not crashed on
        answers(teacher_only, summary.iloc[:1], out, margin=2.5)
    assert any("tokens per plan 300.0 against n/a" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="evaluate.teacher_margin"):
        answers(teacher_only, summary, out, margin=-1.0)


def test_mean_se_is_the_sample_standard_error_of_arrays_and_tensors():
    import math

    import torch

    from interdiff_core.metrics.stats import mean_se

    expected = (2.5, math.sqrt(5 / 3) / 2)  # sample variance of 1..4 is 5/3
    for values in ([1, 2, 3, 4], np.array([1.0, 2, 3, 4]), torch.tensor([1.0, 2, 3, 4])):
        assert mean_se(values) == pytest.approx(expected)
    mean, se = mean_se([7.0])
    assert mean == 7.0 and math.isnan(se)


def test_paired_bootstrap_one_seed_is_the_plain_episode_bootstrap():
    from interdiff_core.metrics.stats import paired_bootstrap

    d = np.random.default_rng(1).normal(2.0, 5.0, size=40)
    rng = np.random.default_rng(3)
    plain = d[rng.integers(0, len(d), size=(500, len(d)))].mean(axis=1)
    expected = (d.mean(), np.quantile(plain, 0.025), np.quantile(plain, 0.975))
    assert paired_bootstrap([d], 500, 3) == pytest.approx(expected)


def test_paired_bootstrap_over_seeds_carries_the_spread_between_seeds():
    from interdiff_core.metrics.stats import paired_bootstrap

    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 1.0, size=(3, 60))
    same = [5.0 + noise[0]] * 3  # three seeds that agree exactly
    apart = [m + n for m, n in zip((0.0, 5.0, 10.0), noise)]  # same mean, seeds far apart
    diff, lo, hi = paired_bootstrap(apart, 2000, 0)
    assert diff == pytest.approx(np.mean([a.mean() for a in apart]))
    _, lo_same, hi_same = paired_bootstrap(same, 2000, 0)
    assert lo_same < 5.0 < hi_same and hi_same - lo_same < 1.0  # episodes' noise only
    # pooling the 180 episodes as one sample would give an interval about 1.2 wide; resampling
    # the seeds gives about the spread of the seed means (0, 5, 10)
    assert hi - lo > 6.0 and lo < diff < hi


def test_states_in_walls_counts_wall_cells_off_map_and_nan():
    # RING: walls round the border and the middle cell (2, 2) of a 5 x 5 map
    pos = np.array([[[1.5, 1.5], [2.5, 2.5], [2.0, 2.99], [1.99, 1.99]]])  # free, wall, wall, free
    assert em.states_in_walls(pos, RING).tolist() == [0.5]
    off = np.array([[[1.5, 1.5], [-0.1, 1.5], [np.nan, 1.5], [1.5, 5.0]]])
    assert em.states_in_walls(off, np.zeros((5, 5), bool)).tolist() == [0.75]
    walls = np.stack([RING, np.zeros_like(RING)])
    assert em.states_in_walls(np.repeat(pos, 2, 0), walls).tolist() == [0.5, 0.0]
    with pytest.raises(ValueError, match="walls"):
        em.states_in_walls(pos, np.stack([RING] * 2))
