"""rollout: the world-model teacher continues held-out clips frame by frame; per-frame PSNR
against the truth and against holding the last context frame, in latent and decoded space, with
standard errors over clips and the paired difference to holding; the point rollout beside it
(rollout.point_tau_ctx: each frame the teacher's E[frame | context], one call at its finest
step size, a prediction rather than a sample); and the shortcut check (rollout.shortcut_coarse_
steps, default rollout.steps, against rollout.shortcut_steps from the same noise, beside two fine
rollouts from different noise)."""

from __future__ import annotations

import logging

import torch

from interdiff_core.config import check_tau_ctx
from interdiff_core.data.splits import load_split
from interdiff_core.diffusion.rollout import (
    hold_last_frame,
    rollout,
    rollout_psnr,
    shortcut_check,
)
from interdiff_core.io import save_tensors, write_json
from interdiff_core.models.teacher import load_teacher
from interdiff_core.models.tokenizer import decode_clips
from interdiff_core.runtime import stage_meta
from interdiff_core.stages.tokenize_video import load_tokenizer

log = logging.getLogger(__name__)
ROLLOUT_FIELDS = ("n_clips", "context", "window", "steps", "tau_ctx", "n_strip")


def standard_error(v: torch.Tensor) -> float:
    """Standard error of the mean of per-clip values (0 for a single clip)."""
    return (v.std() / len(v) ** 0.5).item() if len(v) > 1 else 0.0


def teacher_window_fn(teacher, cond: torch.Tensor):
    """make_fn for `rollout`: the teacher over a window, positions = frame indices in the clip."""

    def make_fn(start: int, L: int):
        pos = torch.arange(start, start + L).expand(cond.shape[0], L)
        return lambda z, tau, step, rows=slice(None): teacher(
            z, pos[rows], tau, cond[rows], step=step
        )

    return make_fn


def load_video_clips(split_dir, n_clips: int):
    """The first n_clips clips of a tokenized video split (an error for any other domain)."""
    data = load_split(split_dir)
    if getattr(data, "domain", None) != "video":
        raise ValueError(f"{split_dir}: rollout needs video latents (shards with 'latent')")
    return data.subset(torch.arange(min(n_clips, len(data))))


def rollout_runs(cfg: dict, k_max: int) -> dict[str, tuple[int, float, bool]]:
    """{prefix: (steps, tau_ctx, point)}: the sampled rollout (prefix ""), and the point
    rollout at the teacher's finest step (prefix "point_") if rollout.point_tau_ctx is set."""
    runs = {"": (cfg["steps"], cfg["tau_ctx"], False)}
    if cfg.get("point_tau_ctx") is not None:
        tau = check_tau_ctx(cfg["point_tau_ctx"], k_max, "rollout.point_tau_ctx", "teacher.k_max")
        runs["point_"] = (k_max, tau, True)
    return runs


def score_rollouts(teacher, data, runs: dict, cfg: dict, decode, seed: int):
    """Each rollout in `runs` ({prefix: (steps, tau_ctx, point)}) of `data`'s clips, scored
    against the truth and holding the last frame: (per-frame curves, per-clip means and
    standard errors with the paired difference to holding, the rolled-out latents)."""
    curves, summary, preds = {}, {}, {}
    x = data.latent
    for prefix, (steps, tau_ctx, point) in runs.items():
        gen = torch.Generator().manual_seed(seed)
        preds[prefix] = rollout(
            teacher_window_fn(teacher, data.cond), x, cfg["context"], cfg["window"], steps,
            gen, tau_ctx, point=point,
        )  # fmt: skip
        c, per_clip = rollout_psnr(preds[prefix], x, cfg["context"], decode=decode, per_clip=True)
        space = "pixel" if decode is not None else "latent"
        per_clip["minus_hold"] = per_clip[f"{space}_psnr"] - per_clip[f"{space}_psnr_hold"]
        for k, v in per_clip.items():
            if prefix and "hold" in k and k != "minus_hold":
                continue  # the hold baseline is the same for both rollouts
            mean, se = v.mean().item(), standard_error(v)
            summary[f"mean_{prefix}{k}"], summary[f"se_{prefix}{k}"] = mean, se
            log.info("%s%s: %.3f ± %.3f dB", prefix, k, mean, se)
        curves.update({prefix + k: v for k, v in c.items() if not (prefix and "hold" in k)})
    return curves, summary, preds


@torch.no_grad()
def run_rollout(
    test_dir,
    teacher_path,
    tokenizer_path,
    out_json,
    out_tensors,
    cfg: dict,
    tokenize_cfg: dict,
    seed: int,
    val_dir=None,
) -> dict:
    """cfg: n_clips, context (frames given), window (frames the teacher sees), steps (K, a
    power of two <= the teacher's k_max), tau_ctx (context signal level), n_strip (clips
    whose decoded frames are saved for the report). With `val_dir`, the same scores on the
    val clips go under "val" in the summary (where rollout settings are chosen)."""
    missing = [k for k in ROLLOUT_FIELDS if k not in cfg]
    if missing:
        raise KeyError(f"rollout config: missing field(s) {missing}")
    data = load_video_clips(test_dir, cfg["n_clips"])
    n = len(data)
    teacher, _ = load_teacher(teacher_path)
    k_max = 2 ** (teacher.config["n_steps"] - 1)
    fine = cfg.get("shortcut_steps", 64)
    # the shortcut check's own coarse step count and context level, else the rollout's
    coarse_key = "shortcut_coarse_steps" if cfg.get("shortcut_coarse_steps") else "steps"
    ctx_key = "shortcut_tau_ctx" if cfg.get("shortcut_tau_ctx") else "tau_ctx"
    coarse, check_ctx = cfg[coarse_key], cfg[ctx_key]
    for key, steps in (("steps", cfg["steps"]), ("shortcut_steps", fine), (coarse_key, coarse)):
        if steps > k_max:
            raise ValueError(f"rollout.{key} = {steps} exceeds the teacher's k_max {k_max}")
    check_tau_ctx(cfg["tau_ctx"], cfg["steps"])
    check_tau_ctx(check_ctx, coarse, f"rollout.{ctx_key}", f"rollout.{coarse_key}")
    decode = None  # Wan-format latents come without a tokenizer: latent scores only
    if tokenizer_path is not None or tokenize_cfg.get("pretrained_path"):
        tokenizer = load_tokenizer(tokenizer_path, tokenize_cfg)

        def decode(lat):
            return decode_clips(tokenizer, lat)

    x = data.latent
    runs = rollout_runs(cfg, k_max)
    val = {}
    if val_dir is not None:
        log.info("val clips:")
        val_curves, val, _ = score_rollouts(
            teacher, load_video_clips(val_dir, cfg["n_clips"]), runs, cfg, decode, seed
        )
        val["curves"] = val_curves
        log.info("test clips:")
    curves, summary, preds = score_rollouts(teacher, data, runs, cfg, decode, seed)
    pred = preds[""]
    m = min(cfg.get("shortcut_clips", 8), n)
    check = {}
    if m > 0:
        make_fn = teacher_window_fn(teacher, data.cond[:m])
        check = shortcut_check(
            make_fn, x[:m], cfg["context"], cfg["window"], seed, check_ctx, coarse, fine,
            decode,
        )  # fmt: skip
        for k, v in check.items():
            log.info("shortcut check %s: %.2f dB", k, sum(v) / len(v))
    frames = list(range(cfg["context"], data.T))
    meta = stage_meta("rollout", cfg, n=n, frames=frames)
    shortcut = {"clips": m, "coarse": coarse, "fine": fine, "tau_ctx": check_ctx, "curves": check}
    shortcut.update({f"mean_{k}": sum(v) / len(v) for k, v in check.items()})
    out = {**meta, "curves": curves, **summary, "shortcut_check": shortcut}
    write_json(out_json, {**out, "val": val} if val else out)
    s = min(cfg["n_strip"], n)
    strip = {}
    if decode is not None:
        strip = {
            "gt": decode(x[:s]),
            "rollout": decode(pred[:s]),
            **({"point": decode(preds["point_"][:s])} if "point_" in preds else {}),
            "hold": decode(hold_last_frame(x[:s], cfg["context"])),
        }
    save_tensors(out_tensors, {"latent_gt": x, "latent_rollout": pred, **strip}, meta)
    return summary
