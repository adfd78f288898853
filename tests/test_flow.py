"""Flow matching, shortcut forcing and the sampler against closed forms."""

import math

import pytest
import torch

from interdiff_core.diffusion.flow import (
    add_noise,
    draw_step_counts,
    draw_tau,
    euler_step,
    ramp_weight,
    shortcut_loss,
    step_levels,
)
from interdiff_core.diffusion.sampler import sample

MU, SD = 0.7, 0.3


def gaussian_denoiser(z, tau, step=None):
    """E[x | z_τ] for x ~ N(MU, SD²) per coordinate, z_τ = τx + (1 − τ)ε (closed form)."""
    var_z = tau**2 * SD**2 + (1 - tau) ** 2
    gain = (tau * SD**2 / var_z)[..., None]
    return MU + gain * (z - tau[..., None] * MU)


def test_euler_step_recovers_the_noise_it_was_built_from():
    x, eps = torch.randn(4, 8, 2), torch.randn(4, 8, 2)
    tau = torch.full((4, 8), 0.3)
    z = add_noise(x, tau, eps)
    z2 = euler_step(z, x, tau, tau + 0.2)  # perfect x̂: must land on the same straight path
    torch.testing.assert_close(z2, add_noise(x, tau + 0.2, eps))


def test_ramp_weight_endpoints():
    assert ramp_weight(torch.tensor(0.0)) == pytest.approx(0.1)
    assert ramp_weight(torch.tensor(1.0)) == pytest.approx(1.0)


@pytest.mark.parametrize("steps", [1, 4, 64])
def test_sampler_with_oracle_x_returns_it(steps):
    x = torch.randn(3, 5, 2)
    out = sample(lambda z, tau, s: x, x.shape, steps, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, x)


def test_sampler_matches_gaussian_closed_form():
    """With the exact denoiser of N(MU, SD²), 64 Euler steps give samples of that law."""
    gen = torch.Generator().manual_seed(0)
    out = sample(gaussian_denoiser, (4000, 4, 1), 64, gen)
    assert out.mean().item() == pytest.approx(MU, abs=0.02)
    assert out.std().item() == pytest.approx(SD, abs=0.02)


def test_sampler_rejects_steps_not_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        sample(gaussian_denoiser, (1, 1, 1), 3, torch.Generator())


def test_context_frames_are_noised_to_tau_ctx_and_returned_as_given():
    seen = []

    def f(z, tau, step):
        seen.append((z.clone(), tau.clone()))
        return torch.zeros_like(z)

    ctx = torch.ones(2, 4, 1)
    known = torch.tensor([[True, False, False, False]] * 2)
    out = sample(f, ctx.shape, 4, torch.Generator().manual_seed(1), ctx, known, tau_ctx=0.9)
    for z, tau in seen:
        assert torch.all(tau[:, 0] == 0.9) and torch.all(tau[:, 1:] < 0.9)
        assert not torch.allclose(z[:, 0], ctx[:, 0])  # really noised, not fed clean
    assert torch.all(out[:, 0] == 1) and torch.all(out[:, 1:] == 0)


def test_given_entries_follow_the_interpolation_path_and_the_rest_keeps_its_law():
    """Inpainting: a given entry's clean prediction is its value v, so Euler integration keeps it
    on the path z_τ = τ·v + (1 − τ)·ε of its starting noise ε, and it ends at v exactly; the
    other entries of a per-entry denoiser are still drawn from N(MU, SD²)."""
    B, L, D, steps = 4000, 3, 2, 64
    noise = torch.randn(B, L, D, generator=torch.Generator().manual_seed(2))
    values, mask = torch.zeros(B, L, D), torch.zeros(B, L, D, dtype=torch.bool)
    values[:, 0], mask[:, 0] = 3.0, True  # a whole first frame
    values[:, -1, 0], mask[:, -1, 0] = -2.0, True  # one feature of the last frame
    seen = []

    def f(z, tau, step):
        seen.append((z.clone(), tau.clone()))
        return gaussian_denoiser(z, tau, step)

    out = sample(f, (B, L, D), steps, torch.Generator(), noise=noise, given=(values, mask))
    for z, tau in seen:
        path = tau[..., None] * values + (1 - tau[..., None]) * noise
        torch.testing.assert_close(z[mask], path[mask])
    assert torch.all(out[mask] == values[mask])
    free = out[~mask]
    assert free.mean().item() == pytest.approx(MU, abs=0.03)
    assert free.std().item() == pytest.approx(SD, abs=0.03)


def test_tau_lies_on_each_samples_step_grid():
    gen = torch.Generator().manual_seed(0)
    k = draw_step_counts(512, 64, gen, "proportional")
    assert set(k.tolist()) <= set(step_levels(64))
    tau = draw_tau(512, 16, k, gen, per_frame=True)
    assert torch.all(tau >= 0) and torch.all(tau <= 1 - 1 / k[:, None])
    torch.testing.assert_close(tau * k[:, None], torch.round(tau * k[:, None]))
    assert (tau.std(1) > 0).any()  # diffusion forcing: frames differ within a sample
    shared = draw_tau(8, 16, k[:8], gen, per_frame=False)
    assert torch.all(shared == shared[:, :1])


@pytest.mark.parametrize("sampling", ["uniform", "proportional"])
def test_step_count_frequencies_follow_the_sampling_rule(sampling):
    """uniform: each of {1, 2, 4, …, 64} ≈ 1/7 of draws (DreamerV4); proportional: P(k) ∝ k
    (1 step ≈ 0.8 %). Tolerance 4 binomial standard errors at n = 70 000."""
    n, ks = 70_000, step_levels(64)
    k = draw_step_counts(n, 64, torch.Generator().manual_seed(0), sampling)
    freq = torch.tensor([(k == v).float().mean().item() for v in ks])
    p = torch.ones(len(ks)) if sampling == "uniform" else torch.tensor(ks, dtype=torch.float)
    p = p / p.sum()
    torch.testing.assert_close(freq, p, atol=float(4 * (p * (1 - p) / n).sqrt().max()), rtol=0)
    assert freq.sum().item() == pytest.approx(1.0)


def test_step_sampling_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match="step_sampling"):
        draw_step_counts(4, 8, torch.Generator(), "geometric")


def test_shortcut_loss_is_zero_for_a_perfect_model_and_positive_otherwise():
    x = torch.randn(64, 8, 2)
    gen = torch.Generator().manual_seed(0)
    perfect = lambda z, tau, s, rows=slice(None): x[rows]  # noqa: E731
    assert shortcut_loss(perfect, x, 16, gen).item() == pytest.approx(0, abs=1e-8)
    assert shortcut_loss(lambda z, tau, s, rows=None: 0 * z, x, 16, gen).item() > 0.1


def test_shortcut_bootstrap_target_is_two_half_steps():
    """For k < k_max the target is where two half-steps of the model land (closed form for
    a model that is linear in z): check it against a hand-rolled two-step Euler."""
    k_max, a = 4, 0.5

    def f(z, tau, step, rows=None):  # a deliberately imperfect, step-dependent model
        return a * z + 0.1 * step[:, None, None].float()

    x = torch.randn(256, 3, 1)
    gen = torch.Generator().manual_seed(3)
    loss = shortcut_loss(f, x, k_max, gen, per_frame=False)
    gen = torch.Generator().manual_seed(3)
    k = draw_step_counts(256, k_max, gen, "uniform")
    tau = draw_tau(256, 3, k, gen, per_frame=False)
    eps = torch.randn(x.shape, generator=gen)
    z = add_noise(x, tau, eps)
    log2k = torch.log2(k.float()).long()
    fine = (log2k + 1).clamp_max(int(math.log2(k_max)))
    h = (0.5 / k.float())[:, None].expand(-1, 3)
    x1 = f(z, tau, fine)
    zm = euler_step(z, x1, tau, tau + h)
    x2 = f(zm, tau + h, fine)
    z_end = euler_step(zm, x2, tau + h, tau + 2 * h)
    # the x-prediction that takes z to z_end in one step of size 2h
    x_boot = (z_end - z * (1 - tau - 2 * h)[..., None] / (1 - tau)[..., None]) / (
        (tau + 2 * h) - tau * (1 - tau - 2 * h) / (1 - tau)
    )[..., None]
    target = torch.where((k < k_max)[:, None, None], x_boot, x)
    expect = (ramp_weight(tau) * ((f(z, tau, log2k) - target) ** 2).mean(-1)).mean()
    assert loss.item() == pytest.approx(expect.item(), rel=1e-4)
