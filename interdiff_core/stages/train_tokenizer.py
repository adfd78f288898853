"""train_tokenizer: the frame autoencoder, trained on the training clips' frames with the one
training loop; its latents are then standardised on those frames."""

from __future__ import annotations

from pathlib import Path

import torch

from interdiff_core.io import load_model, load_tensors, save_checkpoint
from interdiff_core.models.tokenizer import FrameAutoencoder, frames_to_tensor
from interdiff_core.runtime import stage_meta
from interdiff_core.train.loop import on_model_device, train


def train_tokenizer(raw_path, out_path, ckpt_dir, cfg: dict, seed: int, device="cpu") -> None:
    raw, _ = load_tensors(raw_path, {"train.frames": (None, None, None, None, 3)})
    frames = frames_to_tensor(raw["train.frames"].flatten(0, 1))  # [N*T, 3, H, W]
    size = frames.shape[-1]
    if size % cfg["downsample"]:
        raise ValueError(
            f"tokenize.downsample {cfg['downsample']} does not divide frames of {size}"
        )
    torch.manual_seed(seed)  # initial weights follow the training seed
    model = FrameAutoencoder(cfg["latent_channels"], cfg["downsample"], cfg["width"])

    def loss_fn(model, gen):
        b = torch.randint(len(frames), (cfg["batch_size"],), generator=gen)
        (batch,) = on_model_device(model, frames[b])
        return model.reconstruction_loss(batch, cfg["edge_weight"])

    meta = stage_meta("train_tokenizer", cfg, model, frame_size=size)
    trained = Path(ckpt_dir) / "trained.safetensors"
    history = train(model, loss_fn, cfg, meta, seed, ckpt_dir, trained, device=device)
    model, _ = load_model(FrameAutoencoder, trained)
    model.fit_latent_stats(frames)
    save_checkpoint(
        out_path, model, dict(meta, step=cfg["steps"]), {"loss_history": torch.tensor(history)}
    )
