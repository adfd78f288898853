"""Flow matching with x-prediction, diffusion forcing and shortcut forcing (DreamerV4 style).

Convention (everywhere): signal level τ ∈ [0, 1], τ = 1 clean, z_τ = τ·x + (1 − τ)·ε.
A model f(z_τ, τ, step) predicts x. Shortcut forcing conditions on the step size d = 1/k,
passed to the model as the integer log2(k); τ lives on the d-grid {0, d, …, 1 − d}.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

# f(z [B,L,D], tau [B,L], step [B] long, rows=slice(None)) -> x_hat [B,L,D]: a model with its
# conditioning bound in a closure; `rows` picks the batch rows z belongs to.
ModelFn = Callable[..., torch.Tensor]


def _b(tau: torch.Tensor) -> torch.Tensor:
    return tau[..., None]


def add_noise(x: torch.Tensor, tau: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return _b(tau) * x + (1 - _b(tau)) * eps


def ramp_weight(tau: torch.Tensor) -> torch.Tensor:
    return 0.9 * tau + 0.1


def velocity(z: torch.Tensor, x_hat: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """dz/dτ implied by an x-prediction: (x̂ − z)/(1 − τ)."""
    return (x_hat - z) / (1 - _b(tau)).clamp_min(1e-6)


def euler_step(z, x_hat, tau, tau_next) -> torch.Tensor:
    """z_τ' = τ'·x̂ + (1 − τ')·ε̂ with ε̂ = (z_τ − τ·x̂)/(1 − τ)."""
    eps_hat = (z - _b(tau) * x_hat) / (1 - _b(tau)).clamp_min(1e-6)
    return _b(tau_next) * x_hat + (1 - _b(tau_next)) * eps_hat


def step_levels(k_max: int) -> list[int]:
    """Shortcut step counts 1, 2, 4, …, k_max (k_max a power of two)."""
    if k_max < 1 or k_max & (k_max - 1):
        raise ValueError(f"k_max must be a power of two >= 1, got {k_max}")
    return [2**i for i in range(int(math.log2(k_max)) + 1)]


STEP_SAMPLING = ("uniform", "proportional")


def draw_step_counts(
    B: int, k_max: int, gen: torch.Generator, sampling: str = "uniform"
) -> torch.Tensor:
    """Step counts k per sample over {1, 2, 4, …, k_max}: `uniform` (DreamerV4: every step
    size, the cheap 1-, 2-, 4-step points included, trained equally often) or `proportional`
    (P(k) ∝ k: the finest steps, which every bootstrap target rests on, most often)."""
    if sampling not in STEP_SAMPLING:
        raise ValueError(f"step_sampling must be one of {STEP_SAMPLING}, got {sampling!r}")
    ks = torch.tensor(step_levels(k_max), dtype=torch.float)
    p = torch.ones_like(ks) if sampling == "uniform" else ks
    return ks[torch.multinomial(p / p.sum(), B, replacement=True, generator=gen)].long()


def draw_tau(
    B: int, L: int, k: torch.Tensor, gen: torch.Generator, per_frame: bool
) -> torch.Tensor:
    """τ on each sample's d-grid {0, 1/k, …, 1 − 1/k}; per frame (diffusion forcing) or shared."""
    u = torch.rand(B, L if per_frame else 1, generator=gen)
    tau = torch.floor(u * k[:, None]) / k[:, None]
    return tau.expand(B, L)


def shortcut_loss(
    f: ModelFn,
    x: torch.Tensor,
    k_max: int,
    gen: torch.Generator,
    per_frame: bool = True,
    step_sampling: str = "uniform",
) -> torch.Tensor:
    """Shortcut-forcing loss, weighted by the ramp w(τ); returns a scalar.

    For the finest step (k = k_max) the target is x (plain flow matching). For coarser steps
    the target is two half-steps of the same model under stop-gradient, matched in velocity
    space; the (1 − τ)² weight that space carries turns it into an x-space distance.
    `step_sampling` is how k is drawn (`draw_step_counts`).
    """
    B, L, _ = x.shape
    # drawn on the generator's device (the CPU), so every device trains on the same draws
    k = draw_step_counts(B, k_max, gen, step_sampling)
    rows = torch.nonzero(k < k_max).squeeze(1)
    k, tau = k.to(x.device), draw_tau(B, L, k, gen, per_frame).to(x.device)
    eps = torch.randn(x.shape, generator=gen).to(x.device)
    z = add_noise(x, tau, eps)
    log2k = torch.log2(k.float()).long()
    x_hat = f(z, tau, log2k)

    target = x
    if len(rows):  # bootstrap only the rows with a coarse step: two half-steps d/2 = 1/(2k)
        rows = rows.to(x.device)
        with torch.no_grad():
            zc, tc, fine = z[rows], tau[rows], log2k[rows] + 1
            half = (0.5 / k[rows].float())[:, None].expand(-1, L)
            x1 = f(zc, tc, fine, rows=rows)
            z_mid = euler_step(zc, x1, tc, tc + half)
            x2 = f(z_mid, tc + half, fine, rows=rows)
            v_target = 0.5 * (velocity(zc, x1, tc) + velocity(z_mid, x2, tc + half))
            target = x.index_copy(0, rows, zc + (1 - _b(tc)) * v_target)
    err = ((x_hat - target) ** 2).mean(-1)
    return (ramp_weight(tau) * err).mean()
