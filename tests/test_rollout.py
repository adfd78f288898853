"""Autoregressive rollout: noised context, oracle, persistence baseline."""

import pytest
import torch

from interdiff_core.diffusion.rollout import (
    check_tau_ctx,
    hold_last_frame,
    rollout,
    rollout_psnr,
    shortcut_check,
)

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

    tau_ctx = 0.75
    rollout(make_fn, x, n_ctx=3, window=3, steps=4, gen=torch.Generator(), tau_ctx=tau_ctx)
    assert len(seen) == (T - 3) * 4
    for start, L, z, tau in seen:
        ctx_tau, ctx_z = tau[:, :-1], z[:, :-1]
        assert torch.all(ctx_tau == tau_ctx) and torch.all(tau[:, -1] <= tau_ctx)
        noise = (ctx_z - tau_ctx * truth[:, start : start + L - 1]) / (1 - tau_ctx)
        if start + L - 1 <= 3:  # context made only of ground truth: the noise is N(0, 1)
            assert not torch.allclose(ctx_z, truth[:, start : start + L - 1])
            assert 0.3 < noise.std().item() < 3
    # fresh noise at every step of one frame: the two calls for the same frame differ
    assert not torch.equal(seen[0][2][:, :-1], seen[1][2][:, :-1])


def test_point_rollout_is_one_call_from_pure_noise_at_the_step_size():
    """A point rollout asks the model once per frame, the new frame at τ = 0 with the step
    size 1/steps, and keeps its clean prediction (a sampled rollout makes `steps` calls)."""
    x = clips()
    truth = x.flatten(2)
    seen = []

    def make_fn(start, L):
        def f(z, tau, step):
            seen.append((tau[:, -1].clone(), step.clone()))
            return truth[:, start : start + L] + 0.5  # never a fixed point of the sampler

        return f

    pred = rollout(make_fn, x, n_ctx=3, window=3, steps=8, gen=torch.Generator(), tau_ctx=7 / 8,
                   point=True)  # fmt: skip
    assert len(seen) == T - 3
    assert all(torch.all(t == 0) and torch.all(k == 3) for t, k in seen)
    torch.testing.assert_close(pred[:, 3:], x[:, 3:] + 0.5)
    with pytest.raises(ValueError, match="tau_ctx"):
        rollout(make_fn, x, 3, 3, 8, torch.Generator(), tau_ctx=0.9, point=True)


def test_generated_frames_become_context():
    x = clips()
    calls = []

    def make_fn(start, L):
        def f(z, tau, step):
            calls.append(z[:, :-1].clone())
            return torch.full_like(z, 5.0)  # a constant model: generated frames are all 5

        return f

    pred = rollout(make_fn, x, n_ctx=2, window=3, steps=2, gen=torch.Generator(), tau_ctx=0.5)
    assert torch.all(pred[:, 2:] == 5.0)
    torch.testing.assert_close(pred[:, :2], x[:, :2])
    # the last call's context is two generated frames (all 5) noised to τ_ctx = 0.5
    assert abs(calls[-1].mean().item() - 2.5) < 0.3


def test_tau_ctx_must_lie_on_the_step_grid():
    assert check_tau_ctx(0.75, 4) == 0.75 and check_tau_ctx(0.875, 64) == 0.875
    for bad, steps in ((0.9, 4), (1.0, 4), (0.0, 8)):
        with pytest.raises(ValueError, match="rollout.tau_ctx = .* not on the grid"):
            check_tau_ctx(bad, steps)
    with pytest.raises(ValueError, match="steps >= 2"):
        check_tau_ctx(0.5, 1)


def test_shortcut_check_exposes_a_model_that_ignores_its_noise():
    x = clips()
    mean = x.flatten(2).mean(1, keepdim=True)

    def ignores_noise(start, L):  # always the clip mean: 4 and 64 steps agree, and so do seeds
        return lambda z, tau, step: mean.expand(-1, L, -1)

    def uses_noise(start, L):  # a sample: the mean plus what is left of the starting noise
        return lambda z, tau, step: mean.expand(-1, L, -1) + 0.5 * z

    a = shortcut_check(ignores_noise, x, 2, 3, seed=0, tau_ctx=0.5, coarse=2, fine=8)
    b = shortcut_check(uses_noise, x, 2, 3, seed=0, tau_ctx=0.5, coarse=2, fine=8)
    assert min(a["coarse_vs_fine"]) >= 100 and min(a["fine_vs_fine"]) >= 100  # no spread at all
    assert max(b["fine_vs_fine"]) < 60  # different noise, different samples
    assert len(a["psnr_2"]) == len(a["psnr_8"]) == len(a["psnr_hold"]) == T - 2
    with pytest.raises(ValueError, match="grid"):
        shortcut_check(ignores_noise, x, 2, 3, seed=0, tau_ctx=0.75, coarse=2, fine=8)


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
        rollout(oracle(clips()), clips(), n_ctx=T, window=3, steps=4, gen=torch.Generator())


def write_video_split(path, n=3, T=6, C=2, h=4, w=4):
    import numpy as np

    from interdiff_core.data.shards import write_shards

    gen = np.random.default_rng(0)
    latent = gen.standard_normal((n, T, C, h, w)).astype("float32")
    embed = gen.standard_normal((n, 3, 5)).astype("float32")
    write_shards(path, {"latent": latent, "embed": embed, "prompt": np.array(["a"] * n)}, 2)
    return torch.from_numpy(latent)


def test_rollout_stage_writes_curves_and_strip(tmp_path):
    from interdiff_core.data.splits import load_split
    from interdiff_core.io import load_tensors, read_json, save_checkpoint
    from interdiff_core.models.tokenizer import FrameAutoencoder
    from interdiff_core.models.transformer import SequenceTransformer
    from interdiff_core.stages.rollout import run_rollout

    x = write_video_split(tmp_path / "test")
    D = 2 * 4 * 4
    cond_dim = load_split(tmp_path / "test").cond.shape[1]  # the split's own conditioning
    teacher = SequenceTransformer(
        D, cond_dim, d_model=16, n_layers=1, n_heads=2, max_len=6, n_steps=3
    )
    save_checkpoint(tmp_path / "t.safetensors", teacher, {"model_config": teacher.config})
    tok = FrameAutoencoder(latent_channels=2, downsample=2, width=8)
    save_checkpoint(tmp_path / "tok.safetensors", tok, {"model_config": tok.config})
    cfg = dict(n_clips=2, context=2, window=4, steps=2, tau_ctx=0.5, n_strip=1)
    cfg.update(shortcut_steps=4, shortcut_clips=2, point_tau_ctx=0.75)
    out = tmp_path / "r.json", tmp_path / "r.safetensors"
    run_rollout(tmp_path / "test", tmp_path / "t.safetensors", tmp_path / "tok.safetensors",
                *out, cfg, {}, seed=0, val_dir=tmp_path / "test")  # fmt: skip
    res = read_json(out[0])
    for k in ("mean_pixel_psnr", "mean_point_minus_hold", "se_minus_hold"):  # val scored alike
        assert res["val"][k] == pytest.approx(res[k], abs=1e-5)  # (here the same clips)
    assert len(res["val"]["curves"]["point_pixel_psnr"]) == 4
    for prefix in ("", "point_"):  # the paired difference to holding, per clip
        diff = res[f"mean_{prefix}pixel_psnr"] - res["mean_pixel_psnr_hold"]
        assert abs(res[f"mean_{prefix}minus_hold"] - diff) < 1e-4
    assert len(res["curves"]["point_pixel_psnr"]) == 4 and "point_pixel_psnr_hold" not in res
    assert len(res["curves"]["pixel_psnr"]) == 4 and len(res["curves"]["latent_psnr_hold"]) == 4
    assert res["se_pixel_psnr"] >= 0 and res["shortcut_check"]["fine"] == 4
    assert len(res["shortcut_check"]["curves"]["coarse_vs_fine"]) == 4
    t, _ = load_tensors(out[1])
    torch.testing.assert_close(t["latent_rollout"][:, :2], x[:2, :2])
    assert t["rollout"].shape == t["point"].shape == (1, 6, 3, 8, 8)
    with pytest.raises(ValueError, match="k_max"):
        run_rollout(tmp_path / "test", tmp_path / "t.safetensors", None, *out,
                    {**cfg, "shortcut_steps": 8}, {}, seed=0)  # fmt: skip
    with pytest.raises(ValueError, match="tau_ctx"):
        run_rollout(tmp_path / "test", tmp_path / "t.safetensors", None, *out,
                    {**cfg, "tau_ctx": 0.9}, {}, seed=0)  # fmt: skip
    with pytest.raises(
        ValueError, match="point_tau_ctx = 0.8 is not on the grid of teacher.k_max = 4"
    ):
        run_rollout(tmp_path / "test", tmp_path / "t.safetensors", None, *out,
                    {**cfg, "point_tau_ctx": 0.8}, {}, seed=0)  # fmt: skip
    # the check at its own coarse step count and context level, on that count's grid
    check_cfg = {**cfg, "shortcut_coarse_steps": 1, "shortcut_tau_ctx": 0.25}
    with pytest.raises(ValueError, match="shortcut_coarse_steps = 1 has no signal level"):
        run_rollout(tmp_path / "test", tmp_path / "t.safetensors", None, *out, check_cfg, {},
                    seed=0)  # fmt: skip
    check_cfg.update(shortcut_coarse_steps=4)
    with pytest.raises(ValueError, match="shortcut_tau_ctx = 0.3 is not on the grid"):
        run_rollout(tmp_path / "test", tmp_path / "t.safetensors", None, *out,
                    {**check_cfg, "shortcut_tau_ctx": 0.3}, {}, seed=0)  # fmt: skip
    run_rollout(tmp_path / "test", tmp_path / "t.safetensors", None, *out, check_cfg, {},
                seed=0)  # fmt: skip
    check = read_json(out[0])["shortcut_check"]
    assert (check["coarse"], check["fine"], check["tau_ctx"]) == (4, 4, 0.25)
    assert check["mean_coarse_vs_fine"] > 90  # the same step count from the same noise
