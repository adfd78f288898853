"""anchor_precompute: phase-1 samples on the training set at the selector's level-0 keyframes,
cached so phase-2 trains on the anchors it will really be given."""

from __future__ import annotations

import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model, save_tensors
from interdiff_core.models.selector import load_selector, select_nested
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.runtime import stage_meta
from interdiff_core.sample.two_phase import sample_keyframes


@torch.no_grad()
def anchor_precompute(
    train_dir,
    selector_path,
    phase1_path,
    out_path,
    cfg: dict,
    levels: list[int],
    seed: int,
    on_bad_sample: str = "error",
) -> None:
    data = load_split(train_dir, on_bad_sample=on_bad_sample)
    selector = load_selector(selector_path)
    phase1, _ = load_model(SequenceTransformer, phase1_path)
    gen = torch.Generator().manual_seed(seed)
    idx = select_nested(selector, data.cond, levels, data.T)[0]
    anchors = torch.cat(
        [
            sample_keyframes(
                phase1, data.cond[s : s + 256], idx[s : s + 256], cfg["anchor_steps"], gen
            )
            for s in range(0, len(data), 256)
        ]
    )
    save_tensors(
        out_path,
        {"idx": idx, "anchors": anchors},
        stage_meta("anchor_precompute", cfg, levels=levels),
    )
