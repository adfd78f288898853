"""train_teacher: the full-sequence flow-matching denoiser (diffusion + shortcut forcing)."""

from __future__ import annotations

import torch

from interdiff_core.data.splits import load_split
from interdiff_core.data.windows import AlternatingWindows, window_loss_fn
from interdiff_core.diffusion.flow import shortcut_loss
from interdiff_core.models.teacher import backbone_name, make_teacher
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import teacher_fn
from interdiff_core.train.loop import on_model_device, train


def train_teacher(
    train_dir, out_path, ckpt_dir, cfg: dict, seed: int, on_bad_sample="error", device="cpu"
):
    """With cfg["windows"] (video), batches are windows of alternating short/long lengths
    (positions = frame indices in the clip, as in the rollout); else whole sequences."""
    data = load_split(train_dir, on_bad_sample=on_bad_sample)
    cond = data.cond
    latent_shape = getattr(data, "latent_shape", None)  # video: [C, h, w] per frame
    torch.manual_seed(seed)  # initial weights follow the training seed
    model = make_teacher(cfg, cond.shape[1], data.T, data.D, latent_shape)

    def loss_fn(model, gen):
        b = torch.randint(len(data), (cfg["batch_size"],), generator=gen)
        x, c = on_model_device(model, data.x[b], cond[b])
        f = teacher_fn(model, c, data.T)
        return shortcut_loss(f, x, cfg["k_max"], gen, cfg["diffusion_forcing"], sampling)

    sampling = cfg.get("step_sampling", "uniform")
    if cfg.get("windows"):
        windows = AlternatingWindows(data.x, cond, cfg["windows"], seed)
        loss_fn = window_loss_fn(windows, cfg["k_max"], cfg["diffusion_forcing"], sampling)

    meta = stage_meta(
        "train_teacher",
        cfg,
        model,
        backbone=backbone_name(model),
        T=data.T,
        skipped_samples=data.skipped,
    )
    train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
