"""Benchmark the batched keyframe DP (`dp_select`) against the pure-Python reference.

    python bench/bench_dp.py [--batch 256 --T 64 --K 8,16,32]

Both solvers get the same random segment costs; the script checks that their objectives agree
and prints timings (best of a few repeats) per K.
"""

from __future__ import annotations

import argparse

import torch
from timing import best_time

from interdiff_core.selection.dp import dp_select, dp_select_python, path_cost


def make_costs(B: int, T: int, generator: torch.Generator) -> torch.Tensor:
    """Non-negative additive costs: a segment i<j costs its squared length-weighted sum of
    per-frame "motion" (via cumulative sums), plus a little noise."""
    motion = torch.rand(B, T, generator=generator, dtype=torch.float64) ** 3
    cum = torch.cat([torch.zeros(B, 1, dtype=torch.float64), motion.cumsum(dim=1)], dim=1)
    seg = cum[:, None, 1:] - cum[:, :-1, None]  # seg[b, i, j] = motion[i..j] summed
    length = torch.arange(T)[None, :] - torch.arange(T)[:, None]
    noise = 0.01 * torch.rand(B, T, T, generator=generator, dtype=torch.float64)
    return (seg * length.clamp(min=0) + noise).triu(1).float()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--T", type=int, default=64)
    parser.add_argument("--K", type=str, default="8,16,32", help="comma-separated K values")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the batched DP")
    parser.add_argument("--py-repeats", type=int, default=1, help="repeats of the Python loop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="where the batched DP runs (cpu, cuda)")
    args = parser.parse_args()

    torch.set_num_threads(2)
    costs = make_costs(args.batch, args.T, torch.Generator().manual_seed(args.seed))
    rows = costs.tolist()  # converted once, outside the timed Python loop
    on_device = costs.to(args.device)

    def batched(K: int) -> torch.Tensor:
        idx = dp_select(on_device, K)
        return idx.cpu()  # waits for the device, so the time is the solve's

    print(
        f"batch={args.batch} T={args.T} dtype={costs.dtype} device={args.device}"
        f" threads={torch.get_num_threads()}"
    )
    header = f"{'K':>4} {'batched s':>10} {'python s':>10} {'speedup':>8} {'max rel diff':>13}"
    print(header + f" {'idx agree':>10}")

    ok = True
    for K in (int(k) for k in args.K.split(",")):
        batched(K)  # warm-up
        t_batch, idx = best_time(lambda K=K: batched(K), args.repeats)
        t_py, py_idx = best_time(
            lambda K=K: [dp_select_python(r, K) for r in rows], args.py_repeats
        )
        py_idx = torch.tensor(py_idx)
        obj, py_obj = path_cost(costs.double(), idx), path_cost(costs.double(), py_idx)
        rel = ((obj - py_obj).abs() / py_obj.abs().clamp(min=1e-12)).max().item()
        agree = (idx == py_idx).all(dim=1).float().mean().item()
        ok &= rel <= 1e-4
        print(
            f"{K:>4} {t_batch:>10.4f} {t_py:>10.3f} {t_py / t_batch:>7.0f}x {rel:>13.2e}"
            f" {agree:>9.1%}"
        )
    print("objectives agree (rel 1e-4):", "yes" if ok else "NO")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
