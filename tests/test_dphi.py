"""D_phi's loss and the keyframe cost table: the DP over D_phi's costs must pick keyframes whose
true cost beats uniform spacing."""

import numpy as np
import pytest
import torch

from interdiff_core.models.dphi import SegmentCostPredictor, dphi_loss
from interdiff_core.selection.costs import all_segments, oracle_costs, sample_segments
from interdiff_core.selection.dp import dp_select_levels
from interdiff_core.selection.keyframe_eval import (
    SOURCES,
    best_fixed_nested,
    keyframe_costs_table,
    mean_true_cost_matrix,
    true_cost_matrix,
)
from interdiff_core.selection.masks import uniform_nested


def test_dphi_loss_terms():
    target = torch.tensor([[1.0, 2.0, 4.0], [0.1, 0.2, 0.3]])
    w = {"mse": 1.0, "log": 1.0, "rank": 0.0}
    assert dphi_loss(target, target, w, 1.0).item() == pytest.approx(0.0, abs=1e-7)
    off = target * 1.5
    torch.testing.assert_close(
        dphi_loss(off, target, {"mse": 1.0}, 2.0), (((off - target) / 2.0) ** 2).mean()
    )
    lg = dphi_loss(off, target, {"log": 1.0}, 1.0)
    want = ((torch.log(off + 1e-3) - torch.log(target + 1e-3)) ** 2).mean()
    torch.testing.assert_close(lg, want)
    right, wrong = target, target.flip(1)
    r = {"rank": 1.0}
    assert dphi_loss(right, target, r, 1.0) < dphi_loss(wrong, target, r, 1.0)
    with pytest.raises(ValueError, match="dphi.loss"):
        dphi_loss(target, target, {"huber": 1.0}, 1.0)


def _bent_paths(n: int, T: int, gen: torch.Generator):
    """Paths that go straight to a corner frame c then straight on in a new direction; the
    conditioning is c one-hot, so the hard segments are known from the conditioning alone."""
    c = torch.randint(2, T - 2, (n,), generator=gen)
    t = torch.arange(T).float()
    first = torch.minimum(t, c[:, None].float())
    second = (t - c[:, None].float()).clamp_min(0)
    x = torch.stack([first, second], -1) / T
    x = x + 0.002 * torch.randn(x.shape, generator=gen)
    return x, torch.nn.functional.one_hot(c, T).float()


@pytest.mark.parametrize(
    "form,loss,margin",
    [
        ("pairwise", {"log": 1.0, "mse": 1.0}, 0.5),
        ("pairwise", {"log": 1.0, "mse": 1.0, "rank": 0.1}, 0.5),
        ("density", {"log": 1.0, "mse": 1.0}, 0.8),
        ("table", {"log": 1.0, "mse": 1.0}, 0.5),
    ],
)
def test_dp_over_trained_dphi_beats_uniform_on_true_cost(form, loss, margin):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    T, levels = 12, [3, 5]
    x, cond = _bent_paths(256, T, gen)
    seg = sample_segments(256, T, 16, gen)
    cost = oracle_costs(x, seg)
    scale = float(cost.mean())
    model = SegmentCostPredictor(T, T, d_model=32, scale=scale, form=form)
    model.init_from_targets(cond, seg, cost)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        b = torch.randint(256, (64,), generator=gen)
        opt.zero_grad()
        dphi_loss(model(cond[b], seg[b]), cost[b], loss, scale).backward()
        opt.step()
    xv, cv = _bent_paths(64, T, gen)
    true = true_cost_matrix(xv)
    sel = {
        "val": {
            "dp_dphi": dp_select_levels(model.cost_matrix(cv), levels),
            "dp_true": dp_select_levels(true, levels),
            "selector": uniform_nested(64, T, levels),
            "uniform": uniform_nested(64, T, levels),
            "best_fixed": best_fixed_nested(x, levels),
        }
    }
    table = keyframe_costs_table({"val": true}, sel, levels)
    assert not table["dphi_loses_to_uniform"].any()
    assert (table["dp_dphi"] < margin * table["uniform"]).all()
    assert (table["dp_true"] <= table["dp_dphi"] + 1e-9).all()


def test_table_form_starts_at_each_segments_mean_cost():
    gen = torch.Generator().manual_seed(2)
    T = 7
    cond = torch.cat([torch.randn(40, 3, generator=gen), torch.ones(40, 2)], 1)  # 2 constant
    seg = all_segments(40, T)
    cost = torch.rand(40, seg.shape[1], generator=gen) * torch.arange(1, seg.shape[1] + 1)
    model = SegmentCostPredictor(5, T, d_model=16, scale=float(cost.mean()), form="table")
    model.init_from_targets(cond, seg, cost)
    pred = model(cond, seg)
    torch.testing.assert_close(pred, cost.mean(0).expand_as(pred))  # MLP head starts at zero
    standardised = (cond - model.cond_mean) / model.cond_std
    torch.testing.assert_close(standardised[:, 3:], torch.zeros(40, 2))
    torch.testing.assert_close(standardised[:, :3].std(0), torch.ones(3))
    m = model.cost_matrix(cond[:2])
    assert torch.isinf(m[:, 3, 1]).all() and (m[:, 2, 3] == 0).all() and (m[:, 0, 2] > 0).all()
    with pytest.raises(ValueError, match="j - i >= 2"):
        model(cond[:1], torch.tensor([[[2, 3]]]))


def test_table_form_gradients_are_the_same_every_time_on_two_threads():
    """Two trainings from one seed must give one D_phi: its backward may not depend on how
    threads split an accumulation (indexing the baseline did, by ~1e-5 in a few of 30 calls)."""
    gen = torch.Generator().manual_seed(3)
    T = 33
    seg = all_segments(128, T)
    cond, cost = torch.randn(128, 4, generator=gen), torch.rand(128, seg.shape[1], generator=gen)
    model = SegmentCostPredictor(4, T, d_model=32, scale=float(cost.mean()), form="table")
    model.init_from_targets(cond, seg, cost)
    weight = torch.randn(128, seg.shape[1], generator=gen)

    def grads():
        model.zero_grad()
        (model(cond, seg) * weight).sum().backward()
        return [p.grad.clone() for p in model.parameters()]

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first = grads()
        for _ in range(30):
            assert all(torch.equal(a, b) for a, b in zip(first, grads(), strict=True))
    finally:
        torch.set_num_threads(threads)


def test_keyframe_costs_table_values_and_flag():
    gen = torch.Generator().manual_seed(1)
    T, levels = 9, [3, 5]
    x = torch.randn(20, T, 2, generator=gen).cumsum(1)
    true = true_cost_matrix(x)
    uni = uniform_nested(20, T, levels)
    best = dp_select_levels(true, levels)
    fixed = best_fixed_nested(x, levels)
    # D_phi stand-in: the worst schedule (keyframes packed at the start) must be flagged
    packed = [torch.arange(K - 1).tolist() + [T - 1] for K in levels]
    bad = [torch.tensor(p).expand(20, -1) for p in packed]
    sel = {"s": {"dp_dphi": bad, "dp_true": best, "selector": uni, "uniform": uni,
                 "best_fixed": fixed}}  # fmt: skip
    table = keyframe_costs_table({"s": true}, sel, levels)
    assert set(SOURCES) <= set(table.columns) and len(table) == len(levels)
    assert table["dphi_loses_to_uniform"].all()
    assert (table["dp_true"] <= table["best_fixed"] + 1e-9).all()
    # on the sequences it was chosen on, the best fixed schedule beats (or ties) uniform spacing
    assert (table["best_fixed"] <= table["uniform"] + 1e-9).all()
    want0 = true[torch.arange(20)[:, None], uni[0][:, :-1], uni[0][:, 1:]].sum(1).mean()
    assert table.loc[0, "uniform"] == pytest.approx(want0.item(), rel=1e-6)
    assert table["selector_loses_to_uniform"].all()  # a tie is not a win
    assert (table["selector_minus_uniform"] == 0).all()
    assert "dp_expert_mean" not in table.columns  # optional: only when the source is given
    for selector, loses in [(bad, True), (best, False)]:
        flags = keyframe_costs_table({"s": true}, {"s": {**sel["s"], "selector": selector}}, levels)
        assert (flags["selector_loses_to_uniform"] == loses).all()
    sel["s"]["dp_expert_mean"] = bad
    with_bound = keyframe_costs_table({"s": true}, sel, levels)
    assert with_bound["expert_mean_loses_to_uniform"].all()
    assert (with_bound["dp_expert_mean"] == with_bound["dp_dphi"]).all()
    assert (with_bound["expert_mean_minus_uniform"] == with_bound["dphi_minus_uniform"]).all()
    sel["s"]["dp_expert_mean"] = best
    assert not keyframe_costs_table({"s": true}, sel, levels)["expert_mean_loses_to_uniform"].any()


def test_cost_weights_cost_the_weighted_features_alone(tmp_path):
    """dphi.cost_weights: [1, 1, 0, 0] gives the oracle cost of the first two features (a maze's
    positions), and 4 x on a feature is 4 x its squared error; a wrong length names the field."""
    from interdiff_core.io import load_tensors, save_tensors
    from interdiff_core.stages.dphi_targets import dphi_targets

    gen = torch.Generator().manual_seed(5)
    x = torch.randn(6, 9, 4, generator=gen)
    save_tensors(tmp_path / "cache.safetensors", {"x": x, "cond": torch.zeros(6, 3)})

    def costs(weights):
        cfg = {"kind": "oracle", "segments_per_sample": 0, "cost_weights": weights}
        dphi_targets(tmp_path / "cache.safetensors", None, tmp_path / "t.safetensors", cfg, 0, [3])
        return load_tensors(tmp_path / "t.safetensors")[0]

    t = costs([1, 1, 0, 0])
    torch.testing.assert_close(t["cost"], oracle_costs(x[..., :2], t["seg"]))
    assert not torch.allclose(t["cost"], oracle_costs(x, t["seg"]))
    scaled = x.clone()
    scaled[..., 3] *= 2
    torch.testing.assert_close(costs([1, 1, 1, 4])["cost"], oracle_costs(scaled, t["seg"]))
    with pytest.raises(ValueError, match="dphi.cost_weights: expected one weight per feature"):
        costs([1, 0])


def test_generated_targets_cost_the_teachers_draws_as_keyframes(tmp_path):
    """dphi.kind: generated: the mean over dphi.generated_draws teacher samples (drawn as
    `generated_sequences` draws them, from the stage's seed) of the oracle cost with the samples
    as keyframes; the same seed gives the same targets, and costs over the true frames differ."""
    from interdiff_core.io import load_tensors, save_checkpoint, save_tensors
    from interdiff_core.models.teacher import make_teacher
    from interdiff_core.runtime import stage_meta
    from interdiff_core.stages.dphi_targets import dphi_targets, generated_sequences

    gen = torch.Generator().manual_seed(2)
    N, T, D, C = 5, 7, 4, 3
    x, cond = torch.randn(N, T, D, generator=gen), torch.randn(N, C, generator=gen)
    save_tensors(tmp_path / "cache.safetensors", {"x": x, "cond": cond})
    tcfg = {"model": {"d_model": 16, "n_layers": 1, "n_heads": 2}, "k_max": 4}
    torch.manual_seed(0)
    teacher = make_teacher(tcfg, C, T, D).eval()
    save_checkpoint(
        tmp_path / "teacher.safetensors", teacher, stage_meta("train_teacher", tcfg, teacher)
    )
    cfg = {"kind": "generated", "segments_per_sample": 0, "generated_steps": 2,
           "generated_draws": 3}  # fmt: skip

    def targets(seed):
        args = (tmp_path / "cache.safetensors", tmp_path / "teacher.safetensors")
        dphi_targets(*args, tmp_path / "t.safetensors", cfg, seed, [3])
        return load_tensors(tmp_path / "t.safetensors")[0]

    t = targets(0)
    g = torch.Generator().manual_seed(0)  # the stage's generator: no segments drawn from it
    draws = [generated_sequences(teacher, cond, T, 2, g) for _ in range(3)]
    want = sum(oracle_costs(x, t["seg"], keys=k) for k in draws) / 3
    torch.testing.assert_close(t["cost"], want)
    assert torch.equal(targets(0)["cost"], t["cost"])
    assert not torch.allclose(targets(1)["cost"], t["cost"])
    assert not torch.allclose(t["cost"], oracle_costs(x, t["seg"]))


def test_targets_on_every_segment_train_the_table_form(tmp_path):
    """dphi.segments_per_sample: 0 costs every segment once; train_dphi fits the table form
    to them (stages end to end, oracle cost: no teacher needed)."""
    from interdiff_core.io import load_model, load_tensors, save_tensors
    from interdiff_core.stages.dphi_targets import dphi_targets
    from interdiff_core.stages.train_dphi import train_dphi

    gen = torch.Generator().manual_seed(3)
    T = 8
    x, cond = _bent_paths(12, T, gen)
    save_tensors(tmp_path / "cache.safetensors", {"x": x, "cond": cond})
    cfg = {"kind": "oracle", "segments_per_sample": 0}
    dphi_targets(tmp_path / "cache.safetensors", None, tmp_path / "t.safetensors", cfg, 0, [3])
    t, _ = load_tensors(tmp_path / "t.safetensors")
    P = (T - 1) * (T - 2) // 2
    assert t["seg"].shape == (12, P, 2)
    assert len({tuple(s) for s in t["seg"][0].tolist()}) == P
    torch.testing.assert_close(t["cost"], oracle_costs(x, t["seg"]))
    train_cfg = {"model": {"d_model": 8, "form": "table"}, "loss": {"mse": 1.0, "log": 1.0},
                 "steps": 4, "batch_size": 4, "lr": 1e-3, "checkpoint_every": 2}  # fmt: skip
    out = tmp_path / "d.safetensors"
    train_dphi(tmp_path / "t.safetensors", out, tmp_path / "ck", train_cfg, 0)
    model, _ = load_model(SegmentCostPredictor, out)
    assert model.form == "table" and torch.isfinite(model.cost_matrix(cond[:2])[:, 0, 2:]).all()


def test_reference_conditioning_is_a_training_windows_own(tmp_path):
    """Built from a window's own states it equals the window's stored conditioning (its goal is
    its last position); from other states it changes only start and goal."""
    from conftest import write_maze_shards

    from interdiff_core.data.splits import load_split
    from interdiff_core.stages.eval_keyframes import reference_conditioning

    write_maze_shards(tmp_path / "s", n=6, T=5)
    data = load_split(tmp_path / "s")
    torch.testing.assert_close(reference_conditioning(data, data.x), data.cond)
    other = data.x.flip(1)
    cond = reference_conditioning(data, other)
    torch.testing.assert_close(cond[:, :-6], data.cond[:, :-6])  # occupancy and SDF kept
    torch.testing.assert_close(cond[:, -6:-2], other[:, 0])
    torch.testing.assert_close(cond[:, -2:], other[:, -1, :2])


def test_rest_episode_windows_are_told_the_goal_they_were_driven_to(tmp_path):
    """dphi.windows: rest_episodes: targets on the cached windows that are episodes from rest
    alone, each conditioned on its episode's goal (prepare_data's train.goal_xy) in place of its
    last position; the rest of the conditioning and the costs are the window's own."""
    from interdiff_core.data.maze2d import grid_side
    from interdiff_core.data.maze_windows import goal_to_model, to_model
    from interdiff_core.io import load_tensors, save_tensors
    from interdiff_core.stages.dphi_targets import dphi_targets

    gen = torch.Generator().manual_seed(5)
    G, T, N = grid_side(["umaze"]), 7, 10
    from_rest = torch.arange(N) >= 6
    goal_xy = torch.rand(N, 2, generator=gen) - 0.5
    state = torch.rand(N, T, 4, generator=gen) - 0.5  # the simulator's frame
    raw = {"train.from_rest": from_rest, "train.goal_xy": goal_xy, "train.state": state,
           "train.maze_id": torch.zeros(N, dtype=torch.long)}  # fmt: skip
    save_tensors(tmp_path / "raw.safetensors", raw, {"mazes": ["umaze"]})
    index = torch.tensor([0, 2, 3, 6, 7, 9])
    x = torch.from_numpy(to_model(state[index].numpy(), "umaze", G))
    cond = torch.rand(len(index), 2 * G * G + 6, generator=gen)
    save_tensors(tmp_path / "cache.safetensors", {"index": index, "x": x, "cond": cond})
    cfg = {"kind": "oracle", "segments_per_sample": 0, "windows": "rest_episodes"}
    args = (tmp_path / "cache.safetensors", None, tmp_path / "t.safetensors", cfg, 0, [3])
    dphi_targets(*args, tmp_path / "raw.safetensors")
    t, _ = load_tensors(tmp_path / "t.safetensors")
    assert t["cond"].shape == (3, cond.shape[1])
    torch.testing.assert_close(t["cond"][:, :-2], cond[3:, :-2])
    want = torch.from_numpy(goal_to_model(goal_xy[[6, 7, 9]].numpy(), "umaze", G))
    torch.testing.assert_close(t["cond"][:, -2:], want)
    torch.testing.assert_close(t["cost"], oracle_costs(x[3:], t["seg"]))

    with pytest.raises(ValueError, match="dphi.windows: rest_episodes needs"):
        dphi_targets(*args, None)
    save_tensors(tmp_path / "old.safetensors", {"train.goal_xy": goal_xy}, {"mazes": ["umaze"]})
    with pytest.raises(ValueError, match="no key train.from_rest"):
        dphi_targets(*args, tmp_path / "old.safetensors")
    raw["train.from_rest"] = torch.zeros(N, dtype=torch.bool)
    save_tensors(tmp_path / "none.safetensors", raw, {"mazes": ["umaze"]})
    with pytest.raises(ValueError, match="data.rest_episodes is 0"):
        dphi_targets(*args, tmp_path / "none.safetensors")
    with pytest.raises(ValueError, match="dphi.windows must be"):
        dphi_targets(*args[:3], {**cfg, "windows": "some"}, 0, [3])
    # a cache whose rows are not the raw file's windows `index` (a skipped sample shifts them)
    shifted = {"index": index, "x": x.roll(1, 0), "cond": cond}
    save_tensors(tmp_path / "shifted.safetensors", shifted)
    with pytest.raises(ValueError, match="do not line up"):
        dphi_targets(tmp_path / "shifted.safetensors", *args[1:], tmp_path / "raw.safetensors")


def test_expert_costs_reject_what_does_not_fit():
    from interdiff_core.stages.eval_keyframes import expert_split_costs
    from interdiff_core.stages.expert_costs import expert_mean_costs

    with pytest.raises(ValueError, match="evaluate.expert_runs"):
        expert_mean_costs("raw.safetensors", 5, "val", 0)
    data = type("Split", (), {"T": 4, "__len__": lambda self: 3})()
    want = r"costs.safetensors: key 'val' expected shape \(3, 4, 4\)"
    with pytest.raises(ValueError, match=want):
        expert_split_costs({"val": torch.zeros(2, 4, 4)}, "costs.safetensors", "val", data)
    with pytest.raises(ValueError, match="no such key"):
        expert_split_costs({}, "costs.safetensors", "test", data)
    ok = torch.zeros(3, 4, 4)
    assert expert_split_costs({"val": ok}, "costs.safetensors", "val", data) is ok


def test_simulated_episodes_from_rest_extend_dphi_targets(tmp_path):
    """dphi.extra_rest_episodes: more episodes of the data expert from rest, simulated with
    their own seed, conditioned as the rest episodes are (the maze's occupancy and SDF, their
    first state, the goal they were driven to) and appended to D_phi's targets."""
    from interdiff_core.data.maze2d import grid_side
    from interdiff_core.data.maze_windows import to_model
    from interdiff_core.io import load_tensors, save_tensors
    from interdiff_core.stages.dphi_targets import dphi_targets
    from interdiff_core.stages.prepare_data import simulated_rest_episodes

    gen = torch.Generator().manual_seed(6)
    G, T, N = grid_side(["umaze"]), 5, 4
    state = torch.rand(N, T, 4, generator=gen) - 0.5
    raw = {"train.from_rest": torch.tensor([False, True, True, True]), "train.state": state,
           "train.goal_xy": torch.rand(N, 2, generator=gen) - 0.5,
           "train.maze_id": torch.zeros(N, dtype=torch.long)}  # fmt: skip
    meta = {"mazes": ["umaze"], "stride": 3, "config": {"action_noise": 0.5}}
    save_tensors(tmp_path / "raw.safetensors", raw, meta)
    x = torch.from_numpy(to_model(state.numpy(), "umaze", G))
    cond = torch.rand(N, 2 * G * G + 6, generator=gen)
    save_tensors(tmp_path / "cache.safetensors", {"index": torch.arange(N), "x": x, "cond": cond})

    x_new, cond_new = simulated_rest_episodes(tmp_path / "raw.safetensors", cond[1], 3, 0)
    assert x_new.shape == (3, T, 4) and cond_new.shape == (3, cond.shape[1])
    torch.testing.assert_close(cond_new[:, :-6], cond[1:2, :-6].expand(3, -1))
    torch.testing.assert_close(cond_new[:, -6:-2], x_new[:, 0])
    assert x_new[:, 0, 2:].abs().max() < 1e-6  # from rest
    assert not torch.equal(x_new[:, -1], x_new[:, 0])  # they move
    again, _ = simulated_rest_episodes(tmp_path / "raw.safetensors", cond[1], 3, 0)
    other, _ = simulated_rest_episodes(tmp_path / "raw.safetensors", cond[1], 3, 1)
    assert torch.equal(again, x_new) and not torch.equal(other, x_new)

    cfg = {"kind": "oracle", "segments_per_sample": 0, "windows": "rest_episodes",
           "extra_rest_episodes": 3}  # fmt: skip
    args = (tmp_path / "cache.safetensors", None, tmp_path / "t.safetensors")
    dphi_targets(*args, cfg, 0, [3], tmp_path / "raw.safetensors")
    t, _ = load_tensors(tmp_path / "t.safetensors")
    assert t["cond"].shape[0] == 3 + 3
    torch.testing.assert_close(t["cond"][3:], cond_new)
    torch.testing.assert_close(t["cost"], oracle_costs(torch.cat([x[1:], x_new]), t["seg"]))
    with pytest.raises(ValueError, match="needs dphi.kind oracle or generated"):
        dphi_targets(*args, {**cfg, "kind": "teacher"}, 0, [3], tmp_path / "raw.safetensors")
    with pytest.raises(ValueError, match="needs dphi.windows: rest_episodes"):
        dphi_targets(*args, {**cfg, "windows": "all"}, 0, [3], tmp_path / "raw.safetensors")


def test_mean_true_cost_matrix_from_second_moments_equals_the_mean_of_each_sequences():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(40, 11, 2, 3, generator=gen).cumsum(1)  # features [2, 3]: flattened
    want = true_cost_matrix(x).mean(0)
    torch.testing.assert_close(mean_true_cost_matrix(x), want, rtol=1e-5, atol=1e-4)
    levels = [3, 6]
    for got, ref in zip(best_fixed_nested(x, levels), dp_select_levels(want[None], levels)):
        assert torch.equal(got, ref)


def test_oracle_targets_from_the_train_split_equal_those_from_the_teachers_cache(tmp_path):
    """dphi.kind oracle reads the train split itself, subsampled as teacher_precompute
    subsamples it (`dphi.subsample` rows from the stage's seed): the targets are bit for bit
    those made from the teacher's cache, so no teacher is needed. A teacher kind refuses the
    split, naming what it reads."""
    from conftest import write_maze_shards

    from interdiff_core.data.shards import write_shards
    from interdiff_core.io import load_tensors, save_checkpoint
    from interdiff_core.models.teacher import make_teacher
    from interdiff_core.runtime import stage_meta
    from interdiff_core.stages.dphi_targets import dphi_targets
    from interdiff_core.stages.teacher_precompute import teacher_precompute

    arrays = write_maze_shards(tmp_path / "train", n=10, T=7)
    rng = np.random.default_rng(1)  # bent paths: nonzero interpolation costs
    arrays["state"] = arrays["state"] + 0.1 * rng.standard_normal(arrays["state"].shape)
    arrays["state"] = arrays["state"].astype(np.float32)
    for f in (tmp_path / "train").iterdir():
        f.unlink()
    write_shards(tmp_path / "train", arrays, shard_size=5)
    tcfg = {"model": {"d_model": 16, "n_layers": 1, "n_heads": 2}, "k_max": 4}
    torch.manual_seed(0)
    teacher = make_teacher(tcfg, 2 * 6 * 6 + 6, 7, 4).eval()
    save_checkpoint(tmp_path / "teacher.pt", teacher, stage_meta("train_teacher", tcfg, teacher))
    cfg = {"kind": "oracle", "segments_per_sample": 0, "subsample": 6, "t_steps": 2}
    teacher_precompute(tmp_path / "train", tmp_path / "teacher.pt", tmp_path / "c.st", cfg, 3)

    def targets(windows, seed=3, kind="oracle"):
        dphi_targets(windows, None, tmp_path / "t.st", {**cfg, "kind": kind}, seed, [3])
        return load_tensors(tmp_path / "t.st")[0]

    from_cache, from_split = targets(tmp_path / "c.st"), targets(tmp_path / "train")
    assert from_split["cost"].shape[0] == 6 and from_split["cost"].abs().max() > 1e-4
    for key in ("cond", "seg", "cost"):
        assert torch.equal(from_split[key], from_cache[key]), key
    assert not torch.equal(targets(tmp_path / "train", seed=4)["cost"], from_split["cost"])
    with pytest.raises(ValueError, match="dphi.kind 'teacher' reads the teacher's predictions"):
        targets(tmp_path / "train", kind="teacher")
