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


def interpolator_batch(
    x: torch.Tensor, B: int, max_gap: int, gen: torch.Generator, augment: bool = False
):
    """(x0, x1, target, alpha, gap) for B random triplets of clips x [N, T, C, h, w]. With
    `augment`, each triplet is played backwards with probability 1/2 (x0 and x1 swapped, alpha
    -> 1 - alpha: the same motion reversed, exact), mirrored left-right / up-down and, on a
    square latent grid, transposed, each with probability 1/2 (the grid's eight symmetries: new
    motions over the few training photos)."""
    b = torch.randint(len(x), (B,), generator=gen)
    start, target, gap = draw_triplets(x.shape[1], B, max_gap, gen)
    alpha = (target - start).float() / gap.float()
    x0, x1, mid = x[b, start], x[b, start + gap], x[b, target]
    if augment:
        back, flip_w, flip_h, swap = (torch.rand(4, B, generator=gen) < 0.5)[..., None, None, None]
        square = x.shape[-1] == x.shape[-2]
        x0, x1 = torch.where(back, x1, x0), torch.where(back, x0, x1)
        alpha = torch.where(back.flatten(), 1 - alpha, alpha)
        frames = []
        for f in (x0, x1, mid):
            f = torch.where(flip_w, f.flip(-1), f)
            f = torch.where(flip_h, f.flip(-2), f)
            frames.append(torch.where(swap, f.transpose(-1, -2), f) if square else f)
        x0, x1, mid = frames
    return x0, x1, mid, alpha, gap


def train_interpolator(
    train_dir, out_path, ckpt_dir, cfg: dict, seed: int, on_bad_sample="error", device="cpu"
):
    """cfg: model (FlowInterpolator kwargs), max_gap, batch_size, unc_weight, steps, lr,
    checkpoint_every, augment (time reversal, mirroring and transposition of the triplets)."""
    x = video_latents(train_dir, on_bad_sample)
    max_gap = min(cfg["max_gap"], x.shape[1] - 1)
    torch.manual_seed(seed)  # initial weights follow the training seed
    model = FlowInterpolator(x.shape[2], **cfg["model"])

    def loss_fn(model, gen):
        batch = interpolator_batch(x, cfg["batch_size"], max_gap, gen, cfg.get("augment", False))
        x0, x1, target, alpha, gap = on_model_device(model, *batch)
        pred, unc = model.pair(x0, x1, alpha, gap)
        return interpolation_loss(pred, unc, target, cfg["unc_weight"])

    meta = stage_meta("train_interpolator", cfg, model, T=x.shape[1], max_gap=max_gap)
    return train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
