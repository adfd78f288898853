"""Interpolators: one interface for pairs and sequences, warping, LERP, training triplets."""

import pandas as pd
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


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_warp_shifts_by_whole_pixels(mode):
    x = torch.arange(2 * 5 * 7, dtype=torch.float).view(1, 2, 5, 7)
    flow = torch.zeros(1, 2, 5, 7)
    flow[:, 0] = 2.0  # sample two pixels to the right
    out = warp(x, flow, mode)
    torch.testing.assert_close(out[..., :5], x[..., 2:])
    torch.testing.assert_close(warp(x, torch.zeros_like(flow), mode), x)


def test_bicubic_warp_keeps_more_detail_at_half_pixel_shifts():
    x = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    flow = torch.full((1, 2, 16, 16), 0.5)
    there_and_back = {m: warp(warp(x, flow, m), -flow, m) for m in ("bilinear", "bicubic")}
    err = {m: (v - x)[..., 2:-2, 2:-2].pow(2).mean() for m, v in there_and_back.items()}
    assert err["bicubic"] < 0.7 * err["bilinear"]  # white noise: 0.33 against 0.57
    with pytest.raises(ValueError, match="warp_mode"):
        FlowInterpolator(4, warp_mode="nearest")


def test_augmented_triplets_are_symmetries_of_real_ones():
    from interdiff_core.stages.train_interpolator import interpolator_batch

    x = torch.randn(3, 6, 2, 5, 5)
    gen = torch.Generator().manual_seed(0)
    x0, x1, mid, alpha, gap = interpolator_batch(x, 64, 4, gen, augment=True)
    flat = x.flatten(0, 1)  # every frame of every clip
    images = torch.stack([g for f in flat for t in (f, f.transpose(-1, -2))
                          for g in (t, t.flip(-1), t.flip(-2), t.flip(-1).flip(-2))])  # fmt: skip
    transposed = 0
    for f in torch.cat([x0, x1, mid]):
        hit = ((images - f).abs().flatten(1).amax(1) < 1e-6).nonzero().flatten()
        assert len(hit) >= 1  # one of the grid's eight symmetries of a real frame
        transposed += bool((hit // 4 % 2 == 1).all())
    assert 0.3 < transposed / (3 * 64) < 0.7
    assert ((alpha > 0) & (alpha < 1)).all()
    gen = torch.Generator().manual_seed(0)
    wide = torch.randn(3, 6, 2, 4, 5)  # not square: mirrored, never transposed
    assert interpolator_batch(wide, 8, 4, gen, augment=True)[0].shape == (8, 2, 4, 5)


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


def write_linear_clips(path, n=3, T=13):
    """Latents linear in time: LERP is exact on them, so its scores are known."""
    import numpy as np

    from interdiff_core.data.shards import write_shards

    gen = np.random.default_rng(0)
    a, b = gen.standard_normal((2, n, 1, 2, 8, 8)).astype("float32")
    latent = a + np.arange(T, dtype="float32")[None, :, None, None, None] * 0.1 * b
    embed = gen.standard_normal((n, 3, 5)).astype("float32")
    write_shards(path, {"latent": latent, "embed": embed, "prompt": np.array(["p"] * n)}, 2)


def test_train_and_eval_stages(tmp_path):
    from interdiff_core.io import load_model, save_checkpoint
    from interdiff_core.models.tokenizer import FrameAutoencoder
    from interdiff_core.stages.eval_interpolator import eval_interpolator, keyframes_every
    from interdiff_core.stages.train_interpolator import train_interpolator

    assert keyframes_every(5, 13).tolist() == [0, 5, 10, 12]
    write_linear_clips(tmp_path / "clips")
    cfg = dict(model=dict(width=8, depth=1, residual_width=8), max_gap=12, batch_size=8,
               unc_weight=0.1, steps=30, lr=3e-3, checkpoint_every=100)  # fmt: skip
    hist = train_interpolator(tmp_path / "clips", tmp_path / "i.safetensors", tmp_path / "ck",
                              cfg, seed=0)  # fmt: skip
    assert len(hist) == 30 and all(h == h for h in hist)
    model, meta = load_model(FlowInterpolator, tmp_path / "i.safetensors")
    assert meta["max_gap"] == 12
    tok = FrameAutoencoder(latent_channels=2, downsample=2, width=8)
    save_checkpoint(tmp_path / "tok.safetensors", tok, {"model_config": tok.config})
    table = eval_interpolator({"val": tmp_path / "clips", "test": tmp_path / "clips"},
                              tmp_path / "i.safetensors",
                              tmp_path / "tok.safetensors", tmp_path / "e.csv",
                              dict(n_clips=2, spacings=[2, 4, 7, 12]), {}, seed=0)  # fmt: skip
    assert (tmp_path / "e.csv").exists()
    assert list(table.split.unique()) == ["val", "test"]  # the same clips twice here
    val, test = (table[table.split == s].drop(columns="split") for s in ("val", "test"))
    pd.testing.assert_frame_equal(val.reset_index(drop=True), test.reset_index(drop=True))
    table = test
    assert set(table.bucket) == {"2-3", "4-6", "7-10", "11+"}
    lerp = table[table.method == "lerp"]
    assert (lerp.latent_l1 < 1e-5).all() and (lerp.pixel_psnr > 60).all()
    assert (lerp.pixel_ssim > 0.999).all()
    flow = table[table.method == "flow"]
    assert set(flow.bucket) == set(lerp.bucket) and (flow.frames.values == lerp.frames.values).all()
