"""Tests for interdiff_core.selection: exact DP keyframe selection and nested keyframe masks."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from interdiff_core.selection.dp import (
    dp_decode_levels,
    dp_select,
    dp_select_levels,
    dp_select_python,
    nested_gaps,
    path_cost,
    superset_costs,
)
from interdiff_core.selection.keyframe_eval import best_fixed_nested
from interdiff_core.selection.masks import (
    indices_to_mask,
    interpolate,
    mask_to_indices,
    nested_from_level_logits,
    nested_from_scores,
    random_nested,
    uniform_indices,
    uniform_nested,
)
from interdiff_core.stages.policies import fixed_schedule, policy_indices


def _random_costs(B: int, T: int, seed: int, inf_frac: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    # the lower triangle is never read, so it is left as random junk
    costs = torch.rand(B, T, T, generator=g, dtype=torch.float64) * 10
    if inf_frac:
        costs[torch.rand(B, T, T, generator=g) < inf_frac] = math.inf
    return costs


def _brute(costs: torch.Tensor, K: int, allowed: torch.Tensor | None = None) -> float:
    """Best objective for one sample `costs [T, T]` over all K-subsets of the allowed frames."""
    T = costs.shape[0]
    interior = [t for t in range(1, T - 1) if allowed is None or bool(allowed[t])]
    best = math.inf
    for mid in itertools.combinations(interior, K - 2):
        idx = (0, *mid, T - 1)
        best = min(best, sum(float(costs[a, b]) for a, b in itertools.pairwise(idx)))
    return best


def _check_valid(idx: torch.Tensor, T: int, K: int) -> None:
    assert idx.dtype == torch.long and idx.shape[1] == K
    assert (idx[:, 0] == 0).all() and (idx[:, -1] == T - 1).all()
    assert (idx[:, 1:] > idx[:, :-1]).all()


def _check_nested(levels_idx: list[torch.Tensor], T: int, levels: list[int]) -> None:
    for idx, K in zip(levels_idx, levels, strict=True):
        _check_valid(idx, T, K)
    for coarse, fine in itertools.pairwise(levels_idx):
        assert (indices_to_mask(coarse, T) <= indices_to_mask(fine, T)).all()


@pytest.mark.parametrize("T", range(5, 11))
@pytest.mark.parametrize("inf_frac", [0.0, 0.3])
def test_dp_select_matches_brute_force(T: int, inf_frac: float) -> None:
    B = 4
    costs = _random_costs(B, T, seed=T, inf_frac=inf_frac)
    for K in sorted({2, 3, T // 2, T - 1, T}):
        idx = dp_select(costs, K)
        _check_valid(idx, T, K)
        got = path_cost(costs, idx)
        for b in range(B):
            want = _brute(costs[b], K)
            assert float(got[b]) == pytest.approx(want, rel=1e-12)
            py_idx = dp_select_python(costs[b].tolist(), K)
            py_obj = path_cost(costs[b : b + 1], torch.tensor([py_idx]))[0]
            assert float(py_obj) == pytest.approx(want, rel=1e-12)
            if math.isfinite(want):  # same recurrence and tie rule -> same indices
                assert py_idx == idx[b].tolist()


def test_dp_select_breaks_ties_like_the_python_reference() -> None:
    # integer costs in {0, 1, 2}: many selections tie, and the smallest predecessor must win
    g = torch.Generator().manual_seed(0)
    costs = torch.randint(0, 3, (64, 12, 12), generator=g).float().triu(1)
    for K in (3, 5, 8):
        want = [dp_select_python(row, K) for row in costs.tolist()]
        assert dp_select(costs, K).tolist() == want


@pytest.mark.parametrize("T", [6, 8, 10])
def test_dp_select_with_allowed_matches_brute_force(T: int) -> None:
    B = 5
    costs = _random_costs(B, T, seed=100 + T, inf_frac=0.1)
    g = torch.Generator().manual_seed(T)
    allowed = torch.rand(B, T, generator=g) < 0.6
    allowed[:, 0] = allowed[:, -1] = True
    allowed[:, 1:4] = True  # at least 5 allowed frames per row
    for K in [2, 3, 5]:
        idx = dp_select(costs, K, allowed)
        _check_valid(idx, T, K)
        assert allowed.gather(1, idx).all()
        got = path_cost(costs, idx)
        for b in range(B):
            assert float(got[b]) == pytest.approx(_brute(costs[b], K, allowed[b]), rel=1e-12)


def test_dp_select_float32_and_all_inf_rows() -> None:
    T, K = 9, 4
    costs = _random_costs(3, T, seed=7).float()
    costs[1] = math.inf  # no finite selection: still a valid, sorted answer
    costs[2, :, T - 1] = math.inf
    costs[2, 5, T - 1] = 1.0  # the only finite way into the last frame
    idx = dp_select(costs, K)
    _check_valid(idx, T, K)
    assert idx[2, -2] == 5
    assert float(path_cost(costs, idx)[0]) == pytest.approx(_brute(costs[0].double(), K), rel=1e-5)


def _brute_superset(costs: torch.Tensor, K: int, fixed: list[int]) -> float:
    """Best objective over all K-subsets of the frames that contain every frame of `fixed`."""
    T = costs.shape[0]
    best = math.inf
    for mid in itertools.combinations(range(1, T - 1), K - 2):
        idx = (0, *mid, T - 1)
        if set(fixed) <= set(idx):
            best = min(best, sum(float(costs[a, b]) for a, b in itertools.pairwise(idx)))
    return best


@pytest.mark.parametrize("seed", range(3))
def test_dp_select_levels_bottom_up_nested_and_optimal(seed: int) -> None:
    """Level 0 is the unconstrained optimum; each finer level is the best superset of the level
    below (brute force over all subsets); the levels nest."""
    T, levels, B = 10, [3, 5, 8], 4
    costs = _random_costs(B, T, seed=seed)
    out = dp_select_levels(costs, levels)
    _check_nested(out, T, levels)
    got0 = path_cost(costs, out[0])
    for b in range(B):
        assert float(got0[b]) == pytest.approx(_brute(costs[b], levels[0]), rel=1e-12)
    for s in range(1, len(levels)):
        got = path_cost(costs, out[s])
        for b in range(B):
            want = _brute_superset(costs[b], levels[s], out[s - 1][b].tolist())
            assert float(got[b]) == pytest.approx(want, rel=1e-12)
    gaps = nested_gaps(costs, out)
    assert torch.all(gaps[0] == 0) and all(bool((g >= -1e-12).all()) for g in gaps)
    # random costs: the best superset is not always the unconstrained optimum at the finer level
    assert any(bool((g > 1e-9).any()) for g in gaps[1:]) or seed > 0


def test_dp_decode_levels_is_the_nested_map_set() -> None:
    """Each level's set minimises its frames' node costs plus its segments' length costs over
    every set of that size containing the level below (brute force), and the levels nest."""
    T, levels, B = 9, [3, 5], 3
    g = torch.Generator().manual_seed(0)
    node = torch.randn(B, len(levels), T, generator=g, dtype=torch.float64)
    gap = torch.rand(len(levels), T, generator=g, dtype=torch.float64) * 3
    out = dp_decode_levels(node, gap, levels)
    _check_nested(out, T, levels)

    def score(b, s, idx):
        return float(node[b, s, list(idx)].sum() + sum(gap[s, j - i] for i, j in zip(idx, idx[1:])))

    for b in range(B):
        prev: list[int] = [0, T - 1]
        for s, K in enumerate(levels):
            sets = [
                (0, *c, T - 1)
                for c in itertools.combinations(range(1, T - 1), K - 2)
                if set(prev) <= {0, *c, T - 1}
            ]
            best = min(score(b, s, c) for c in sets)
            assert score(b, s, tuple(out[s][b].tolist())) == pytest.approx(best, rel=1e-12)
            prev = out[s][b].tolist()
    with pytest.raises(ValueError, match="gap_cost"):
        dp_decode_levels(node, gap[:, :5], levels)


def test_selector_decode_spreads_keyframes_where_top_k_bunches_them() -> None:
    """Frame scores that favour two neighbours: top-k takes both, the label gap prior (all
    labels evenly spaced) moves the decode to the evenly spaced set."""
    from interdiff_core.models.selector import label_gap_cost

    T, K = 13, 5
    labels = torch.tensor([[0, 3, 6, 9, 12]] * 4)
    cost = label_gap_cost([labels], T)
    assert cost[0, 3] < cost[0, 1] < math.inf and cost[0, 0] == math.inf
    logits = torch.zeros(1, 1, T)
    logits[0, 0, [5, 6]] = 1.0
    top = nested_from_level_logits(logits, [K])[0]
    assert {5, 6} <= set(top[0].tolist())
    decoded = dp_decode_levels(-logits, cost, [K])[0]
    assert decoded[0].tolist() == [0, 3, 6, 9, 12]


def test_superset_costs_block_segments_over_fixed_frames() -> None:
    costs = torch.zeros(1, 6, 6)
    blocked = torch.isinf(superset_costs(costs, torch.tensor([[0, 2, 5]])))[0]
    for i in range(6):
        for j in range(6):
            assert bool(blocked[i, j]) == (i < 2 < j)


def test_dp_select_errors() -> None:
    costs = _random_costs(2, 6, seed=0)
    with pytest.raises(ValueError, match="do not fit"):
        dp_select(costs, 7)
    with pytest.raises(ValueError, match="K must be >= 2"):
        dp_select(costs, 1)
    with pytest.raises(ValueError, match="square"):
        dp_select(costs[:, :, :5], 3)
    allowed = torch.ones(2, 6, dtype=torch.bool)
    allowed[1, -1] = False
    with pytest.raises(ValueError, match="endpoints"):
        dp_select(costs, 3, allowed)
    allowed = torch.zeros(2, 6, dtype=torch.bool)
    allowed[:, [0, 2, 5]] = True
    with pytest.raises(ValueError, match="allow only 3"):
        dp_select(costs, 4, allowed)
    with pytest.raises(ValueError, match="strictly increasing"):
        dp_select_levels(costs, [4, 3])
    with pytest.raises(ValueError, match="do not fit"):
        uniform_indices(5, 6)
    with pytest.raises(ValueError, match="K must be >= 2"):
        uniform_indices(5, 1)


def test_mask_roundtrip_and_errors() -> None:
    idx = torch.tensor([[0, 2, 5], [0, 4, 5]])
    mask = indices_to_mask(idx, 6)
    assert mask.sum().item() == 6
    assert torch.equal(mask_to_indices(mask), idx)
    mask[0, 3] = True
    with pytest.raises(ValueError, match="same number"):
        mask_to_indices(mask)


@pytest.mark.parametrize("feat", [(), (3,), (2, 4, 5)])
def test_interpolate_exact_and_linear(feat: tuple[int, ...]) -> None:
    T, B = 12, 3
    idx = torch.tensor([[0, 3, 4, 11], [0, 5, 9, 11], [0, 1, 2, 11]])
    g = torch.Generator().manual_seed(0)
    values = torch.randn(B, 4, *feat, generator=g, dtype=torch.float64)
    out = interpolate(values, idx, T)
    assert out.shape == (B, T, *feat)
    for b in range(B):
        for m in range(3):
            a, c = int(idx[b, m]), int(idx[b, m + 1])
            assert torch.equal(out[b, a], values[b, m])  # bit-exact at keyframes
            for t in range(a, c + 1):
                w = (t - a) / (c - a)
                want = (1 - w) * values[b, m] + w * values[b, m + 1]
                torch.testing.assert_close(out[b, t], want)
        assert torch.equal(out[b, T - 1], values[b, -1])


def test_uniform_indices() -> None:
    assert uniform_indices(64, 8).tolist() == [0, 9, 18, 27, 36, 45, 54, 63]
    assert uniform_indices(5, 5).tolist() == [0, 1, 2, 3, 4]
    for T in range(2, 40):
        for K in range(2, T + 1):
            idx = uniform_indices(T, K)
            _check_valid(idx.unsqueeze(0), T, K)


def test_nested_builders() -> None:
    B, T, levels = 6, 32, [4, 8, 16, 32]
    g = torch.Generator().manual_seed(0)

    out = uniform_nested(B, T, levels)
    _check_nested(out, T, levels)
    assert (out[0] == uniform_indices(T, 4)).all() and (out[1] == out[1][0]).all()

    base = random_nested(B, T, levels[:1], g)[0]
    scores = torch.randn(B, T, generator=g)
    out = nested_from_scores(base, T, levels, scores)
    _check_nested(out, T, levels)
    added = indices_to_mask(out[1], T) & ~indices_to_mask(out[0], T)
    rest = ~indices_to_mask(out[1], T)
    for b in range(B):  # the added frames outscore every frame left out
        assert scores[b][added[b]].min() >= scores[b][rest[b]].max()
    _check_nested(nested_from_scores(base, T, levels, None), T, levels)
    _check_nested(nested_from_scores(base, T, levels, torch.full((B, T), -math.inf)), T, levels)

    logits = torch.randn(B, len(levels), T, generator=g)
    out = nested_from_level_logits(logits, levels)
    _check_nested(out, T, levels)
    interior = logits[:, 0, 1:-1]
    picked = indices_to_mask(out[0], T)[:, 1:-1]
    for b in range(B):
        assert interior[b][picked[b]].min() >= interior[b][~picked[b]].max()

    a = random_nested(B, T, levels, torch.Generator().manual_seed(5))
    b = random_nested(B, T, levels, torch.Generator().manual_seed(5))
    c = random_nested(B, T, levels, torch.Generator().manual_seed(6))
    _check_nested(a, T, levels)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_midpoint_insertion_nests_uniform_spacing() -> None:
    out = uniform_nested(1, 65, [5, 9, 17, 33, 65])
    for s, idx in enumerate(out):
        assert idx[0].tolist() == list(range(0, 65, 64 // (4 * 2**s)))


def test_nested_errors() -> None:
    with pytest.raises(ValueError, match="K_0=4"):
        nested_from_scores(torch.tensor([[0, 9]]), 10, [4, 6], None)
    with pytest.raises(ValueError, match="S=2"):
        nested_from_level_logits(torch.zeros(1, 3, 10), [4, 6])
    with pytest.raises(ValueError, match="exceed"):
        uniform_nested(1, 10, [4, 11])


def test_level_logits_apart_skips_neighbours_until_nothing_else_is_left() -> None:
    T, levels = 9, [4, 7]
    logits = torch.full((1, 2, T), -1.0)
    logits[0, 0, [4, 5]] = 5.0  # two neighbours outscore every other frame at level 0
    logits[0, 1, [1, 2, 3]] = 3.0
    plain = nested_from_level_logits(logits, levels)
    assert [x[0].tolist() for x in plain] == [[0, 4, 5, 8], [0, 1, 2, 3, 4, 5, 8]]
    # apart by 1: 5 sits next to 4, so level 0 takes the best frame away from both (2); level 1
    # takes 6, the last frame apart from all, then the best of the rest (1, 3)
    apart = nested_from_level_logits(logits, levels, apart=1)
    assert [x[0].tolist() for x in apart] == [[0, 2, 4, 8], [0, 1, 2, 3, 4, 6, 8]]
    full = nested_from_level_logits(torch.randn(3, 2, T), [5, 9], apart=2)
    _check_nested(full, T, [5, 9])
    assert full[1].tolist() == [list(range(T))] * 3


def test_selector_fixed_schedule_is_counted_and_warned(caplog) -> None:
    import pandas as pd

    from interdiff_core.selection.masks import distinct_schedules
    from interdiff_core.stages.train_selector import warn_if_fixed

    same = torch.tensor([[0, 3, 7]] * 4)
    varied = torch.tensor([[0, 3, 7], [0, 2, 7], [0, 3, 7], [0, 5, 7]])
    assert distinct_schedules(same) == 1 and distinct_schedules(varied) == 3
    rows = [
        {"level": lvl, "K": 3, "method": m, "distinct_schedules": n}
        for lvl, (sel, lab) in enumerate([(1, 3), (2, 3), (1, 1)])
        for m, n in (("selector", sel), ("dp_labels", lab))
    ]
    with caplog.at_level("WARNING"):
        warn_if_fixed(pd.DataFrame(rows))
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and warned[0].startswith("level 0 (K=3)")  # not where labels agree


def test_best_fixed_training_policy_is_the_sampling_arms_schedule():
    """phase-1/phase-2's `best_fixed` index policy gives every row the schedule the sampling arm
    `best_fixed` uses, nested; it is computed only when the mix draws it."""
    gen = torch.Generator().manual_seed(0)
    T, levels = 17, [4, 7]
    x = torch.randn(30, T, 2, generator=gen).cumsum(1)
    assert fixed_schedule({"dp": 1.0, "best_fixed": 0.0}, x, levels) is None
    fixed = fixed_schedule({"dp": 0.5, "best_fixed": 0.5}, x, levels)
    b = torch.tensor([3, 1, 4])
    idx = policy_indices("best_fixed", b, levels, T, {}, [], gen, fixed)
    for got, want, K in zip(idx, best_fixed_nested(x, levels), levels):
        assert got.shape == (3, K) and (got == want).all()
    assert set(idx[0][0].tolist()) < set(idx[1][0].tolist())
    with pytest.raises(ValueError, match="best_fixed"):
        policy_indices("best_fixed", b, levels, T, {}, [], gen)


@pytest.mark.parametrize("seed", range(3))
def test_uniform_prior_pulls_the_dp_towards_even_spacing(seed: int) -> None:
    """weight 0 is the plain DP; the prior term of the optimum never grows with the weight (the
    penalised optimum's trade-off); a large weight leaves only segments of the even lengths
    floor(L) and ceil(L) at level 0; every weight keeps the levels nested."""
    T, levels, B = 17, [4, 7], 5
    costs = _random_costs(B, T, seed=seed)
    plain = dp_select_levels(costs, levels)
    for a, b in zip(dp_select_levels(costs, levels, 0.0), plain):
        assert torch.equal(a, b)
    L = (T - 1) / (levels[0] - 1)
    last = None
    for weight in (0.0, 0.1, 1.0, 10.0, 1e4):
        out = dp_select_levels(costs, levels, weight)
        _check_nested(out, T, levels)
        gaps = nested_gaps(costs, out, weight)  # level 0 is the optimum of its own objective
        assert torch.all(gaps[0].abs() < 1e-9) and all(bool((g >= -1e-9).all()) for g in gaps)
        prior = ((out[0].diff(dim=1) / L - 1) ** 2).sum(dim=1)
        if last is not None:
            assert bool((prior <= last + 1e-9).all())
        last = prior
    assert set(out[0].diff(dim=1).flatten().tolist()) <= {math.floor(L), math.ceil(L)}
    assert not all(torch.equal(a, b) for a, b in zip(out, plain))
    with pytest.raises(ValueError, match="uniform_prior"):
        dp_select_levels(costs, levels, -1.0)
    costs[0, 0, 1:] = math.inf  # no segment leaves frame 0: uniform spacing costs inf
    with pytest.raises(ValueError, match="uniform_prior: uniform spacing's cost is not finite"):
        dp_select_levels(costs, levels, 1.0)
    dp_select_levels(costs, levels)  # without the prior the DP still answers
