"""plots (video): quality against compute, a strip of decoded test frames (ground truth /
two-phase / teacher / holding the first frame, the same clips), keyframe placement, loss
curves, and the rollout PSNR curves."""

from __future__ import annotations

import pandas as pd
import torch

from interdiff_core import plots
from interdiff_core.io import load_tensors, read_json
from interdiff_core.models.tokenizer import decode_clips
from interdiff_core.stages.metrics_video import as_latents
from interdiff_core.stages.plots import keyframes_and_losses
from interdiff_core.stages.tokenize_video import load_tokenizer


def fixed_rows(table: pd.DataFrame) -> tuple[str, str]:
    """Two-phase at its fewest phase-1 steps and the teacher at its most: fixed by the config
    (sample.phase1_steps, sample.teacher_steps), never picked by a test score."""
    two_phase = table[table.method == "two_phase"].steps.min()
    teacher = table[table.method == "teacher"].steps.max()
    return f"two_phase@{int(two_phase)}", f"teacher@{int(teacher)}"


@torch.no_grad()
def make_video_plots(
    samples_path,
    metrics_csv,
    labels_path,
    model_paths: dict[str, str],
    out: dict[str, str],
    n_examples: int,
    tokenizer_path=None,
    tokenize_cfg=None,
    rollout_json=None,
) -> None:
    samples, meta = load_tensors(samples_path)
    table = pd.read_csv(metrics_csv)
    table = table[table.split == "test"]  # the figures show the test clips, settings fixed
    decoded = table.psnr.notna().all()
    plots.frontier(table, out["frontier"], cols=["latent_mse", "psnr" if decoded else "latent_l1"])
    two_phase, teacher = fixed_rows(table)
    n = min(n_examples, samples["gt"].shape[0])
    rows = [("ground truth", "gt"), (two_phase, two_phase), (teacher, teacher)]
    hold = next((f"{m}@0" for m in table.method if str(m).startswith("hold")), None)
    if hold is not None and hold in samples:  # the baseline the models must beat
        rows.append((hold.removesuffix("@0").replace("_", " "), hold))
    strips = {name: samples[key][:n] for name, key in rows}
    if tokenizer_path is not None or (tokenize_cfg or {}).get("pretrained_path"):
        tokenizer = load_tokenizer(tokenizer_path, tokenize_cfg)
        shape = meta["latent_shape"]
        images = {k: decode_clips(tokenizer, as_latents(v, shape)) for k, v in strips.items()}
    else:  # Wan latents: no decoder here; show the first latent channel
        images = {k: as_latents(v, meta["latent_shape"])[:, :, :1] for k, v in strips.items()}
    plots.frame_strips(images, samples["keyframes"][:n], out["frames"])
    keyframes_and_losses(samples, meta, labels_path, model_paths, out)
    if rollout_json is not None:
        plots.rollout_curves(read_json(rollout_json), out["rollout"])
