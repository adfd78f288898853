"""train_phase1: the keyframe denoiser — flow matching (with shortcut steps) on the K_0
keyframes only, at indices drawn per batch from a policy mix (dp / uniform / random / selector /
best_fixed)."""

from __future__ import annotations

import torch

from interdiff_core.corruption.keyframes import gather_frames
from interdiff_core.data.splits import load_split
from interdiff_core.diffusion.flow import shortcut_loss, step_levels
from interdiff_core.io import load_tensors, warm_start
from interdiff_core.models.selector import load_selector, select_nested
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import keyframe_fn
from interdiff_core.stages.policies import fixed_schedule, mix_choice, policy_indices
from interdiff_core.train.loop import on_model_device, train


def train_phase1(
    train_dir,
    labels_path,
    selector_path,
    out_path,
    ckpt_dir,
    cfg: dict,
    levels: list[int],
    seed: int,
    on_bad_sample: str = "error",
    device: str = "cpu",
    init_path=None,
) -> None:
    data = load_split(train_dir, on_bad_sample=on_bad_sample)
    labels, _ = load_tensors(labels_path)
    selector = load_selector(selector_path)
    selected = select_nested(selector, data.cond, levels, data.T)
    fixed = fixed_schedule(cfg["index_mix"], data.x, levels)
    torch.manual_seed(seed)  # initial weights follow the training seed
    model = SequenceTransformer(
        data.D,
        data.cond.shape[1],
        max_len=data.T,
        n_steps=len(step_levels(cfg["k_max"])),
        **cfg["model"],
    )
    if init_path is not None:  # phase1.init: teacher
        warm_start(model, init_path, "phase1.init")
    cond = data.cond
    sampling = cfg.get("step_sampling", "uniform")

    def loss_fn(model, gen):
        b = torch.randint(len(data), (cfg["batch_size"],), generator=gen)
        policy = mix_choice(cfg["index_mix"], gen)
        idx = policy_indices(policy, b, levels, data.T, labels, selected, gen, fixed)[0]
        keys, c, idx = on_model_device(model, gather_frames(data.x[b], idx), cond[b], idx)
        f = keyframe_fn(model, c, idx)
        return shortcut_loss(f, keys, cfg["k_max"], gen, cfg["diffusion_forcing"], sampling)

    meta = stage_meta("train_phase1", cfg, model, levels=levels)
    train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
