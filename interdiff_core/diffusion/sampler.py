"""The one sampler: Euler integration of an x-prediction flow from noise (τ = 0) to data.

Used by the teacher (full sequence), phase-1 (keyframes only) and the video rollout. Known
(context) frames are really noised to τ_ctx at every step, as in training: feeding them clean
was the train/test mismatch the world-model log found.
"""

from __future__ import annotations

import math

import torch

from interdiff_core.diffusion.flow import ModelFn, euler_step

Given = tuple[torch.Tensor, torch.Tensor]  # (values, boolean mask), both [B, L, D]


def apply_given(x: torch.Tensor, given: Given | None) -> torch.Tensor:
    """x with the entries `given` marks replaced by its values (inpainting)."""
    return x if given is None else torch.where(given[1], given[0], x)


@torch.no_grad()
def sample(
    f: ModelFn,
    shape: tuple[int, int, int],
    steps: int,
    gen: torch.Generator,
    context: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
    tau_ctx: float = 0.9,
    noise: torch.Tensor | None = None,
    given: Given | None = None,
    mean_only: bool = False,
) -> torch.Tensor:
    """Draw x [B,L,D] in `steps` Euler steps of size 1/steps (steps a power of two).

    `context` [B,L,D] with boolean `known` [B,L] marks frames given in advance: they are
    presented at signal level τ_ctx with fresh noise each step and returned as given.
    `noise` [B,L,D], if given, is the starting point instead of a draw from `gen` (so two step
    counts can start from the same noise).
    `given` (values [B,L,D], boolean mask [B,L,D]): entries known exactly, as Diffuser
    conditions a plan by inpainting its first state and goal. Every clean prediction takes them
    (so each Euler step moves towards them and the rest of the sequence is drawn around them),
    and so does the result.
    `mean_only` returns the first clean prediction instead (τ = 0, one model call): for the
    finest step size (steps = k_max, trained on the plain flow-matching target x) it is the
    model's E[x | context], a point prediction rather than a sample.
    """
    if steps < 1 or steps & (steps - 1):
        raise ValueError(f"steps must be a power of two >= 1, got {steps}")
    B, L, _ = shape
    step_idx = torch.full((B,), int(math.log2(steps)), dtype=torch.long)
    z = torch.randn(shape, generator=gen) if noise is None else noise.clone()
    for i in range(steps):
        tau = torch.full((B, L), i / steps)
        if known is not None:
            ctx_noise = torch.randn(shape, generator=gen)
            z_ctx = tau_ctx * context + (1 - tau_ctx) * ctx_noise
            z = torch.where(known[..., None], z_ctx, z)
            tau = torch.where(known, torch.full_like(tau, tau_ctx), tau)
        x_hat = f(z, tau, step_idx)
        x_hat = apply_given(x_hat, given)
        if i == steps - 1 or mean_only:
            break
        z = euler_step(z, x_hat, tau, tau + 1 / steps)
    if known is not None:
        x_hat = torch.where(known[..., None], context, x_hat)
    return x_hat
