"""Latent frame interpolators behind one interface: LERP and a learned flow-warp interpolator.

`pair(x0, x1, alpha, gap)` predicts the frame a fraction alpha of the way from keyframe x0 to
keyframe x1 (gap frames apart) and an uncertainty map; `sequence(keys, idx, T)` fills a whole
clip from keyframes at sorted indices by calling `pair` for every frame, so both paths share one
implementation (the seed's pipeline path scaled the flows by alpha a second time).

The flow interpolator (after the seed's LatentFlowInterpolator): a small CNN reads both
keyframes and predicts a forward flow (motion 0 -> 1) and a backward flow (1 -> 0) in latent
pixels, a time-dependent blend mask and a Laplace uncertainty scale. For the frame at alpha,
x0 is warped by -alpha * forward and x1 by -(1 - alpha) * backward (each scaled once, here),
blended with weight m = sigmoid(logit(alpha) + a + b(2 alpha - 1)) on x1, and optionally
corrected by a residual CNN. Its heads start at zero, so untrained it is exactly LERP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from interdiff_core.io import load_model
from interdiff_core.selection.masks import interpolate

EPS_ALPHA = 1e-4


WARP_MODES = ("bilinear", "bicubic")


def warp(x: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Backward warp: out(p) = x(p + flow(p)), border padding. x [B,C,h,w], flow [B,2,h,w] as
    (dx, dy) in pixels. `bicubic` blurs less than `bilinear` at sub-pixel shifts (on the
    embedded video's val clips the flow interpolator lost less to LERP at short gaps with it)."""
    B, _, H, W = x.shape
    ys, xs = torch.meshgrid(
        torch.arange(H, dtype=x.dtype, device=x.device),
        torch.arange(W, dtype=x.dtype, device=x.device),
        indexing="ij",
    )
    gx = (xs + flow[:, 0]) * (2 / max(W - 1, 1)) - 1
    gy = (ys + flow[:, 1]) * (2 / max(H - 1, 1)) - 1
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(x, grid, mode=mode, padding_mode="border", align_corners=True)


class Interpolator(nn.Module):
    """The interface. Subclasses implement `pair`."""

    def pair(self, x0, x1, alpha, gap) -> tuple[torch.Tensor, torch.Tensor]:
        """x0, x1 [B,C,h,w], alpha [B] in [0, 1], gap [B] (frames from x0 to x1)
        -> (frame [B,C,h,w], uncertainty [B,1,h,w])."""
        raise NotImplementedError

    def sequence(self, keys: torch.Tensor, idx: torch.Tensor, T: int):
        """keys [B,K,C,h,w] at sorted idx [B,K] (first 0, last T - 1) -> (frames [B,T,C,h,w],
        uncertainty [B,T,1,h,w]); keyframes are returned exactly, with zero uncertainty."""
        B, K = idx.shape
        if keys.shape[:2] != (B, K) or K < 2:
            raise ValueError(f"keys must be [B, K >= 2, C, h, w] matching idx {list(idx.shape)}")
        if bool((idx[:, 0] != 0).any() | (idx[:, -1] != T - 1).any()):
            raise ValueError(f"keyframe indices must start at 0 and end at T - 1 = {T - 1}")
        idx = idx.contiguous()
        t = torch.arange(T, device=idx.device).expand(B, T).contiguous()
        seg = (torch.searchsorted(idx, t, right=True) - 1).clamp_(0, K - 2)
        left, right = idx.gather(1, seg), idx.gather(1, seg + 1)
        gap = right - left
        alpha = (t - left).to(keys.dtype) / gap.to(keys.dtype)
        rows = torch.arange(B, device=idx.device)[:, None].expand(B, T)
        x0, x1 = keys[rows, seg].flatten(0, 1), keys[rows, seg + 1].flatten(0, 1)
        out, unc = self.pair(x0, x1, alpha.flatten(), gap.flatten())
        out, unc = out.view(B, T, *out.shape[1:]), unc.view(B, T, *unc.shape[1:])
        is_key = torch.zeros(B, T, dtype=torch.bool, device=idx.device)
        is_key[rows[:, :K], idx] = True
        out = torch.where(is_key[..., None, None, None], keys[rows, seg + (t == right).long()], out)
        return out, unc.masked_fill(is_key[..., None, None, None], 0.0)


class Lerp(Interpolator):
    config: dict = {}

    def pair(self, x0, x1, alpha, gap):
        a = alpha.to(x0.dtype)[:, None, None, None]
        return (1 - a) * x0 + a * x1, torch.zeros_like(x0[:, :1])


def _conv_stack(c_in: int, width: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Conv2d(c_in if i == 0 else width, width, 3, padding=1), nn.SiLU()]
    return nn.Sequential(*layers)


def correlation(x0: torch.Tensor, x1: torch.Tensor, radius: int) -> torch.Tensor:
    """Local cost volume [B,(2r+1)^2,h,w]: at each pixel p and displacement d in the window,
    the channel mean of x0(p) * x1(p + d) (x1 zero-padded): direct motion evidence, which a
    small CNN on the stacked frames would have to discover through its receptive field."""
    _, _, H, W = x0.shape
    padded = F.pad(x1, (radius,) * 4)
    span = range(2 * radius + 1)
    return torch.cat(
        [(x0 * padded[:, :, dy : dy + H, dx : dx + W]).mean(1, keepdim=True)
         for dy in span for dx in span],
        dim=1,
    )  # fmt: skip


class FlowInterpolator(Interpolator):
    N_HEADS = 8  # forward flow 2, backward flow 2, mask a, mask b, log-scale a, log-scale b

    def __init__(
        self,
        channels: int,
        width: int = 32,
        depth: int = 3,
        residual: bool = True,
        residual_width: int = 32,
        gap_scale: float = 16.0,
        corr_radius: int = 0,
        warp_mode: str = "bilinear",
    ):
        super().__init__()
        if warp_mode not in WARP_MODES:
            raise ValueError(
                f"interpolator.model.warp_mode must be one of {WARP_MODES}, got {warp_mode!r}"
            )
        self.config = dict(
            channels=channels,
            width=width,
            depth=depth,
            residual=residual,
            residual_width=residual_width,
            gap_scale=gap_scale,
            corr_radius=corr_radius,
            warp_mode=warp_mode,
        )
        self.gap_scale, self.warp_mode = gap_scale, warp_mode
        self.corr_radius = corr_radius
        n_corr = (2 * corr_radius + 1) ** 2 if corr_radius > 0 else 0
        self.body = _conv_stack(2 * channels + 1 + n_corr, width, depth)
        self.heads = nn.Conv2d(width, self.N_HEADS, 3, padding=1)
        nn.init.zeros_(self.heads.weight)
        nn.init.zeros_(self.heads.bias)
        self.refine = None
        if residual:
            self.refine = nn.Sequential(
                _conv_stack(3 * channels + 1, residual_width, 2),
                nn.Conv2d(residual_width, channels, 3, padding=1),
            )
            nn.init.zeros_(self.refine[-1].weight)
            nn.init.zeros_(self.refine[-1].bias)

    def flows(self, x0, x1, gap):
        """Everything that depends on the keyframes only: (forward, backward, mask_ab, scale_ab)."""
        g = (gap.to(x0.dtype) / self.gap_scale)[:, None, None, None].expand_as(x0[:, :1])
        feats = [x0, x1, g]
        if self.corr_radius > 0:
            feats.append(correlation(x0, x1, self.corr_radius))
        h = self.heads(self.body(torch.cat(feats, dim=1)))
        return h[:, 0:2], h[:, 2:4], h[:, 4:6], h[:, 6:8]

    def pair(self, x0, x1, alpha, gap):
        fwd, bwd, mask_ab, scale_ab = self.flows(x0, x1, gap)
        a = alpha.to(x0.dtype).clamp(EPS_ALPHA, 1 - EPS_ALPHA)[:, None, None, None]
        w0 = warp(x0, -a * fwd, self.warp_mode)
        w1 = warp(x1, -(1 - a) * bwd, self.warp_mode)
        logit = torch.log(a) - torch.log1p(-a)
        m = torch.sigmoid(logit + mask_ab[:, :1] + mask_ab[:, 1:] * (2 * a - 1))
        out = (1 - m) * w0 + m * w1
        if self.refine is not None:
            out = out + self.refine(torch.cat([out, w0, w1, a.expand_as(x0[:, :1])], dim=1))
        log_scale = scale_ab[:, :1] + scale_ab[:, 1:] * 4 * a * (1 - a)
        return out, log_scale.exp()


def interpolation_loss(pred, unc, target, unc_weight: float) -> torch.Tensor:
    """L1, plus the Laplace negative log-likelihood of the (detached) error under the predicted
    scale, so the uncertainty head learns where the interpolation is wrong without reweighting
    the reconstruction."""
    err = (pred - target).abs()
    nll = err.detach().mean(1, keepdim=True) / unc + torch.log(unc)
    return err.mean() + unc_weight * nll.mean()


def draw_triplets(T: int, B: int, max_gap: int, gen: torch.Generator):
    """(start, target, gap) per sample: gap uniform in [2, max_gap], start uniform over every
    valid position (the last pair ending at frame T - 1 included), target strictly inside."""
    if not 2 <= max_gap <= T - 1:
        raise ValueError(f"interpolator.max_gap must be in [2, T - 1 = {T - 1}], got {max_gap}")
    gap = 2 + torch.floor(torch.rand(B, generator=gen) * (max_gap - 1)).long()
    start = torch.floor(torch.rand(B, generator=gen) * (T - gap).float()).long()
    inner = 1 + torch.floor(torch.rand(B, generator=gen) * (gap - 1).float()).long()
    return start, start + inner, gap


def make_interpolator(kind: str, channels: int, model_cfg: dict | None = None) -> Interpolator:
    if kind == "lerp":
        return Lerp()
    if kind == "flow":
        return FlowInterpolator(channels, **(model_cfg or {}))
    raise ValueError(f"interpolator.kind must be 'lerp' or 'flow', got {kind!r}")


INTERPOLATIONS = ("linear", "flow")


class KeyframeInterpolation:
    """The one way keyframes become a whole sequence (`phase2.interpolator`), used by phase-2
    training, phase-2 sampling and the interpolation-only arm alike: `linear` is piecewise LERP
    (`selection.masks.interpolate`, any frame shape), `flow` the trained FlowInterpolator on
    latent frames of `latent_shape` (C, h, w), frozen. Called as (values [B,K,*F] at sorted idx
    [B,K], T) -> [B,T,*F]; the keyframes come back exactly, in either case."""

    def __init__(self, model: Interpolator | None = None, latent_shape=None):
        if model is not None:
            if latent_shape is None or len(latent_shape) != 3:
                raise ValueError(
                    "phase2.interpolator: flow needs video latents [C, h, w] per frame, got "
                    f"latent_shape {latent_shape} (the flow interpolator is video-only)"
                )
            channels = model.config.get("channels", latent_shape[0])
            if channels != latent_shape[0]:
                raise ValueError(
                    f"phase2.interpolator: the flow interpolator reads {channels} latent "
                    f"channels, the data have {latent_shape[0]}"
                )
            model.eval().requires_grad_(False)
        self.model, self.latent_shape = model, None if model is None else tuple(latent_shape)

    @property
    def kind(self) -> str:
        return "linear" if self.model is None else "flow"

    def __call__(self, values: torch.Tensor, idx: torch.Tensor, T: int) -> torch.Tensor:
        if self.model is None:
            return interpolate(values, idx, T)
        B, K = values.shape[:2]
        keys = values.reshape(B, K, *self.latent_shape)
        model = self.model.to(values.device)
        with torch.no_grad():
            frames, _ = model.sequence(keys, idx, T)
        return frames.reshape(B, T, *values.shape[2:])


def load_interpolation(kind: str, path=None, latent_shape=None) -> KeyframeInterpolation:
    """The `phase2.interpolator` of a run: `linear`, or `flow` with the trained interpolator
    at `path` (models/interpolator.safetensors) on latent frames of `latent_shape`."""
    if kind == "linear":
        return KeyframeInterpolation()
    if kind != "flow":
        raise ValueError(f"phase2.interpolator: expected one of {INTERPOLATIONS}, got {kind!r}")
    if path is None:
        raise ValueError(
            "phase2.interpolator: flow needs the trained flow interpolator "
            "(models/interpolator.safetensors, rule train_interpolator) as an input"
        )
    return KeyframeInterpolation(load_model(FlowInterpolator, path)[0], latent_shape)
