"""train_phase2: the refiner over nested mask levels. Per batch a mask policy and a level s;
keyframes of level s stay (level-0 ones replaced by cached phase-1 anchors with probability
anchor_prob), the rest is interpolation plus Gaussian noise; the target is the clean sequence."""

from __future__ import annotations

import torch

from interdiff_core.corruption.keyframes import gather_frames, with_anchors
from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model, load_tensors
from interdiff_core.models.selector import select_nested
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import refine_step
from interdiff_core.stages.policies import mix_choice, policy_indices
from interdiff_core.train.loop import on_model_device, train


def train_phase2(
    train_dir,
    labels_path,
    selector_path,
    anchors_path,
    out_path,
    ckpt_dir,
    cfg: dict,
    levels: list[int],
    seed: int,
    on_bad_sample: str = "error",
    device: str = "cpu",
) -> None:
    data = load_split(train_dir, on_bad_sample=on_bad_sample)
    labels, _ = load_tensors(labels_path)
    cache, _ = load_tensors(
        anchors_path, {"idx": (len(data), levels[0]), "anchors": (len(data), levels[0], data.D)}
    )
    # the selector's nested sets; their level 0 is where the anchors were sampled
    selector, _ = load_model(SequenceTransformer, selector_path)
    selected = select_nested(selector, data.cond, levels, data.T)
    model = SequenceTransformer(
        data.D, data.cond.shape[1], max_len=data.T, n_levels=len(levels), **cfg["model"]
    )
    sigmas = cfg["noise_sigma"]

    def loss_fn(model, gen):
        b = torch.randint(len(data), (cfg["batch_size"],), generator=gen)
        s = int(torch.randint(len(levels), (1,), generator=gen))
        policy = mix_choice(cfg["mask_mix"], gen)
        idx = policy_indices(policy, b, levels, data.T, labels, selected, gen)[s]
        x = data.x[b]
        source = x
        if policy == "selector":
            source = with_anchors(x, cache["anchors"][b], cache["idx"][b], cfg["anchor_prob"], gen)
        x, keys, idx, c = on_model_device(model, x, gather_frames(source, idx), idx, data.cond[b])
        pred = refine_step(model, keys, idx, s, c, data.T, sigmas[s], gen)
        return ((pred - x) ** 2).mean()

    meta = stage_meta("train_phase2", cfg, model, levels=levels)
    train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
