"""How the world model's gap to persistence closes with training: the video teacher trained on
the DAG's own shards, its rollout scored every `--eval-every` steps against hold-the-last-frame.

Reads a finished video run (`--results`, e.g. results/video: shards + tokenizer), builds the
teacher from a config file's `teacher` section (configs/video.yaml, or configs/video_gpu.yaml
on a GPU), trains it with the one shortcut-forcing window loss, and at each evaluation rolls out
the test clips (rollout section of the same config) and prints one line: step, wall seconds,
decoded PSNR of the first predicted frame and the mean over predicted frames, beside the hold
baseline, with standard errors over clips. The lines are also written to `--out` (CSV).

    python bench/bench_rollout_curve.py --results results/video --config configs/video.yaml \
        --steps 1200 --eval-every 200 [--device cuda]
"""

from __future__ import annotations

import argparse
import csv
import time

import torch
import yaml

from interdiff_core.data.splits import load_split
from interdiff_core.data.windows import AlternatingWindows, window_loss_fn
from interdiff_core.models.teacher import make_teacher
from interdiff_core.models.tokenizer import decode_clips
from interdiff_core.stages.rollout import rollout_runs, score_rollouts
from interdiff_core.stages.tokenize_video import load_tokenizer


def evaluate(model, data, cfg, decode, seed: int, k_max: int) -> dict[str, float]:
    """Roll out on the CPU (the sampler draws its noise there), then back to the model's device:
    the rollout stage's scores (the sampled rollout, and the point rollout, `point_` keys, if
    the config sets point_tau_ctx) plus each one's first predicted frame."""
    device = next(model.parameters()).device
    model.eval().to("cpu")
    with torch.no_grad():
        curves, out, _ = score_rollouts(model, data, rollout_runs(cfg, k_max), cfg, decode, seed)
    model.train().to(device)
    for prefix in ("", "point_"):
        if f"{prefix}pixel_psnr" in curves:
            out[f"first_{prefix}pixel_psnr"] = curves[f"{prefix}pixel_psnr"][0]
    out["first_pixel_psnr_hold"] = curves["pixel_psnr_hold"][0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results/video")
    ap.add_argument("--config", default="configs/video.yaml")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--n-clips", type=int, default=16)
    ap.add_argument("--split", default="test", help="clips to roll out (test, or train to see fit)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop training after this long (then a last evaluation)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = yaml.safe_load(open(args.config))
    tcfg, rcfg = cfg["teacher"], cfg["rollout"]
    train = load_split(f"{args.results}/shards/train")
    test = load_split(f"{args.results}/shards/{args.split}")
    test = test.subset(torch.arange(min(args.n_clips, len(test))))
    tokenizer = load_tokenizer(f"{args.results}/models/tokenizer.safetensors", cfg["tokenize"])
    decode = lambda lat: decode_clips(tokenizer, lat)  # noqa: E731
    model = make_teacher(tcfg, train.cond.shape[1], train.T, train.D, train.latent_shape)
    model.to(args.device).train()
    windows = AlternatingWindows(train.x, train.cond, tcfg["windows"], args.seed)
    loss_fn = window_loss_fn(windows, tcfg["k_max"], per_frame=tcfg["diffusion_forcing"],
                             step_sampling=tcfg.get("step_sampling", "uniform"))  # fmt: skip
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg["lr"], weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    rows, start = [], time.time()
    print(f"teacher {tcfg['model']}, {sum(p.numel() for p in model.parameters())} parameters; "
          f"rollout {rcfg['steps']} steps, tau_ctx {rcfg['tau_ctx']}, {len(test)} {args.split} "
          f"clips, device {args.device}", flush=True)  # fmt: skip
    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
    for step in range(args.steps + 1):
        out_of_time = args.max_seconds is not None and time.time() - start > args.max_seconds
        if step % args.eval_every == 0 or step == args.steps or out_of_time:
            r = evaluate(model, test, rcfg, decode, args.seed, tcfg["k_max"])
            r.update(step=step, seconds=round(time.time() - start, 1))
            rows.append(r)
            print(f"step {step:6d} {r['seconds']:7.1f}s  first {r['first_pixel_psnr']:.2f} dB "
                  f"(hold {r['first_pixel_psnr_hold']:.2f})  mean {r['mean_pixel_psnr']:.2f} "
                  f"± {r['se_pixel_psnr']:.2f} (hold {r['mean_pixel_psnr_hold']:.2f} ± "
                  f"{r['se_pixel_psnr_hold']:.2f})", end="", flush=True)  # fmt: skip
            if "mean_point_pixel_psnr" in r:
                print(f"  point: first {r['first_point_pixel_psnr']:.2f} mean "
                      f"{r['mean_point_pixel_psnr']:.2f}, minus hold "
                      f"{r['mean_point_minus_hold']:+.2f} ± {r['se_point_minus_hold']:.2f}",
                      end="")  # fmt: skip
            print(flush=True)
        if step == args.steps or out_of_time:
            break
        lr_scale = min(1.0, (step + 1) / 50)  # the training loop's warm-up
        for group in opt.param_groups:
            group["lr"] = tcfg["lr"] * lr_scale
        loss = loss_fn(model, gen, step)  # constant lr after warm-up (no cosine decay here)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
