"""Interpolators: one interface for pairs and sequences, warping, LERP, training triplets."""

import pytest
import torch

from interdiff_core.models.interpolator import (
    FlowInterpolator,
    Lerp,
    draw_triplets,
    interpolation_loss,
    warp,
)
from interdiff_core.selection.masks import interpolate


def randomised_flow_model(seed=0):
    torch.manual_seed(seed)
    m = FlowInterpolator(channels=2, width=8, depth=2, residual=True, residual_width=8)
    with torch.no_grad():  # heads start at zero (= LERP); give them something to scale
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return m.double().eval()


@pytest.mark.parametrize("model", [Lerp(), randomised_flow_model()])
def test_sequence_path_equals_pair_path(model):
    gen = torch.Generator().manual_seed(1)
    B, T = 2, 12
    idx = torch.tensor([[0, 3, 4, 11], [0, 5, 9, 11]])
    keys = torch.randn(B, 4, 2, 6, 6, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        seq, seq_unc = model.sequence(keys, idx, T)
        for b in range(B):
            for k in range(3):
                i, j = idx[b, k].item(), idx[b, k + 1].item()
                torch.testing.assert_close(seq[b, i], keys[b, k])
                torch.testing.assert_close(seq[b, j], keys[b, k + 1])
                for t in range(i + 1, j):
                    alpha = torch.tensor([(t - i) / (j - i)], dtype=torch.float64)
                    x, u = model.pair(keys[b, k : k + 1], keys[b, k + 1 : k + 2], alpha,
                                      torch.tensor([j - i]))  # fmt: skip
                    torch.testing.assert_close(seq[b, t], x[0])
                    torch.testing.assert_close(seq_unc[b, t], u[0])
    assert (seq_unc[:, [0, 11]] == 0).all()


def test_flow_model_actually_warps():
    """The randomised model is not LERP in disguise, so the equality above is meaningful."""
    keys = torch.randn(1, 2, 2, 6, 6, dtype=torch.float64)
    idx = torch.tensor([[0, 6]])
    flow_out, _ = randomised_flow_model().sequence(keys, idx, 7)
    lerp_out, _ = Lerp().sequence(keys, idx, 7)
    assert (flow_out - lerp_out).abs().max() > 1e-2


def test_untrained_flow_interpolator_is_lerp_and_lerp_matches_masks():
    keys = torch.randn(3, 3, 2, 5, 5)
    idx = torch.tensor([[0, 2, 9]] * 3)
    m = FlowInterpolator(channels=2, width=8, depth=1)
    with torch.no_grad():
        flow_out, unc = m.sequence(keys, idx, 10)
    lerp_out, _ = Lerp().sequence(keys, idx, 10)
    torch.testing.assert_close(flow_out, lerp_out, atol=1e-5, rtol=1e-5)
    want = interpolate(keys.flatten(2), idx, 10).view_as(lerp_out)
    torch.testing.assert_close(lerp_out, want)


def test_warp_shifts_by_whole_pixels():
    x = torch.arange(2 * 5 * 7, dtype=torch.float).view(1, 2, 5, 7)
    flow = torch.zeros(1, 2, 5, 7)
    flow[:, 0] = 2.0  # sample two pixels to the right
    out = warp(x, flow)
    torch.testing.assert_close(out[..., :5], x[..., 2:])
    torch.testing.assert_close(warp(x, torch.zeros_like(flow)), x)


def test_triplets_cover_the_range_and_stay_inside():
    gen = torch.Generator().manual_seed(0)
    start, target, gap = draw_triplets(T=10, B=4000, max_gap=9, gen=gen)
    end = start + gap
    assert gap.min() == 2 and gap.max() == 9
    assert start.min() == 0 and end.max() == 9  # the last frame is reachable
    assert ((target > start) & (target < end)).all()
    with pytest.raises(ValueError, match="max_gap"):
        draw_triplets(T=10, B=1, max_gap=10, gen=gen)


def test_loss_trains_uncertainty_toward_the_error():
    target = torch.zeros(4, 2, 3, 3)
    pred = target + 0.5
    small, big = torch.full((4, 1, 3, 3), 0.1), torch.full((4, 1, 3, 3), 0.5)
    # the Laplace NLL is minimised at scale = |error|
    assert interpolation_loss(pred, big, target, 1.0) < interpolation_loss(pred, small, target, 1.0)
