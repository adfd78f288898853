"""The latent flow interpolator against LERP per keyframe-gap bucket, side by side in one run.

Trains (briefly, on CPU) the flow interpolator on drifting-blob latents (the clips of
bench_shortcut.py) and scores both on held-out clips with keyframes every s frames, through the
same sequence interface and bucket table the eval_interpolator stage writes. With --shards and
--interpolator (and --tokenizer for decoded PSNR/SSIM) it scores a pipeline's artifacts instead.

    python bench/bench_interpolator.py [--train-steps 800]
    python bench/bench_interpolator.py --shards results/video/shards/test \
        --interpolator results/video/models/interpolator.safetensors \
        --tokenizer results/video/models/tokenizer.safetensors
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from bench_shortcut import moving_blobs

from interdiff_core.io import load_model
from interdiff_core.models.interpolator import (
    FlowInterpolator,
    Lerp,
    draw_triplets,
    interpolation_loss,
)
from interdiff_core.models.tokenizer import FrameAutoencoder, decode_clips
from interdiff_core.stages.eval_interpolator import evaluate_by_bucket
from interdiff_core.stages.train_interpolator import interpolator_batch, video_latents
from interdiff_core.train.loop import train


def train_flow(x: torch.Tensor, steps: int, seed: int, out: Path) -> FlowInterpolator:
    model = FlowInterpolator(x.shape[2], width=32, depth=3, residual=True, residual_width=32)
    max_gap = x.shape[1] - 1
    draw_triplets(x.shape[1], 1, max_gap, torch.Generator())  # validates max_gap

    def loss_fn(model, gen):
        x0, x1, target, alpha, gap = interpolator_batch(x, 32, max_gap, gen)
        pred, unc = model.pair(x0, x1, alpha, gap)
        return interpolation_loss(pred, unc, target, 0.1)

    cfg = dict(steps=steps, lr=2e-3, checkpoint_every=10**9)
    meta = {"stage": "bench_interpolator", "model_config": model.config}
    train(model, loss_fn, cfg, meta, seed, out / "ckpt", out / "i.st")
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-steps", type=int, default=800)
    ap.add_argument("--clips", type=int, default=512)
    ap.add_argument("--test-clips", type=int, default=64)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--spacings", type=int, nargs="+", default=[2, 3, 5, 8, 12, 15])
    ap.add_argument("--shards", help="a tokenized video split (instead of synthetic clips)")
    ap.add_argument("--interpolator", help="a trained interpolator checkpoint")
    ap.add_argument("--tokenizer", help="a FrameAutoencoder checkpoint: decoded PSNR/SSIM")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    decode = None
    t0 = time.perf_counter()
    if args.shards:
        if not args.interpolator:
            ap.error("--shards needs --interpolator")
        x_test = video_latents(args.shards)[: args.test_clips]
        flow, _ = load_model(FlowInterpolator, args.interpolator)
        how = f"{args.interpolator} on {args.shards}"
        if args.tokenizer:
            tok, _ = load_model(FrameAutoencoder, args.tokenizer)

            def decode(lat):
                return decode_clips(tok, lat)
    else:
        x, _ = moving_blobs(args.clips + args.test_clips, args.frames, H=12, W=12, seed=args.seed)
        x_test = x[args.clips :]
        with tempfile.TemporaryDirectory() as tmp:
            flow = train_flow(x[: args.clips], args.train_steps, args.seed, Path(tmp))
        how = (f"trained {args.train_steps} steps in {time.perf_counter() - t0:.0f} s on "
               f"{args.clips} drifting-blob clips")  # fmt: skip
    print(f"flow interpolator: {how}; {len(x_test)} test clips {tuple(x_test.shape[1:])}, "
          f"keyframe spacings {args.spacings}, threads {args.threads}")  # fmt: skip
    with torch.no_grad():
        table = evaluate_by_bucket({"flow": flow, "lerp": Lerp()}, x_test, args.spacings, decode)
    metrics = [c for c in ("latent_l1", "pixel_psnr", "pixel_ssim") if c in table]
    wide = table.pivot(index="bucket", columns="method", values=metrics)
    wide = wide.reindex([b for b in ("2-3", "4-6", "7-10", "11+") if b in wide.index])
    side = pd.DataFrame(index=wide.index)
    for m in metrics:
        side[f"{m} flow"] = wide[(m, "flow")]
        side[f"{m} lerp"] = wide[(m, "lerp")]
    side["L1 flow/lerp"] = wide[("latent_l1", "flow")] / wide[("latent_l1", "lerp")]
    side["frames"] = table[table.method == "flow"].set_index("bucket").frames
    pd.set_option("display.width", 160)
    print(side.to_string(float_format=lambda v: f"{v:.4f}"))
    corr = table[table.method == "flow"].unc_error_corr.iloc[0]
    print(f"flow uncertainty vs latent error, Pearson r = {corr:.3f}")


if __name__ == "__main__":
    main()
