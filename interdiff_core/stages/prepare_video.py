"""prepare_data (video): RGB clips and their prompts for each split, from the embedded
generator or the user's video files. Frames stay uint8; tokenizing is the next stage's job.
Splits are drawn by source (photograph and sprite colour, or file): the metadata lists each
clip's source, so a test can check that none is in two splits."""

from __future__ import annotations

import logging

import torch

from interdiff_core.data.video_sources import SPLITS, embedded_clips, file_clips, split_by_source
from interdiff_core.io import save_tensors
from interdiff_core.runtime import stage_meta

log = logging.getLogger(__name__)


def prepare_video(cfg: dict, seed: int, out_path) -> None:
    video, T = cfg["video"], cfg["horizon"]
    counts = {s: cfg[f"n_{s}"] for s in SPLITS}
    if video["source"] == "embedded":
        data = {
            s: embedded_clips(
                counts[s],
                T,
                video["frame_size"],
                seed * 1000 + i,
                s,
                video["motion_scale"],
                video["photo_side"],
            )
            for i, s in enumerate(SPLITS)
        }
    elif video["source"] == "files":
        clips, texts, sources = file_clips(video["files"], T, video["fps"], video["frame_size"])
        picks = split_by_source(sources, counts, seed, "data.video.files")
        data = {
            s: (clips[idx], [texts[i] for i in idx], [sources[i] for i in idx])
            for s, idx in picks.items()
        }
    else:
        raise ValueError(f"data.video.source: {video['source']!r} has no frames to prepare")
    tensors, prompts, sources = {}, {}, {}
    for split, (clips, texts, srcs) in data.items():
        tensors[f"{split}.frames"] = torch.from_numpy(clips)
        prompts[split], sources[split] = texts, srcs
        log.info("%s: %d clips %s, e.g. %r", split, len(clips), tuple(clips.shape[1:]), texts[0])
    save_tensors(
        out_path,
        tensors,
        stage_meta("prepare_video", cfg, prompts=prompts, sources=sources, seed=seed),
    )
