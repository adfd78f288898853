"""train_phase2: the refiner over nested mask levels, trained as it samples. Per batch a mask
policy and a level s; level 0's keyframes are the ground truth (replaced by cached phase-1
anchors with probability anchor_prob), the finer levels' keyframes come from the refiner's own
previous-level predictions (`phase2_loss` unrolls `refine`, the sampling function, coarse to
fine); the gaps are filled by `phase2.interpolator` (LERP, or the trained flow interpolator on
video latents: the same `KeyframeInterpolation` sampling uses); the missing frames get each
level's noise_sigma; the target is the clean sequence."""

from __future__ import annotations

import logging

import torch

from interdiff_core.corruption.keyframes import gather_frames, with_anchors
from interdiff_core.data.splits import load_split
from interdiff_core.io import load_tensors, warm_start
from interdiff_core.models.interpolator import load_interpolation
from interdiff_core.models.selector import load_selector, select_nested
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import phase2_loss
from interdiff_core.stages.policies import fixed_schedule, mix_choice, policy_indices
from interdiff_core.train.loop import on_model_device, train

log = logging.getLogger(__name__)


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
    init_path=None,
    interpolator_path=None,
) -> None:
    data = load_split(train_dir, on_bad_sample=on_bad_sample)
    interp = load_interpolation(
        cfg.get("interpolator", "linear"), interpolator_path, getattr(data, "latent_shape", None)
    )
    log.info("phase-2 interpolation: %s %s", interp.kind, interpolator_path or "")
    labels, _ = load_tensors(labels_path)
    cache, _ = load_tensors(
        anchors_path, {"idx": (len(data), levels[0]), "anchors": (len(data), levels[0], data.D)}
    )
    # the selector's nested sets; their level 0 is where the anchors were sampled
    selector = load_selector(selector_path)
    selected = select_nested(selector, data.cond, levels, data.T)
    fixed = fixed_schedule(cfg["mask_mix"], data.x, levels)
    torch.manual_seed(seed)  # initial weights follow the training seed
    model = SequenceTransformer(
        data.D, data.cond.shape[1], max_len=data.T, n_levels=len(levels), **cfg["model"]
    )
    if init_path is not None:  # phase2.init: teacher
        warm_start(model, init_path, "phase2.init")
    sigmas = cfg["noise_sigma"]

    def loss_fn(model, gen):
        b = torch.randint(len(data), (cfg["batch_size"],), generator=gen)
        s = int(torch.randint(len(levels), (1,), generator=gen))
        policy = mix_choice(cfg["mask_mix"], gen)
        idx = policy_indices(policy, b, levels, data.T, labels, selected, gen, fixed)[: s + 1]
        x = data.x[b]
        source = x
        if policy == "selector":
            source = with_anchors(x, cache["anchors"][b], cache["idx"][b], cfg["anchor_prob"], gen)
        x, keys0, c, *idx = on_model_device(
            model, x, gather_frames(source, idx[0]), data.cond[b], *idx
        )
        return phase2_loss(model, x, keys0, idx, s, c, sigmas, gen, interp)

    meta = stage_meta("train_phase2", cfg, model, levels=levels)
    train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
