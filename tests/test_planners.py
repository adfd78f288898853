"""Every planner `sample` and `execute` call (`build_planners`), on untrained models: with
`sample.inpaint` each maze plan starts at the observed state and ends at the goal position, as
Diffuser conditions its plans; without it nothing forces either."""

from itertools import combinations

import pytest
import torch
from conftest import write_maze_shards

from interdiff_core.data.maze_dataset import load_split
from interdiff_core.models.selector import make_selector
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.planners import Models, build_planners, source_method
from interdiff_core.sample.two_phase import sample_keyframes
from interdiff_core.selection.dp import path_cost
from interdiff_core.selection.keyframe_eval import best_fixed_nested, true_cost_matrix

LEVELS = [3, 5]


def untrained_models(x_dim: int, cond_dim: int, T: int) -> Models:
    torch.manual_seed(0)
    arch = dict(d_model=16, n_layers=1, n_heads=2)
    small = dict(x_dim=x_dim, cond_dim=cond_dim, **arch)
    return Models(
        teacher=SequenceTransformer(**small, n_steps=3).eval(),
        selector=make_selector(cond_dim, T, len(LEVELS), **arch).eval(),
        phase1=SequenceTransformer(**small, n_steps=3).eval(),
        phase2=SequenceTransformer(**small, n_levels=len(LEVELS)).eval(),
        dphi=None,
        levels=LEVELS,
        phase2_sigmas=[0.0, 0.0],
        teacher_meta={},
    )


@pytest.mark.parametrize("inpaint", [True, False])
def test_inpainted_plans_start_at_the_state_and_end_at_the_goal(tmp_path, inpaint):
    write_maze_shards(tmp_path, n=6, T=8)
    d = load_split(tmp_path)
    models = untrained_models(d.D, d.cond.shape[1], d.T)
    cfg = dict(
        teacher_steps=[1, 4],
        untrained_steps=2,
        phase1_steps=[2],
        keyframe_sources=["uniform"],
        ablation_steps=2,
        inpaint=inpaint,
    )
    planners = build_planners(models, cfg, d.T, d.cond.shape[1], d.baseline, seed=0)
    assert {p.method for p in planners} >= {"teacher", "two_phase", "interp_only_uniform"}
    start, goal = d.start_goal[:, :4], d.start_goal[:, 4:6]
    for p in planners:
        plan = p.plan(d, torch.Generator().manual_seed(0))
        ends = torch.equal(plan[:, 0, :2], start[:, :2]) and torch.equal(plan[:, -1, :2], goal)
        if p.method == d.baseline:  # joins the two positions by construction, at its own speed
            assert ends, p.key
        elif inpaint:
            assert ends and torch.equal(plan[:, 0], start), p.key
        else:
            assert not ends, p.key


def test_best_fixed_source_gives_every_episode_the_train_schedule(tmp_path):
    """The `best_fixed` arm reads no conditioning: each episode gets the nested schedule with the
    lowest mean true cost on train, which no other nested schedule beats on train."""
    write_maze_shards(tmp_path, n=6, T=8)
    d = load_split(tmp_path)
    models = untrained_models(d.D, d.cond.shape[1], d.T)
    with pytest.raises(ValueError, match="best_fixed needs the train split"):
        models.keyframes("best_fixed", d, d.T)
    models.fixed = best_fixed_nested(d.x, LEVELS)
    idx = models.keyframes("best_fixed", d, d.T)
    assert [tuple(i.shape) for i in idx] == [(len(d), K) for K in LEVELS]
    assert all(len(torch.unique(i, dim=0)) == 1 for i in idx)
    mean = true_cost_matrix(d.x).mean(0, keepdim=True)
    best = min(  # brute force over every level-0 schedule: endpoints plus K_0 − 2 inner frames
        path_cost(mean, torch.tensor([[0, *inner, d.T - 1]])).item()
        for inner in combinations(range(1, d.T - 1), LEVELS[0] - 2)
    )
    assert path_cost(mean, idx[0][:1]).item() == pytest.approx(best)
    assert set(idx[0][0].tolist()) <= set(idx[1][0].tolist())


@pytest.mark.parametrize("main", ["selector", "uniform"])
def test_two_phase_rows_use_the_configured_keyframe_source(tmp_path, main):
    """`sample.two_phase_keyframes` names the keyframes of the `two_phase` / `interp_only` rows
    (a variant's replacement of the selector): interpolation-only is phase-1 on that source's
    indices joined by the interpolation; the selector's tokens are charged only where it runs."""
    write_maze_shards(tmp_path, n=6, T=8)
    d = load_split(tmp_path)
    models = untrained_models(d.D, d.cond.shape[1], d.T)
    other = "uniform" if main == "selector" else "selector"
    cfg = dict(
        teacher_steps=[1],
        untrained_steps=1,
        phase1_steps=[2],
        keyframe_sources=[other],
        ablation_steps=2,
        two_phase_keyframes=main,
    )
    planners = {p.key: p for p in build_planners(models, cfg, d.T, d.cond.shape[1], "line", 0)}
    for source, key in ((main, "interp_only@2"), (other, f"interp_only_{other}@2")):
        assert f"{source_method('interp_only', source, cfg)}@2" == key  # what bench scripts read
        idx = models.keyframes(source, d, d.T)[0]
        anchors = sample_keyframes(models.phase1, d.cond, idx, 2, torch.Generator().manual_seed(3))
        plan = planners[key].plan(d, torch.Generator().manual_seed(3))
        assert torch.equal(plan, models.interp(anchors, idx, d.T)), key
    assert not torch.equal(models.keyframes(main, d, d.T)[0], models.keyframes(other, d, d.T)[0])
    for method in ("interp_only", "two_phase"):
        ours, theirs = planners[f"{method}@2"], planners[f"{method}_{other}@2"]
        assert (ours.tokens > theirs.tokens) == (main == "selector"), method
