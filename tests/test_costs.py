"""Segment costs: additivity (so the DP is exact), segment sampling, the teacher cost."""

import itertools

import pytest
import torch

from interdiff_core.selection.costs import (
    all_segments,
    bridge,
    combine_levels,
    interior_mask,
    level_cost_matrix,
    noise_levels,
    oracle_cost_matrix,
    oracle_costs,
    sample_segments,
    segment_signal_levels,
    snr_weights,
    teacher_bridge_level_costs,
    teacher_level_costs,
    weighting_disagreement,
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


def test_generated_keyframe_cost_of_a_set_is_its_interpolated_sequences_error():
    """With `keys` (generated keyframes) a keyframe set's summed segment costs are the squared
    error, on the frames it does not hold, of the line through the keys at its indices against
    x; keys = x gives the plain oracle cost."""
    gen = torch.Generator().manual_seed(1)
    x, keys = torch.randn(3, 9, 2, generator=gen), torch.randn(3, 9, 2, generator=gen)
    seg = all_segments(3, 9)
    matrix = torch.zeros(3, 9, 9)
    matrix[:, seg[0, :, 0], seg[0, :, 1]] = oracle_costs(x, seg, keys=keys)
    for idx in [[0, 8], [0, 3, 8], [0, 1, 2, 5, 6, 8]]:
        idx_t = torch.tensor(idx).expand(3, -1)
        between = [t for t in range(9) if t not in idx]
        err = ((interpolate(keys[:, idx], idx_t, 9) - x)[:, between] ** 2).sum((1, 2))
        torch.testing.assert_close(path_cost(matrix, idx_t), err)
    torch.testing.assert_close(oracle_costs(x, seg, keys=x), oracle_costs(x, seg))
    chunked = oracle_costs(x, seg, max_elements=1, keys=keys)
    torch.testing.assert_close(chunked, oracle_costs(x, seg, keys=keys), rtol=0, atol=0)


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


def _smoother(z: torch.Tensor, tau: torch.Tensor, ell: float = 1.5) -> torch.Tensor:
    """A toy teacher that is not the identity: a precision-weighted kernel smoother (frame s
    observes x_s as z_s/τ_s with noise std (1 − τ_s)/τ_s), using per-frame levels."""
    t = torch.arange(z.shape[1], dtype=z.dtype)
    k = torch.exp(-(t[:, None] - t[None]).abs() / ell)
    w = k[None] * ((tau / (1 - tau).clamp_min(1e-3)) ** 2)[:, None, :]
    obs = z / tau.clamp_min(1e-3)[..., None]
    return (w @ obs) / w.sum(-1, keepdim=True).clamp_min(1e-12)


def test_segment_signal_levels_keyframes_interior_and_rest():
    tau = torch.tensor([0.25, 0.75])
    lv = segment_signal_levels(torch.tensor([[[1, 4]]]), 6, tau, 0.9)[0, 0]
    torch.testing.assert_close(lv[0], torch.tensor([0.0, 0.9, 0.25, 0.25, 0.9, 0.0]))
    torch.testing.assert_close(lv[1], torch.tensor([0.0, 0.9, 0.75, 0.75, 0.9, 0.0]))


def test_teacher_level_costs_closed_form_and_perfect_teacher():
    """Identity teacher: x̂ = z, so the interior error at level τ is (1 − τ)²·|ε − x|²; a
    teacher that returns the truth costs 0."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 10, 2)
    seg = sample_segments(2, 10, 5, gen)
    tau = noise_levels(4)
    eps = torch.randn(2, 4, 10, 2, generator=gen)
    got = teacher_level_costs(lambda z, t: z, x, seg, eps, tau, 0.95)
    per = ((eps - x[:, None]) ** 2).sum(-1)  # [B,L,T]
    inside = interior_mask(seg, 10)  # [B,S,T]
    want = ((1 - tau)[None, None, :, None] ** 2 * per[:, None] * inside[:, :, None]).sum(-1)
    torch.testing.assert_close(got, want)
    one = x[:1]
    perfect = teacher_level_costs(lambda z, t: one.expand_as(z), one, seg[:1], eps[:1], tau, 0.95)
    assert torch.all(perfect == 0)


def test_snr_weights_change_the_dp_for_a_non_identity_teacher():
    """With the kernel-smoother teacher, per-level segment costs rank segments differently at
    different noise levels, so SNR weights and uniform weights select different keyframes."""
    gen = torch.Generator().manual_seed(0)
    B, T = 16, 12
    x = 0.3 * torch.randn(B, T, 2, generator=gen).cumsum(1)
    tau = noise_levels(8)
    eps = torch.randn(B, 8, T, 2, generator=gen)
    level_costs = teacher_level_costs(_smoother, x, all_segments(B, T), eps, tau, 0.98)
    matrix = level_cost_matrix(level_costs, T)
    w = snr_weights(tau, 0.1, 10.0, 1.0)
    share = weighting_disagreement(matrix, w, torch.ones_like(w), [3, 5, 8])
    assert max(share) > 0
    assert weighting_disagreement(matrix, w, 3 * w, [3, 5, 8]) == [0.0, 0.0, 0.0]
    # the combined costs are not one constant times a single level's costs
    combined = combine_levels(level_costs, w)
    ratio = combined / level_costs[..., 0].clamp_min(1e-12)
    assert ratio.std() / ratio.mean() > 0.05


def test_level_cost_matrix_places_every_segment():
    T = 6
    P = all_segments(1, T)
    lc = (P[..., 0] * 10 + P[..., 1]).float()[..., None]  # [1, P, 1]
    m = level_cost_matrix(lc, T)[0, :, :, 0]
    for i, j in P[0].tolist():
        assert m[i, j] == 10 * i + j
    assert m[2, 3] == 0 and torch.isinf(m[3, 2])


def test_teacher_bridge_cost_closed_form_for_an_identity_teacher():
    """If the teacher returns z, its predictions differ by τ·(bridge − x) on the interior, so
    level l's cost is τ_l² times the oracle cost: the same ranking of segments at every level
    (the weighting is a constant factor for this teacher, by construction)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 10, 2)
    seg = sample_segments(2, 10, 5, gen)
    tau = noise_levels(4)
    eps = torch.randn(2, 4, 10, 2, generator=gen)
    x_hat_true = tau[None, :, None, None] * x[:, None] + (1 - tau[None, :, None, None]) * eps
    got = teacher_bridge_level_costs(lambda z, t: z, x, seg, eps, x_hat_true, tau)
    torch.testing.assert_close(got, tau**2 * oracle_costs(x, seg)[..., None])


def test_oracle_costs_in_chunks_equal_one_pass():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(5, 9, 2, generator=gen)
    seg = all_segments(5, 9)
    whole = oracle_costs(x, seg)
    torch.testing.assert_close(oracle_costs(x, seg, max_elements=1), whole, rtol=0, atol=0)
    torch.testing.assert_close(oracle_costs(x, seg, max_elements=3 * seg.shape[1] * 18), whole)
