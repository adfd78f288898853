"""Video metrics: PSNR, SSIM (Gaussian window), L1, and gap bucketing for interpolation.

All per-frame: inputs [..., C, H, W], outputs [...] (one value per frame), so callers average
over whatever axes they want.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# (low, high) inclusive gap ranges; the last bucket is open-ended
GAP_BUCKETS = ((2, 3), (4, 6), (7, 10), (11, None))


def bucket_name(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else f"{low}-{high}"


def gap_bucket(gap: int) -> str | None:
    """The bucket of a keyframe gap (frames between two keyframes, end - start); None for < 2."""
    for low, high in GAP_BUCKETS:
        if gap >= low and (high is None or gap <= high):
            return bucket_name(low, high)
    return None


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).abs().flatten(-3).mean(-1)


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-frame PSNR in dB, 10·log10(range² / MSE); MSE is floored at 1e-12 (100+ dB)."""
    mse = ((pred - target) ** 2).flatten(-3).mean(-1).clamp_min(1e-12)
    return 10 * torch.log10(data_range**2 / mse)


def _gaussian_kernel(size: int, sigma: float) -> torch.Tensor:
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(
    pred: torch.Tensor,
    target: torch.Tensor,
    data_range: float = 1.0,
    window: int = 11,
    sigma: float = 1.5,
) -> torch.Tensor:
    """Per-frame SSIM (Wang et al. 2004): Gaussian window (11, σ = 1.5), K1 = 0.01, K2 = 0.03,
    valid region only, averaged over channels and positions. Frames smaller than the window
    use a window of their smaller side (odd)."""
    if pred.shape != target.shape:
        raise ValueError(f"ssim: shapes differ, {tuple(pred.shape)} vs {tuple(target.shape)}")
    lead, (C, H, W) = pred.shape[:-3], pred.shape[-3:]
    size = min(window, H, W)
    size -= 1 - size % 2
    g = _gaussian_kernel(size, sigma).to(pred.dtype if pred.is_floating_point() else torch.float)
    kernel = (g[:, None] * g[None, :]).expand(C, 1, size, size)
    x = pred.reshape(-1, C, H, W).to(kernel.dtype)
    y = target.reshape(-1, C, H, W).to(kernel.dtype)

    def blur(a):
        return F.conv2d(a, kernel, groups=C)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx**2
    syy = blur(y * y) - my**2
    sxy = blur(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1).reshape(lead)


def mean_or_nan(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan
