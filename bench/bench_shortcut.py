"""Shortcut sampling: 4 steps against 64 steps on the same world-model teacher, side by side.

Trains (briefly, on CPU) a small shortcut-forcing teacher on video-like latents — Gaussian blobs
drifting over a latent grid, conditioned on a description of their motion — with diffusion
forcing, alternating short/long windows and k_max = 64; or loads a teacher checkpoint. Then rolls
out held-out clips autoregressively from a few context frames (context noised to τ_ctx, on every
K's grid) with K steps per frame, and prints, for each K, the wall time, the latent PSNR against
the truth and against holding the last context frame, and the speed ratio and PSNR gap relative
to K = 64.

    python bench/bench_shortcut.py [--train-steps 1000] [--checkpoint teacher.safetensors]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from statistics import mean

import torch

from interdiff_core.data.windows import AlternatingWindows, window_loss_fn
from interdiff_core.diffusion.flow import step_levels
from interdiff_core.diffusion.rollout import rollout, rollout_psnr, shortcut_check
from interdiff_core.models.teacher import load_teacher
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.stages.rollout import teacher_window_fn
from interdiff_core.train.loop import train


def moving_blobs(n: int, T: int, C: int = 4, H: int = 8, W: int = 8, seed: int = 0):
    """Latent clips [n, T, C, H, W] of two Gaussian blobs each drifting at constant velocity on
    a torus, each blob with its own channel signature; cond [n, 12] = velocities and signatures
    (the clip's 'prompt'). Standardised to unit variance."""
    g = torch.Generator().manual_seed(seed)
    pos0 = torch.rand(n, 2, 2, generator=g) * torch.tensor([H, W])
    vel = (torch.rand(n, 2, 2, generator=g) * 2 - 1) * 0.5
    feat = torch.randn(n, 2, C, generator=g)
    t = torch.arange(T, dtype=torch.float)
    centers = pos0[:, None] + t[None, :, None, None] * vel[:, None]  # [n, T, blob, 2]
    ys, xs = torch.meshgrid(torch.arange(H).float(), torch.arange(W).float(), indexing="ij")
    grid = torch.stack([ys, xs], -1)  # [H, W, 2]
    d = grid[None, None, None] - centers[:, :, :, None, None]  # [n, T, blob, H, W, 2]
    size = torch.tensor([H, W]).float()
    d = d - size * torch.round(d / size)  # shortest way round the torus
    bump = torch.exp(-(d**2).sum(-1) / (2 * 1.2**2))  # [n, T, blob, H, W]
    x = torch.einsum("ntbhw,nbc->ntchw", bump, feat)
    x = (x - x.mean()) / x.std()
    return x, torch.cat([vel.flatten(1), feat.flatten(1)], dim=1)


def train_teacher(x, cond, steps: int, lr: float, seed: int, out: Path) -> SequenceTransformer:
    k_max = 64
    model = SequenceTransformer(
        x[0, 0].numel(), cond.shape[1], d_model=96, n_layers=3, n_heads=4,
        max_len=x.shape[1], n_steps=len(step_levels(k_max)),
    )  # fmt: skip
    windows = AlternatingWindows(
        x, cond, dict(short_len=8, long_len=16, short_batch=32, long_batch=16, long_ratio=0.2,
                      stride=1), seed,
    )  # fmt: skip
    cfg = dict(steps=steps, lr=lr, checkpoint_every=10**9)
    meta = {"stage": "bench_shortcut", "model_config": model.config}
    train(model, window_loss_fn(windows, k_max), cfg, meta, seed, out / "ckpt", out / "t.st")
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", help="a teacher checkpoint trained on moving_blobs clips")
    ap.add_argument("--train-steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--clips", type=int, default=512)
    ap.add_argument("--test-clips", type=int, default=32)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--context", type=int, default=4)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--tau-ctx", type=float, default=0.75, help="on the grid of every K (1/4)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x, cond = moving_blobs(args.clips + args.test_clips, args.frames, seed=args.seed)
    x_train, c_train = x[: args.clips], cond[: args.clips]
    x_test, c_test = x[args.clips :], cond[args.clips :]
    t0 = time.perf_counter()
    if args.checkpoint:
        teacher, _ = load_teacher(args.checkpoint)
        how = f"loaded {args.checkpoint}"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            teacher = train_teacher(
                x_train, c_train, args.train_steps, args.lr, args.seed, Path(tmp)
            )
        how = f"trained {args.train_steps} steps (lr {args.lr}) in {time.perf_counter() - t0:.0f} s"
    print(f"teacher: {how}; {args.test_clips} held-out clips of {args.frames} latent frames "
          f"{tuple(x.shape[2:])}, context {args.context}, window {args.window}, "
          f"tau_ctx {args.tau_ctx}, threads {args.threads}")  # fmt: skip

    make_fn = teacher_window_fn(teacher, c_test)
    rows = {}
    for K in (4, 16, 64):  # τ_ctx must lie on every K's grid: K = 1, 2 have no level 0.75
        gen = torch.Generator().manual_seed(args.seed)
        t0 = time.perf_counter()
        pred = rollout(make_fn, x_test, args.context, args.window, K, gen, args.tau_ctx)
        sec = time.perf_counter() - t0
        s = rollout_psnr(pred, x_test, args.context)
        rows[K] = (sec, sum(s["latent_psnr"]) / len(s["latent_psnr"]), s)
    hold = rows[64][2]["latent_psnr_hold"]
    hold_mean = sum(hold) / len(hold)
    ref_sec, ref_psnr = rows[64][0], rows[64][1]
    print(f"{'K':>4} {'seconds':>8} {'PSNR dB':>8} {'hold dB':>8} {'speed vs 64':>12} "
          f"{'PSNR gap vs 64':>15}")  # fmt: skip
    for K, (sec, p, _) in rows.items():
        print(f"{K:4d} {sec:8.2f} {p:8.2f} {hold_mean:8.2f} {ref_sec / sec:11.1f}x "
              f"{p - ref_psnr:+14.2f}")  # fmt: skip
    print("per-frame PSNR (dB), frames", args.context, "..", args.frames - 1)
    for K in (4, 64):
        print(f"  K={K:<3}", " ".join(f"{v:5.1f}" for v in rows[K][2]["latent_psnr"]))
    print("  hold  ", " ".join(f"{v:5.1f}" for v in hold))
    check = shortcut_check(make_fn, x_test, args.context, args.window, args.seed, args.tau_ctx)
    print("shortcut check (latent PSNR, mean over frames): 4 vs 64 steps from the same noise "
          f"{mean(check['coarse_vs_fine']):.2f} dB; 64 vs 64 from different noise "
          f"{mean(check['fine_vs_fine']):.2f} dB (a mean predictor: both 100)")  # fmt: skip


if __name__ == "__main__":
    main()
