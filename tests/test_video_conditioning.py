"""Frame tokens (no rank-d_model cap on a frame's output) and token conditioning (prompt token
sequence + image-conditioning frame) in the sequence transformer; the maze path is unchanged."""

import pytest
import torch

from interdiff_core.models.transformer import SequenceTransformer


def _model(P=1, text=None, d=4, x_dim=16, cond_dim=16 + 3 * 5):
    torch.manual_seed(0)
    kw = {} if text is None else {"cond_text_dim": text, "cond_frames": 1}
    return SequenceTransformer(x_dim, cond_dim, d_model=d, n_layers=1, n_heads=2, max_len=6,
                               frame_tokens=P, **kw).eval()  # fmt: skip


def _call(m, z, cond):
    B, L, _ = z.shape
    return m(z, torch.arange(L).expand(B, L), torch.full((B, L), 0.5), cond)


def test_default_is_the_maze_model_unchanged():
    m = _model()
    assert "frame_tokens" not in m.config and "cond_text_dim" not in m.config
    assert not any(k.startswith("chunk_emb") for k in m.state_dict())
    assert m.n_tokens(6, 31) == 6 + m.config["n_cond_tokens"]


def test_frame_tokens_lift_the_rank_cap_of_one_token_per_frame():
    """Outputs of one frame over many inputs: rank <= d_model with one token per frame, more
    with frame_tokens (the cap that kept the video teacher from copying a context frame)."""
    z = torch.randn(64, 2, 16, generator=torch.Generator().manual_seed(1))
    cond = torch.randn(64, 31)
    ranks = {}
    for P in (1, 4):
        with torch.no_grad():
            out = _call(_model(P), z, cond)[:, 0]
        ranks[P] = torch.linalg.matrix_rank(out - out.mean(0), atol=1e-4).item()
    assert ranks[1] <= 4 < ranks[4]
    assert _model(4).n_tokens(6, 31) == 6 * 4 + 4
    with pytest.raises(ValueError, match="frame_tokens = 3 must divide x_dim = 16"):
        _model(3)


def test_prompt_tokens_and_the_first_frame_condition_the_output():
    m = _model(P=4, text=5)  # cond = 3 prompt tokens of width 5, then one 16-value frame
    assert m.cond.n_text == 3 and m.n_tokens(6, 31) == 6 * 4 + 3 + 4
    z, cond = torch.randn(2, 3, 16), torch.randn(2, 31)
    with torch.no_grad():
        base = _call(m, z, cond)
        for part in (slice(5, 10), slice(15, 31)):  # the second prompt token; the frame
            other = cond.clone()
            other[:, part] += 1.0
            assert not torch.allclose(_call(m, z, other), base)
    with pytest.raises(ValueError, match="model.cond_text_dim = 4 .* positive multiple"):
        _model(P=4, text=4)


@pytest.mark.parametrize("image_dim", [None, 16])
def test_wan_reads_prompt_tokens_and_the_first_frame(image_dim):
    pytest.importorskip("diffusers")
    from interdiff_core.models.wan_backbone import WanDenoiser

    tiny = dict(patch_size=[1, 2, 2], num_attention_heads=2, attention_head_dim=16,
                in_channels=4, out_channels=4, text_dim=32, freq_dim=32, ffn_dim=64,
                num_layers=1, rope_max_seq_len=64)  # fmt: skip
    if image_dim:  # Wan's I2V layout: image cross-attention
        tiny.update(image_dim=image_dim, added_kv_proj_dim=32)
    torch.manual_seed(0)
    m = WanDenoiser([4, 4, 4], 3, wan_config=tiny, cond_text_dim=8, cond_frames=1).eval()
    B, L, D = 2, 3, 64
    cond, z = torch.randn(B, 5 * 8 + D), torch.randn(B, L, D)
    text, image = m.split_cond(cond)
    assert text.shape == (B, 5 + (0 if image_dim else 4), 32)  # 5 prompt tokens (+ 4 patches)
    assert image is None if not image_dim else image.shape == (B, 4, image_dim)
    assert m.n_tokens(L, cond.shape[1]) == L * 4 + 5 + 4 + 1
    pos, tau = torch.arange(L).expand(B, L), torch.full((B, L), 0.25)
    with torch.no_grad():
        base = m(z, pos, tau, cond)
        for part in (slice(8, 16), slice(40, 104)):  # the second prompt token; the frame
            other = cond.clone()
            other[:, part] = torch.randn_like(other[:, part])  # (a uniform shift LayerNorms away)
            assert not torch.allclose(m(z, pos, tau, other), base)
    with pytest.raises(ValueError, match="prompt tokens of model.cond_text_dim"):
        m.split_cond(torch.randn(B, 5 * 8 + D + 3))


def test_persistence_prior_holds_the_frame_before_until_trained():
    """Untrained (zero residual): a clean frame is kept, a pure-noise frame gets the frame
    before it (ρ-shrunk), frame 0 the conditioning frame; a trained residual moves off it."""
    torch.manual_seed(0)
    m = SequenceTransformer(16, 3 * 5 + 16, d_model=8, n_layers=1, n_heads=2, max_len=6,
                            cond_text_dim=5, cond_frames=1, persistence=True).eval()  # fmt: skip
    rho = torch.sigmoid(m.persistence_logit).item()
    B, L = 2, 4
    z, cond = torch.randn(B, L, 16), torch.randn(B, 3 * 5 + 16)
    pos = torch.arange(L).expand(B, L)
    with torch.no_grad():
        tau = torch.tensor([0.0, 1.0, 0.0, 0.0]).expand(B, L)
        out = m(z, pos, tau, cond)
        torch.testing.assert_close(out[:, 0], cond[:, 15:])
        torch.testing.assert_close(out[:, 1], z[:, 1])
        torch.testing.assert_close(out[:, 2], rho * z[:, 1])
        torch.testing.assert_close(out[:, 3], rho**2 * z[:, 1])
        torch.nn.init.normal_(m.out_proj.weight)
        assert not torch.allclose(m(z, pos, tau, cond)[:, 1], z[:, 1])


def test_persistence_prior_is_the_gaussian_posterior_mean():
    """Against the closed form: one token with a N(0, 1) prior observed at τ has posterior
    mean τ z / (τ² + (1 − τ)²); two tokens Δ apart are jointly Gaussian with correlation ρ^Δ,
    and the filter's second estimate equals the batch posterior mean Σ_xz Σ_zz⁻¹ z."""
    from interdiff_core.models.transformer import persistence_prior

    z, tau = torch.randn(3, 2, 1), torch.tensor([[0.3, 0.6]]).expand(3, 2)
    pos, rho = torch.tensor([[1, 4]]).expand(3, 2), torch.tensor(0.9)
    out = persistence_prior(z, tau, pos, None, rho)
    t0, t1, r = 0.3, 0.6, 0.9**3
    torch.testing.assert_close(out[:, 0, 0], t0 * z[:, 0, 0] / (t0**2 + (1 - t0) ** 2))
    var0, var1 = t0**2 + (1 - t0) ** 2, t1**2 + (1 - t1) ** 2
    cov_zz = torch.tensor([[var0, t0 * t1 * r], [t0 * t1 * r, var1]])
    cov_xz = torch.tensor([r * t0, t1])  # x_1 against (z_0, z_1)
    expect = z[:, :, 0] @ torch.linalg.solve(cov_zz, cov_xz)
    torch.testing.assert_close(out[:, 1, 0], expect)


def _trend_joint_covariance(positions, rho, phi, q_x, q_u):
    """Cov of x at `positions` under the trend model started from N(0, diag(1, var_u)) at
    positions[0]: every state written as a linear map of independent unit sources."""
    var_u = q_u / (1 - phi**2)
    F = torch.tensor([[rho, 1.0], [0.0, phi]], dtype=torch.float64)
    n_src = 2 + 2 * (positions[-1] - positions[0])
    A = torch.zeros(2, n_src, dtype=torch.float64)  # state = A @ sources
    A[0, 0], A[1, 1] = 1.0, var_u**0.5
    rows, p, k = {positions[0]: A[0].clone()}, positions[0], 2
    while p < positions[-1]:
        A = F @ A
        A[0, k], A[1, k + 1] = q_x**0.5, q_u**0.5
        p, k = p + 1, k + 2
        rows[p] = A[0].clone()
    X = torch.stack([rows[q] for q in positions])
    return X @ X.T


def test_trend_prior_is_the_gaussian_posterior_mean():
    """The damped local trend (x' = ρx + u + w_x, u' = φu + w_u) filtered along tokens with
    gaps equals the batch posterior mean Σ_xz Σ_zz⁻¹ z of the joint Gaussian at every token;
    with φ = 0 and no velocity noise it is the hold prior."""
    from interdiff_core.models.transformer import persistence_prior

    rho, phi, q_x, q_u = 0.95, 0.6, 0.02, 0.05
    positions = [2, 3, 5, 6, 9]
    L = len(positions)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(4, L, 3, generator=g, dtype=torch.float64)
    tau = torch.rand(4, L, generator=g, dtype=torch.float64) * 0.9 + 0.05
    pos = torch.tensor(positions).expand(4, L)
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    out = persistence_prior(z, tau, pos, None, f64(rho), f64(phi), f64([q_x, q_u]))
    cov_x = _trend_joint_covariance(positions, rho, phi, q_x, q_u)
    for b in range(4):
        t = tau[b]
        cov_zz = t[:, None] * cov_x * t[None, :] + torch.diag((1 - t) ** 2)
        cov_xz = cov_x * t[None, :]  # Cov(x_i, z_j)
        for i in range(L):
            w = torch.linalg.solve(cov_zz[: i + 1, : i + 1], cov_xz[i, : i + 1])
            torch.testing.assert_close(out[b, i], z[b, : i + 1].T @ w)
    hold = persistence_prior(z, tau, pos, None, f64(rho))
    zero = persistence_prior(z, tau, pos, None, f64(rho), f64(0.0), f64([1 - rho**2, 0.0]))
    torch.testing.assert_close(hold, zero)


def test_trend_prior_carries_the_motion_on():
    """Untrained, a trend model given clean frames of a steady ramp predicts the next
    (pure-noise) frame further along the ramp, where the hold model stays at the last frame."""
    torch.manual_seed(0)
    kw = dict(d_model=8, n_layers=1, n_heads=2, max_len=8, cond_text_dim=5, cond_frames=1)
    trend = SequenceTransformer(16, 3 * 5 + 16, persistence="trend", **kw).eval()
    hold = SequenceTransformer(16, 3 * 5 + 16, persistence="hold", **kw).eval()
    assert trend.config["persistence"] == "trend" and hold.config["persistence"] is True
    start, step = torch.randn(1, 16), 0.1 * torch.randn(1, 16)
    frames = start + step * torch.arange(6.0)[:, None]  # [6, 16], frame 0 = the conditioning
    cond = torch.cat([torch.randn(1, 15), frames[:1]], dim=1)
    z = frames[None].clone()
    z[:, -1] = torch.randn(16)
    tau = torch.tensor([[1.0] * 5 + [0.0]])
    pos = torch.arange(6)[None]
    with torch.no_grad():
        err_trend = (trend(z, pos, tau, cond)[0, -1] - frames[-1]).norm()
        err_hold = (hold(z, pos, tau, cond)[0, -1] - frames[-1]).norm()
    assert err_trend < 0.8 * err_hold
    with pytest.raises(ValueError, match="model.persistence"):
        SequenceTransformer(16, 3 * 5 + 16, persistence="ar2", **kw)
