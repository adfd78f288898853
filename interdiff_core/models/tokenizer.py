"""Frame tokenizers: RGB frames [N,3,H,W] in [0,1] <-> latents [N,C,h,w].

- FrameAutoencoder: a small conv autoencoder trained in the DAG (MSE, optionally plus an
  edge term: the squared difference of image gradients, a cheap perceptual-ish loss). Its
  latents are standardised with statistics measured on the training frames after training,
  so the diffusion models see roughly unit-variance latents.
- PretrainedAutoencoder: a diffusers AutoencoderKL from a local folder (never a hub id);
  latents are the posterior mode times the model's scaling factor.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


def _block(c_in: int, c_out: int, down: bool) -> nn.Sequential:
    conv = nn.Conv2d(c_in, c_out, 4, 2, 1) if down else nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)
    return nn.Sequential(conv, nn.GroupNorm(min(8, c_out), c_out), nn.SiLU())


class FrameAutoencoder(nn.Module):
    def __init__(self, latent_channels: int = 4, downsample: int = 4, width: int = 32):
        super().__init__()
        n = downsample.bit_length() - 1
        if downsample < 2 or 2**n != downsample:
            raise ValueError(f"tokenize.downsample must be a power of two >= 2, got {downsample}")
        self.config = dict(latent_channels=latent_channels, downsample=downsample, width=width)
        widths = [width * min(2**i, 4) for i in range(n + 1)]
        enc = [nn.Conv2d(3, widths[0], 3, 1, 1), nn.SiLU()]
        enc += [_block(widths[i], widths[i + 1], True) for i in range(n)]
        self.encoder = nn.Sequential(*enc, nn.Conv2d(widths[-1], latent_channels, 3, 1, 1))
        dec = [nn.Conv2d(latent_channels, widths[-1], 3, 1, 1), nn.SiLU()]
        dec += [_block(widths[i + 1], widths[i], False) for i in reversed(range(n))]
        self.decoder = nn.Sequential(*dec, nn.Conv2d(widths[0], 3, 3, 1, 1))
        self.register_buffer("latent_mean", torch.zeros(latent_channels))
        self.register_buffer("latent_std", torch.ones(latent_channels))

    def _raw_encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.encoder(frames * 2 - 1)

    def _raw_decode(self, z: torch.Tensor) -> torch.Tensor:
        return (self.decoder(z) + 1) / 2

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        z = self._raw_encode(frames)
        return (z - self.latent_mean[:, None, None]) / self.latent_std[:, None, None]

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        z = latents * self.latent_std[:, None, None] + self.latent_mean[:, None, None]
        return self._raw_decode(z).clamp(0, 1)

    def reconstruction_loss(self, frames: torch.Tensor, edge_weight: float = 0.0) -> torch.Tensor:
        rec = self._raw_decode(self._raw_encode(frames))
        loss = F.mse_loss(rec, frames)
        if edge_weight > 0:
            for dim in (-1, -2):
                loss = loss + edge_weight * F.mse_loss(rec.diff(dim=dim), frames.diff(dim=dim))
        return loss

    @torch.no_grad()
    def fit_latent_stats(self, frames: torch.Tensor, batch: int = 256) -> None:
        z = torch.cat(
            [self._raw_encode(frames[s : s + batch]) for s in range(0, len(frames), batch)]
        )
        self.latent_mean.copy_(z.mean((0, 2, 3)))
        self.latent_std.copy_(z.std((0, 2, 3)).clamp_min(1e-4))


class PretrainedAutoencoder(nn.Module):
    """diffusers AutoencoderKL loaded from a local folder (tokenize.pretrained_path)."""

    def __init__(self, path: str):
        super().__init__()
        from diffusers import AutoencoderKL

        if not Path(path, "config.json").is_file():
            raise FileNotFoundError(
                f"tokenize.pretrained_path: {path} has no config.json (a local diffusers "
                "AutoencoderKL folder is expected; nothing is downloaded)"
            )
        self.vae = AutoencoderKL.from_pretrained(path, local_files_only=True).eval()
        self.scale = float(getattr(self.vae.config, "scaling_factor", 1.0))

    @torch.no_grad()
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.vae.encode(frames * 2 - 1).latent_dist.mode() * self.scale

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return ((self.vae.decode(latents / self.scale).sample + 1) / 2).clamp(0, 1)


def frames_to_tensor(frames) -> torch.Tensor:
    """uint8 [..., H, W, 3] -> float [..., 3, H, W] in [0, 1]."""
    t = torch.as_tensor(frames)
    return t.movedim(-1, -3).float() / 255.0


def _frame_by_frame(fn, clips: torch.Tensor, batch: int) -> torch.Tensor:
    """fn over the frames of clips [N,T,...] in batches of frames -> [N,T,...fn's shape]."""
    N, T = clips.shape[:2]
    flat = clips.reshape(N * T, *clips.shape[2:])
    out = torch.cat([fn(flat[s : s + batch]) for s in range(0, len(flat), batch)])
    return out.view(N, T, *out.shape[1:])


@torch.no_grad()
def encode_clips(tokenizer, clips: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """float clips [N,T,3,H,W] -> latents [N,T,C,h,w]."""
    return _frame_by_frame(tokenizer.encode, clips, batch)


@torch.no_grad()
def decode_clips(tokenizer, latents: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """latents [N,T,C,h,w] -> frames [N,T,3,H,W] in [0, 1]."""
    return _frame_by_frame(tokenizer.decode, latents, batch)
