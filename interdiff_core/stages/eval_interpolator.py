"""eval_interpolator: the flow interpolator against LERP by keyframe-gap bucket, in latent L1
and (with a tokenizer) decoded PSNR and SSIM, through the same sequence interface phase-2 uses."""

from __future__ import annotations

import logging

import pandas as pd
import torch

from interdiff_core.io import atomic_path, load_model
from interdiff_core.metrics.stats import mean_se
from interdiff_core.metrics.video import GAP_BUCKETS, bucket_name, gap_bucket, l1, psnr, ssim
from interdiff_core.models.interpolator import FlowInterpolator, Interpolator, Lerp
from interdiff_core.models.tokenizer import decode_clips
from interdiff_core.stages.tokenize_video import load_tokenizer
from interdiff_core.stages.train_interpolator import video_latents

log = logging.getLogger(__name__)


def keyframes_every(gap: int, T: int) -> torch.Tensor:
    """Keyframe indices 0, gap, 2·gap, … and T - 1."""
    return torch.tensor(sorted(set(range(0, T - 1, gap)) | {T - 1}))


@torch.no_grad()
def evaluate_by_bucket(
    models: dict[str, Interpolator], x: torch.Tensor, spacings: list[int], decode=None
) -> pd.DataFrame:
    """Per method and gap bucket: mean latent L1 (and decoded PSNR / SSIM) over the frames
    inside keyframe segments, with keyframes every `s` frames for each s in `spacings`, each
    with its standard error over clips (`*_se`) and, for every method but LERP, its paired
    difference to LERP (`*_minus_lerp`, `*_minus_lerp_se`); also the Pearson correlation of
    predicted uncertainty with the latent error."""
    N, T = x.shape[:2]
    per: dict[tuple[str, str], dict[str, list]] = {}
    unc_err: dict[str, tuple[list, list]] = {m: ([], []) for m in models}
    gt_px = decode(x) if decode is not None else None
    for s in spacings:
        idx = keyframes_every(s, T)
        seg_gap = torch.zeros(T, dtype=torch.long)
        for i, j in zip(idx[:-1].tolist(), idx[1:].tolist()):
            seg_gap[i + 1 : j] = j - i
        inside = seg_gap >= 2
        for name, model in models.items():
            pred, unc = model.sequence(x[:, idx], idx.expand(N, -1), T)
            scores = {"latent_l1": l1(pred, x)}
            if decode is not None:
                px = decode(pred)
                scores.update(pixel_psnr=psnr(px, gt_px), pixel_ssim=ssim(px, gt_px))
            unc_err[name][0].append(unc[:, inside].flatten())
            unc_err[name][1].append((pred - x).abs().mean(2)[:, inside].flatten())
            for t in torch.nonzero(inside).flatten().tolist():
                row = per.setdefault((name, gap_bucket(int(seg_gap[t]))), {})
                for k, v in scores.items():
                    row.setdefault(k, []).append(v[:, t])
    rows = []
    for name in models:
        u, e = torch.cat(unc_err[name][0]), torch.cat(unc_err[name][1])
        corr = torch.corrcoef(torch.stack([u, e]))[0, 1].item() if u.std() > 0 else float("nan")
        for low, high in GAP_BUCKETS:
            b = bucket_name(low, high)
            if (name, b) not in per:
                continue
            # [N clips, frames in the bucket]: a clip's frames are not independent, so the
            # standard errors are over clips (of each clip's mean over its frames)
            vals = {k: torch.stack(v, dim=1) for k, v in per[(name, b)].items()}
            row = {"method": name, "bucket": b, "frames": vals["latent_l1"].numel()}
            for k, v in vals.items():
                row.update(_mean_se(k, v.mean(1)))
                if name != "lerp" and ("lerp", b) in per:  # paired with LERP, clip by clip
                    base = torch.stack(per[("lerp", b)][k], dim=1).mean(1)
                    row.update(_mean_se(f"{k}_minus_lerp", v.mean(1) - base))
            rows.append(dict(row, unc_error_corr=corr))
    return pd.DataFrame(rows)


def _mean_se(key: str, per_clip: torch.Tensor) -> dict[str, float]:
    mean, se = mean_se(per_clip)
    return {key: mean, f"{key}_se": se}


def eval_interpolator(
    split_dirs: dict, interp_path, tokenizer_path, out_csv, cfg: dict, tokenize_cfg: dict, seed: int
) -> pd.DataFrame:
    """One table per split (`split_dirs`: split -> shard dir, e.g. val and test; the val rows
    are there to choose the interpolator's settings on) with a `split` column.
    cfg: n_clips (per split), spacings (keyframe spacings to evaluate, e.g. [2, 3, 5, 8, 12])."""
    torch.manual_seed(seed)
    flow, _ = load_model(FlowInterpolator, interp_path)
    decode = None
    if tokenizer_path is not None or tokenize_cfg.get("pretrained_path"):
        tokenizer = load_tokenizer(tokenizer_path, tokenize_cfg)

        def decode(lat):
            return decode_clips(tokenizer, lat)

    tables = []
    for split, shard_dir in split_dirs.items():
        x = video_latents(shard_dir)[: cfg["n_clips"]]
        one = evaluate_by_bucket({"flow": flow, "lerp": Lerp()}, x, cfg["spacings"], decode)
        tables.append(one.assign(split=split)[["split", *one.columns]])
    table = pd.concat(tables, ignore_index=True)
    log.info("interpolators by gap bucket:\n%s", table.to_string(index=False))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    return table
