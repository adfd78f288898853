"""Autoregressive rollout: noised context, oracle, persistence baseline."""

import pytest
import torch

from interdiff_core.diffusion.rollout import hold_last_frame, rollout, rollout_psnr

B, T, C, H, W = 2, 6, 2, 3, 3


def clips():
    return torch.randn(B, T, C, H, W, generator=torch.Generator().manual_seed(0))


def oracle(x):
    truth = x.flatten(2)
    return lambda start, L: lambda z, tau, step: truth[:, start : start + L]


@pytest.mark.parametrize("window", [2, 4, 10])
def test_oracle_model_gives_perfect_rollout(window):
    x = clips()
    pred = rollout(oracle(x), x, n_ctx=2, window=window, steps=4, gen=torch.Generator())
    torch.testing.assert_close(pred, x)
    scores = rollout_psnr(pred, x, 2)
    assert min(scores["latent_psnr"]) >= 100
    assert max(scores["latent_psnr_hold"]) < 40


def test_context_is_really_noised_to_tau_ctx():
    x = clips()
    truth = x.flatten(2)
    seen = []

    def make_fn(start, L):
        def f(z, tau, step):
            seen.append((start, L, z.clone(), tau.clone()))
            return torch.zeros_like(z)

        return f

    tau_ctx = 0.7
    rollout(make_fn, x, n_ctx=3, window=3, steps=2, gen=torch.Generator(), tau_ctx=tau_ctx)
    assert len(seen) == (T - 3) * 2
    for start, L, z, tau in seen:
        ctx_tau, ctx_z = tau[:, :-1], z[:, :-1]
        assert torch.all(ctx_tau == tau_ctx) and torch.all(tau[:, -1] < tau_ctx)
        noise = (ctx_z - tau_ctx * truth[:, start : start + L - 1]) / (1 - tau_ctx)
        if start + L - 1 <= 3:  # context made only of ground truth: the noise is N(0, 1)
            assert not torch.allclose(ctx_z, truth[:, start : start + L - 1])
            assert 0.3 < noise.std().item() < 3
    # fresh noise at every step of one frame: the two calls for the same frame differ
    assert not torch.equal(seen[0][2][:, :-1], seen[1][2][:, :-1])


def test_generated_frames_become_context():
    x = clips()
    calls = []

    def make_fn(start, L):
        def f(z, tau, step):
            calls.append(z[:, :-1].clone())
            return torch.full_like(z, 5.0)  # a constant model: generated frames are all 5

        return f

    pred = rollout(make_fn, x, n_ctx=2, window=3, steps=1, gen=torch.Generator(), tau_ctx=1.0)
    assert torch.all(pred[:, 2:] == 5.0)
    torch.testing.assert_close(pred[:, :2], x[:, :2])
    assert torch.all(calls[-1] == 5.0)  # at τ_ctx = 1 the context is the generated frames


def test_hold_last_frame_baseline():
    x = clips()
    held = hold_last_frame(x, 3)
    torch.testing.assert_close(held[:, :3], x[:, :3])
    for t in range(3, T):
        torch.testing.assert_close(held[:, t], x[:, 2])
    rng = float(x.max() - x.min())
    want = 10 * torch.log10(rng**2 / ((x[:, 4] - x[:, 2]) ** 2).flatten(1).mean(1)).mean()
    got = rollout_psnr(held, x, 3)
    assert got["latent_psnr_hold"][1] == pytest.approx(want.item(), rel=1e-5)
    assert got["latent_psnr"] == got["latent_psnr_hold"]


def test_pixel_space_scores_use_the_decoder():
    x = clips()
    decode = lambda lat: torch.sigmoid(lat[:, :, :1].repeat(1, 1, 3, 2, 2))  # noqa: E731
    s = rollout_psnr(hold_last_frame(x, 2), x, 2, decode=decode)
    assert len(s["pixel_psnr"]) == T - 2 and s["pixel_psnr"] == s["pixel_psnr_hold"]
    s2 = rollout_psnr(x, x, 2, decode=decode)
    assert min(s2["pixel_psnr"]) >= 100


def test_bad_context_length():
    with pytest.raises(ValueError, match="context frames"):
        rollout(oracle(clips()), clips(), n_ctx=T, window=3, steps=1, gen=torch.Generator())
