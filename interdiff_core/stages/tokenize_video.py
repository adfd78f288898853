"""tokenize (video): frames -> latents [T, C, h, w] with the frame tokenizer (the one trained in
the DAG, or a diffusers AutoencoderKL from tokenize.pretrained_path), prompts -> hashed token
embeddings, both written per clip to webdataset shards; reconstruction PSNR per split to a CSV.
The Wan2.1 source skips the tokenizer: its shards already hold latents and embeddings."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from interdiff_core.data.shards import write_shards
from interdiff_core.data.text import embed_prompts
from interdiff_core.data.video_sources import read_wan_shards, split_by_source
from interdiff_core.io import atomic_path, load_model, load_tensors
from interdiff_core.metrics.video import psnr
from interdiff_core.models.tokenizer import (
    FrameAutoencoder,
    PretrainedAutoencoder,
    decode_clips,
    encode_clips,
    frames_to_tensor,
)

log = logging.getLogger(__name__)


def load_tokenizer(tokenizer_path, cfg: dict):
    if cfg.get("pretrained_path"):
        return PretrainedAutoencoder(cfg["pretrained_path"])
    return load_model(FrameAutoencoder, tokenizer_path)[0]


def _write(out_dir, latent: torch.Tensor, embed: np.ndarray, prompts: list[str], shard_size):
    arrays = {
        "latent": latent.numpy().astype(np.float32),
        "embed": embed,
        "prompt": np.array(prompts),
    }
    return write_shards(out_dir, arrays, shard_size)


@torch.no_grad()
def tokenize_video(raw_path, tokenizer_path, out_dirs: dict[str, str], cfg: dict, table_path):
    raw, meta = load_tensors(raw_path)
    tokenizer = load_tokenizer(tokenizer_path, cfg)
    text = cfg["text"]
    rows = []
    for split, out_dir in out_dirs.items():
        clips = frames_to_tensor(raw[f"{split}.frames"])  # [N,T,3,H,W]
        prompts = meta["prompts"][split]
        latent = encode_clips(tokenizer, clips)
        recon = decode_clips(tokenizer, latent)
        per_clip = psnr(recon, clips).mean(1)  # mean of per-frame PSNR
        rows.append(
            {
                "split": split,
                "clips": len(clips),
                "psnr": per_clip.mean().item(),
                "psnr_min": per_clip.min().item(),
                "mse": ((recon - clips) ** 2).mean().item(),
                "latent_shape": "x".join(map(str, latent.shape[2:])),
            }
        )
        embed = embed_prompts(prompts, text["dim"], text["max_tokens"])
        paths = _write(out_dir, latent, embed, prompts, cfg["shard_size"])
        log.info(
            "%s: %d clips -> latents %s in %d shards, reconstruction PSNR %.2f dB",
            *(split, len(clips), tuple(latent.shape[1:]), len(paths), rows[-1]["psnr"]),
        )
    with atomic_path(table_path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.4f")


def _fit_tokens(embed: torch.Tensor, max_tokens: int) -> np.ndarray:
    out = np.zeros((max_tokens, embed.shape[1]), np.float32)
    n = min(max_tokens, embed.shape[0])
    out[:n] = embed[:n].numpy()
    return out


def tokenize_wan(wan_dir, out_dirs: dict[str, str], cfg: dict, data_cfg: dict, seed: int):
    """Wan2.1 shards -> our shards: the first data.horizon frames of each latent, the text
    embedding padded or cut to tokenize.text.max_tokens; splits by prompt (every sample of one
    prompt in one split), prompts in a seeded order."""
    samples = read_wan_shards(wan_dir)
    T = data_cfg["horizon"]
    short = [s["key"] for s in samples if s["latent"].shape[0] < T]
    if short:
        raise ValueError(f"{wan_dir}: keys {short[:5]} have fewer than data.horizon = {T} frames")
    counts = {"train": 0, "val": data_cfg["n_val"], "test": data_cfg["n_test"]}
    prompts = [s["prompt"] for s in samples]
    picks = split_by_source(prompts, counts, seed, f"data.video.wan_dir {wan_dir}")
    for split, out_dir in out_dirs.items():
        chosen = [samples[i] for i in picks[split]]
        latent = torch.stack([s["latent"][:T] for s in chosen])
        embed = np.stack([_fit_tokens(s["embed"], cfg["text"]["max_tokens"]) for s in chosen])
        paths = _write(out_dir, latent, embed, [s["prompt"] for s in chosen], cfg["shard_size"])
        log.info(
            "%s: %d Wan clips %s in %d shards",
            split,
            len(chosen),
            tuple(latent.shape[1:]),
            len(paths),
        )
