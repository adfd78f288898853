"""train_interpolator: the latent flow interpolator, on (keyframe, keyframe, in-between) triplets
drawn from the training clips, with the one training loop."""

from __future__ import annotations

import torch

from interdiff_core.data.splits import load_split
from interdiff_core.models.interpolator import (
    FlowInterpolator,
    draw_triplets,
    interpolation_loss,
)
from interdiff_core.runtime import stage_meta
from interdiff_core.train.loop import on_model_device, train


def video_latents(shard_dir, on_bad_sample: str = "error") -> torch.Tensor:
    """[N, T, C, h, w] latents of a tokenized video split (an error for any other domain)."""
    data = load_split(shard_dir, on_bad_sample=on_bad_sample)
    if getattr(data, "domain", None) != "video":
        raise ValueError(f"{shard_dir}: interpolators need video latents (shards with 'latent')")
    return data.latent


def interpolator_batch(x: torch.Tensor, B: int, max_gap: int, gen: torch.Generator):
    """(x0, x1, target, alpha, gap) for B random triplets of clips x [N, T, C, h, w]."""
    b = torch.randint(len(x), (B,), generator=gen)
    start, target, gap = draw_triplets(x.shape[1], B, max_gap, gen)
    alpha = (target - start).float() / gap.float()
    return x[b, start], x[b, start + gap], x[b, target], alpha, gap


def train_interpolator(
    train_dir, out_path, ckpt_dir, cfg: dict, seed: int, on_bad_sample="error", device="cpu"
):
    """cfg: model (FlowInterpolator kwargs), max_gap, batch_size, unc_weight, steps, lr,
    checkpoint_every."""
    x = video_latents(train_dir, on_bad_sample)
    max_gap = min(cfg["max_gap"], x.shape[1] - 1)
    model = FlowInterpolator(x.shape[2], **cfg["model"])

    def loss_fn(model, gen):
        batch = interpolator_batch(x, cfg["batch_size"], max_gap, gen)
        x0, x1, target, alpha, gap = on_model_device(model, *batch)
        pred, unc = model.pair(x0, x1, alpha, gap)
        return interpolation_loss(pred, unc, target, cfg["unc_weight"])

    meta = stage_meta("train_interpolator", cfg, model, T=x.shape[1], max_gap=max_gap)
    return train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
