"""metrics (video): one table, a row per split, method and step count (val: where settings are read
off; test: reported once). Latent MSE and L1 against the ground-truth latents; where the clips
came from frames, decoded PSNR and SSIM against the split's original frames (so the tokenizer's
own error counts, as a viewer would see it), with its standard error over clips.
`psnr_vs_finest`: each teacher sample's decoded PSNR against the teacher's sample with the most
steps, drawn from the same starting noise (the sample stage reseeds every step count alike): how
far a shortcut lands from the path it shortcuts, a distance a model predicting the mean could
not fake by scoring well against the truth (the rollout's shortcut check adds the spread between
samples from different noise). `psnr_minus_hold`: the paired per-clip difference to holding the
first frame (the baseline the conditioning alone gives), with its standard error over clips."""

from __future__ import annotations

import logging

import torch

from interdiff_core.data.video_dataset import VideoSplit
from interdiff_core.io import load_tensors
from interdiff_core.metrics.stats import mean_se
from interdiff_core.metrics.video import psnr, ssim
from interdiff_core.models.tokenizer import decode_clips, frames_to_tensor
from interdiff_core.stages.metrics import write_tables
from interdiff_core.stages.tokenize_video import load_tokenizer

log = logging.getLogger(__name__)
HOLD = VideoSplit.baseline  # "hold_first_frame"
COLUMNS = [
    "split", "method", "steps", "latent_mse", "latent_l1", "psnr", "psnr_se", "psnr_minus_hold",
    "psnr_minus_hold_se", "ssim", "psnr_vs_finest", "nfe", "tokens",
]  # fmt: skip


def as_latents(flat: torch.Tensor, latent_shape) -> torch.Tensor:
    """[N, T, C*h*w] -> [N, T, C, h, w]."""
    return flat.view(*flat.shape[:2], *latent_shape)


@torch.no_grad()
def metrics_video(
    samples: dict[str, str], out_csv, timing_csv, raw_path=None, tokenizer_path=None,
    tokenize_cfg=None,
):  # fmt: skip
    """samples: split -> sampled clips of that split (val, test)."""
    raw = load_tensors(raw_path)[0] if raw_path is not None else None
    tokenizer = load_tokenizer(tokenizer_path, tokenize_cfg) if raw is not None else None
    rows, meta = [], {}
    for split, path in samples.items():
        t, meta = load_tensors(path)
        frames = None
        if raw is not None:  # the sample stage takes a split's first clips, in order
            frames = frames_to_tensor(raw[f"{split}.frames"][: len(t["gt"])])
        rows += split_rows(split, t, meta, frames, tokenizer)
    return write_tables(rows, meta, COLUMNS, out_csv, timing_csv)


def split_rows(split: str, t: dict, meta: dict, frames, tokenizer) -> list[dict]:
    gt, shape = t["gt"], meta["latent_shape"]
    rows, per_clips = [], []
    finest = max((r["steps"] for r in meta["rows"] if r["method"] == "teacher"), default=None)
    decode = None
    if tokenizer is not None:

        def decode(flat):
            return decode_clips(tokenizer, as_latents(flat, shape))

    reference = None
    if finest is not None:
        ref = t[f"teacher@{finest}"]
        reference = decode(ref) if decode is not None else ref
    for row in meta["rows"]:
        pred = t[f"{row['method']}@{row['steps']}"]
        out = {"split": split, **row, "latent_mse": ((pred - gt) ** 2).mean().item()}
        out["latent_l1"] = (pred - gt).abs().mean().item()
        if decode is not None:
            decoded = decode(pred)
            per_clip = psnr(decoded, frames).mean(1)
            out["psnr"], out["psnr_se"] = mean_se(per_clip)
            per_clips.append(per_clip)
            out["ssim"] = ssim(decoded, frames).mean().item()
            if row["method"] == "teacher":
                out["psnr_vs_finest"] = psnr(decoded, reference).mean().item()
        elif row["method"] == "teacher" and reference is not None:
            as_maps = as_latents(pred, shape), as_latents(reference, shape)
            out["psnr_vs_finest"] = psnr(*as_maps, float(gt.max() - gt.min())).mean().item()
        rows.append(out)
    hold = [pc for r, pc in zip(rows, per_clips) if r["method"] == HOLD]
    for r, pc in zip(rows, per_clips):
        if hold and r["method"] != HOLD:
            r["psnr_minus_hold"], r["psnr_minus_hold_se"] = mean_se(pc - hold[0])
    return rows
