"""Models and corruption: positions separate neighbours, selector labels reach the loss,
phase-2 corruption keeps keyframes, anchors land in the result (not in a copy)."""

import pytest
import torch

from interdiff_core.corruption.keyframes import corrupt, gather_frames, place_frames, with_anchors
from interdiff_core.models.dphi import SegmentCostPredictor
from interdiff_core.models.selector import make_selector, select_nested, selector_loss
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.two_phase import phase2_loss, refine, sampling_sigmas


def test_neighbouring_frames_get_distinct_embeddings():
    m = SequenceTransformer(2, 4, d_model=32, n_layers=1, n_heads=2, max_len=128)
    e = m.pos_emb(torch.arange(128))
    cos = torch.nn.functional.cosine_similarity(e[:-1], e[1:])
    assert cos.max() < 0.9


def test_selector_labels_reach_the_loss():
    torch.manual_seed(0)
    model = make_selector(6, 12, 2, d_model=16, n_layers=1, n_heads=2)
    cond = torch.randn(4, 6)
    level = torch.zeros(4, dtype=torch.long)
    a = torch.tensor([[0, 3, 7, 11]] * 4)
    b = torch.tensor([[0, 5, 9, 11]] * 4)
    assert selector_loss(model, cond, a, level, 12) != selector_loss(model, cond, b, level, 12)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(150):
        opt.zero_grad()
        selector_loss(model, cond, a, level, 12).backward()
        opt.step()
    picked = select_nested(model, cond, [4, 6], 12)
    assert picked[0].tolist() == a.tolist()
    assert set(picked[0][0].tolist()) <= set(picked[1][0].tolist())


def test_corrupt_keeps_keyframes_and_noises_only_missing_frames():
    x = torch.randn(2, 9, 2)
    idx = torch.tensor([[0, 4, 8], [0, 2, 8]])
    z, known = corrupt(gather_frames(x, idx), idx, 9, 0.5, torch.Generator().manual_seed(0))
    torch.testing.assert_close(gather_frames(z, idx), gather_frames(x, idx))
    clean, _ = corrupt(gather_frames(x, idx), idx, 9, 0.0, torch.Generator())
    assert torch.all((z != clean).any(-1) == ~known)


def test_place_frames_and_anchors_change_the_result():
    x = torch.zeros(3, 6, 1)
    idx = torch.tensor([[0, 5]] * 3)
    anchors = torch.ones(3, 2, 1)
    out = place_frames(x, idx, anchors)
    assert out[:, [0, 5]].eq(1).all() and out[:, 1:5].eq(0).all() and x.eq(0).all()
    always = with_anchors(x, anchors, idx, 1.0, torch.Generator())
    never = with_anchors(x, anchors, idx, 0.0, torch.Generator())
    assert torch.equal(always, out) and torch.equal(never, x)


@pytest.mark.parametrize("form", ["density", "pairwise", "table"])
def test_dphi_cost_matrix_is_positive_with_free_adjacent_segments(form):
    m = SegmentCostPredictor(5, 7, d_model=16, scale=2.0, form=form)
    c = m.cost_matrix(torch.randn(2, 5))
    upper = torch.triu(torch.ones(7, 7, dtype=torch.bool), 2)
    assert torch.all(c[:, upper] > 0) and torch.isfinite(c[:, upper]).all()
    assert torch.all(torch.diagonal(c, 1, 1, 2) == 0)
    assert torch.isinf(c[:, 3, 1]).all()


def test_dphi_density_form_is_superadditive():
    """A segment never costs less than two segments that split it (so the DP cannot prefer a
    long segment over its parts); the pairwise form has no such guarantee."""
    torch.manual_seed(0)
    m = SegmentCostPredictor(5, 12, d_model=16, form="density", n_components=2)
    seg = torch.tensor([[[0, 11], [0, 5], [5, 11], [2, 9], [2, 4], [4, 9]]])
    c = m(torch.randn(1, 5), seg)[0]
    assert c[0] >= c[1] + c[2] and c[3] >= c[4] + c[5]
    with pytest.raises(ValueError, match="dphi.model.form"):
        SegmentCostPredictor(5, 12, form="banded")


def test_phase2_sampling_noise_none_refines_the_interpolation_itself():
    torch.manual_seed(0)
    T, levels = 9, [torch.tensor([[0, 8]]), torch.tensor([[0, 4, 8]])]
    model = SequenceTransformer(2, 3, max_len=T, n_levels=2, d_model=16, n_layers=1, n_heads=2)
    with torch.no_grad():  # an untrained refiner's correction is zero: make it non-trivial
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    anchors, cond = torch.randn(1, 2, 2), torch.randn(1, 3)

    def run(mode, seed):
        sigmas = sampling_sigmas([0.5, 0.25], mode)
        return refine(model, anchors, levels, cond, T, sigmas, torch.Generator().manual_seed(seed))

    assert torch.equal(run("none", 0), run("none", 1))  # no noise drawn
    assert not torch.allclose(run("level", 0), run("level", 1))
    with pytest.raises(ValueError, match="sample.phase2_noise"):
        sampling_sigmas([0.5], "gaussian")


class _Spy(torch.nn.Module):
    """Wraps a refiner and records what it is fed and the correction it returns, per call."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, z, positions, tau, cond, known, level):
        out = self.inner(z, positions, tau, cond, known=known, level=level)
        self.seen.append(
            (z.detach().clone(), int(level[0]), out.detach().clone(), out.requires_grad)
        )
        return out


def test_phase2_trains_on_the_corruption_it_samples_from():
    """The loss at the finest level unrolls the sampler: the same inputs at every level as
    `refine` builds at sampling time, finer keyframes taken from its own previous prediction
    (not the ground truth), gradient only through the last level."""
    torch.manual_seed(0)
    T = 9
    levels = [torch.tensor([[0, 8], [0, 8]]), torch.tensor([[0, 4, 8], [0, 2, 8]])]
    inner = SequenceTransformer(2, 3, max_len=T, n_levels=2, d_model=16, n_layers=1, n_heads=2)
    with torch.no_grad():
        for p in inner.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x, cond = torch.randn(2, T, 2), torch.randn(2, 3)
    keys0, sigmas = x[:, [0, 8]], [0.3, 0.1]
    train_spy, sample_spy = _Spy(inner), _Spy(inner)
    loss = phase2_loss(
        train_spy, x, keys0, levels, 1, cond, sigmas, torch.Generator().manual_seed(5)
    )
    loss.backward()
    with torch.no_grad():
        refine(sample_spy, keys0, levels, cond, T, sigmas, torch.Generator().manual_seed(5))
    assert [s[1] for s in train_spy.seen] == [0, 1] == [s[1] for s in sample_spy.seen]
    for (z_train, *_), (z_sample, *_) in zip(train_spy.seen, sample_spy.seen, strict=True):
        torch.testing.assert_close(z_train, z_sample)
    assert [s[3] for s in train_spy.seen] == [False, True]
    # level 1's new keyframe (frame 4 / 2) is level 0's prediction, not the ground truth
    z0, correction0 = train_spy.seen[0][:3:2]
    level0_pred, z1 = z0 + correction0, train_spy.seen[1][0]  # refine_step: z + correction
    torch.testing.assert_close(z1[0, 4], level0_pred[0, 4])
    torch.testing.assert_close(z1[1, 2], level0_pred[1, 2])
    assert not torch.allclose(z1[0, 4], x[0, 4])
