"""train_dphi: fit D_phi to the segment costs in the cost's own scale (`dphi_loss`)."""

from __future__ import annotations

import torch

from interdiff_core.io import load_tensors
from interdiff_core.models.dphi import SegmentCostPredictor, dphi_loss
from interdiff_core.runtime import stage_meta
from interdiff_core.train.loop import on_model_device, train


def train_dphi(targets_path, out_path, ckpt_dir, cfg: dict, seed: int, device="cpu") -> None:
    t, meta_in = load_tensors(
        targets_path, {"cond": (None, None), "seg": (None, None, 2), "cost": (None, None)}
    )
    cond, seg, cost = t["cond"], t["seg"], t["cost"]
    scale = float(cost.mean())
    torch.manual_seed(seed)  # initial weights follow the training seed
    model = SegmentCostPredictor(cond.shape[1], meta_in["T"], scale=scale, **cfg["model"])
    model.init_from_targets(cond, seg, cost)

    def loss_fn(model, gen):
        b = torch.randint(len(cond), (cfg["batch_size"],), generator=gen)
        c, s, target = on_model_device(model, cond[b], seg[b], cost[b])
        return dphi_loss(model(c, s), target, cfg["loss"], scale)

    meta = stage_meta("train_dphi", cfg, model)
    train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
