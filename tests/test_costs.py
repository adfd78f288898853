"""Segment costs: additivity (so the DP is exact), segment sampling, the teacher cost."""

import itertools

import pytest
import torch

from interdiff_core.selection.costs import (
    bridge,
    noise_levels,
    oracle_cost_matrix,
    oracle_costs,
    sample_segments,
    snr_weights,
    teacher_costs,
)
from interdiff_core.selection.dp import dp_select, path_cost
from interdiff_core.selection.masks import interpolate


def test_oracle_cost_of_a_keyframe_set_is_its_interpolation_error():
    x = torch.randn(3, 9, 2)
    costs = oracle_cost_matrix(x)
    for idx in [[0, 8], [0, 3, 8], [0, 2, 5, 6, 8]]:
        idx_t = torch.tensor(idx).expand(3, -1)
        interp = interpolate(x[:, idx], idx_t, 9)
        err = ((interp - x) ** 2).sum((1, 2))
        torch.testing.assert_close(path_cost(costs, idx_t), err)


def test_dp_on_oracle_costs_is_the_best_keyframe_set_by_brute_force():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 2).cumsum(1)
    idx = dp_select(oracle_cost_matrix(x), 4)
    for b in range(2):
        best = min(
            ((interpolate(x[b : b + 1, list(c)], torch.tensor([c]), 8) - x[b]) ** 2).sum().item()
            for c in ((0, i, j, 7) for i, j in itertools.combinations(range(1, 7), 2))
        )
        chosen = interpolate(x[b : b + 1, idx[b]], idx[b : b + 1], 8)
        assert ((chosen - x[b]) ** 2).sum().item() == pytest.approx(best, rel=1e-5)


def test_segments_cover_both_ends_and_have_an_interior():
    seg = sample_segments(400, 10, 8, torch.Generator().manual_seed(0))
    i, j = seg[..., 0], seg[..., 1]
    assert torch.all(j - i >= 2) and i.min() == 0 and j.max() == 9 and torch.all(j <= 9)
    assert len(set(map(tuple, seg.view(-1, 2).tolist()))) == 36  # all (i, j) with j - i >= 2


def test_bridge_replaces_only_the_interior():
    x = torch.randn(1, 6, 2)
    out = bridge(x, torch.tensor([[[1, 4]]]))[0, 0]
    torch.testing.assert_close(out[[0, 1, 4, 5]], x[0, [0, 1, 4, 5]])
    torch.testing.assert_close(out[2], x[0, 1] + (x[0, 4] - x[0, 1]) / 3)


def test_snr_weights_are_clipped():
    w = snr_weights(noise_levels(16), 0.1, 10.0, 1.0)
    assert w.min() == pytest.approx(0.1) and w.max() == pytest.approx(10.0)
    assert torch.all(w[1:] >= w[:-1])


def test_teacher_cost_closed_form_for_an_identity_teacher():
    """If the teacher returns z, its predictions differ by τ·(student − x) on the interior, so
    the cost is Σ_l w_l τ_l² / Σ w_l times the oracle cost — and it depends on the levels."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 10, 2)
    seg = sample_segments(2, 10, 5, gen)
    tau = noise_levels(4)
    w = snr_weights(tau, 0.1, 10.0, 1.0)
    eps = torch.randn(2, 4, 10, 2, generator=gen)
    x_hat_true = tau[None, :, None, None] * x[:, None] + (1 - tau[None, :, None, None]) * eps
    cost = teacher_costs(lambda z, t: z, x, seg, eps, x_hat_true, tau, w)
    factor = (w * tau**2).sum() / w.sum()
    torch.testing.assert_close(cost, factor * oracle_costs(x, seg))
