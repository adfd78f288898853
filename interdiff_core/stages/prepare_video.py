"""prepare_data (video): RGB clips and their prompts for each split, from the embedded
generator or the user's video files. Frames stay uint8; tokenizing is the next stage's job."""

from __future__ import annotations

import logging

import numpy as np
import torch

from interdiff_core.data.video_sources import embedded_clips, file_clips
from interdiff_core.io import save_tensors
from interdiff_core.runtime import stage_meta

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


def split_clips(clips: np.ndarray, texts: list[str], counts: dict[str, int], seed: int):
    """Shuffle file clips with the seed; val and test take their counts, train the rest."""
    need = counts["val"] + counts["test"] + 1
    if len(clips) < need:
        raise ValueError(
            f"data.video.files: {len(clips)} clips, need at least {need} "
            "(data.n_val + data.n_test + 1 for training)"
        )
    order = np.random.default_rng(seed).permutation(len(clips))
    bounds = {"val": (0, counts["val"]), "test": (counts["val"], counts["val"] + counts["test"])}
    bounds["train"] = (bounds["test"][1], len(clips))
    return {s: (clips[order[a:b]], [texts[i] for i in order[a:b]]) for s, (a, b) in bounds.items()}


def prepare_video(cfg: dict, seed: int, out_path) -> None:
    video, T = cfg["video"], cfg["horizon"]
    counts = {s: cfg[f"n_{s}"] for s in SPLITS}
    if video["source"] == "embedded":
        data = {
            s: embedded_clips(counts[s], T, video["frame_size"], seed * 1000 + i)
            for i, s in enumerate(SPLITS)
        }
    elif video["source"] == "files":
        clips, texts = file_clips(video["files"], T, video["fps"], video["frame_size"])
        data = split_clips(clips, texts, counts, seed)
    else:
        raise ValueError(f"data.video.source: {video['source']!r} has no frames to prepare")
    tensors, prompts = {}, {}
    for split, (clips, texts) in data.items():
        tensors[f"{split}.frames"] = torch.from_numpy(clips)
        prompts[split] = texts
        log.info("%s: %d clips %s, e.g. %r", split, len(clips), tuple(clips.shape[1:]), texts[0])
    save_tensors(out_path, tensors, stage_meta("prepare_video", cfg, prompts=prompts, seed=seed))
