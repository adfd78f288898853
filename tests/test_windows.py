"""Windows over clips and alternating short/long batch lengths."""

import pytest
import torch

from interdiff_core.data.windows import AlternatingWindows, is_long_step, window_starts

CFG = dict(short_len=4, long_len=8, short_batch=6, long_batch=2, long_ratio=0.2, stride=2)


def clips(n=5, T=12):
    # frame value = clip * 100 + frame index: contiguity and clip membership are readable
    x = (torch.arange(n)[:, None] * 100 + torch.arange(T)).float()
    return x[:, :, None, None, None].expand(n, T, 2, 3, 3).clone(), torch.randn(n, 7)


def test_window_starts_on_stride_grid_and_inside_clips():
    w = window_starts([10, 5], length=4, stride=3)
    assert w.tolist() == [[0, 0], [0, 3], [0, 6], [1, 0]]
    assert len(window_starts([3], length=4, stride=1)) == 0


def test_two_ranks_with_the_same_seed_agree_on_lengths():
    x, c = clips()
    rank0, rank1 = AlternatingWindows(x, c, CFG, seed=7), AlternatingWindows(x, c, CFG, seed=7)
    g0, g1 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)  # data differ
    for step in range(200):
        assert rank0.batch(step, g0)[0].shape == rank1.batch(step, g1)[0].shape
    other = AlternatingWindows(x, c, CFG, seed=8)
    assert [rank0.kind(s) for s in range(200)] != [other.kind(s) for s in range(200)]


def test_long_ratio_is_honoured():
    n_long = sum(is_long_step(s, 3, 0.2) for s in range(5000))
    assert n_long / 5000 == pytest.approx(0.2, abs=0.02)
    assert not any(is_long_step(s, 3, 0.0) for s in range(100))


def test_batches_are_contiguous_windows_of_one_clip_with_their_cond():
    x, c = clips()
    w = AlternatingWindows(x, c, CFG, seed=0)
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for step in range(100):
        xb, cb, where = w.batch(step, gen)
        kind = w.kind(step)
        assert xb.shape == (CFG[f"{kind}_batch"], CFG[f"{kind}_len"], 2, 3, 3)
        v = xb[:, :, 0, 0, 0]
        clip, frame = v // 100, v % 100
        assert (clip == where[:, :1]).all() and (clip == clip[:, :1]).all()
        assert (frame.diff(dim=1) == 1).all() and (frame[:, 0] % CFG["stride"] == 0).all()
        assert (frame[:, -1] < 12).all()
        torch.testing.assert_close(cb, c[where[:, 0]])
        seen.add(kind)
    assert seen == {"short", "long"}


@pytest.mark.parametrize(
    "change, match",
    [
        ({"long_len": 13}, "long_len = 13 exceeds"),
        ({"long_ratio": 1.5}, "long_ratio"),
        ({"short_len": 9}, "short_len"),
    ],  # fmt: skip
)
def test_bad_config_names_the_field(change, match):
    x, c = clips()
    with pytest.raises(ValueError, match=match):
        AlternatingWindows(x, c, {**CFG, **change}, seed=0)


def test_window_loss_trains_through_the_one_loop(tmp_path):
    from interdiff_core.data.windows import window_loss_fn
    from interdiff_core.models.transformer import SequenceTransformer
    from interdiff_core.train.loop import train

    x, c = clips(T=12)
    x = x / 1000
    w = AlternatingWindows(x, c, CFG, seed=0)
    model = SequenceTransformer(18, 7, d_model=16, n_layers=1, n_heads=2, max_len=12, n_steps=3)
    cfg = dict(steps=4, lr=1e-3, checkpoint_every=100)
    hist = train(model, window_loss_fn(w, k_max=4), cfg, {"stage": "t"}, 0, tmp_path / "ck",
                 tmp_path / "m.safetensors")  # fmt: skip
    assert len(hist) == 4 and all(h == h for h in hist)
