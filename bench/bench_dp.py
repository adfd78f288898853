"""Benchmark the batched keyframe DP (`dp_select`) against the plain per-sample Python DP.

    python bench/bench_dp.py [--batch 64 --T 128,256,384 --K 8,16,32 --py-samples 4]

Both solvers get the same random segment costs, side by side in one run. The batched DP solves
the whole batch; the Python DP (`dp_select_python`, one sample at a time, O(K T^2) in the
interpreter) is timed on the first `--py-samples` samples only, so that its time stays bounded,
and both are reported per sample. The script checks that the objectives agree on that subset.
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
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--T", type=str, default="128,256,384", help="comma-separated horizons")
    parser.add_argument("--K", type=str, default="8,16,32", help="comma-separated K values")
    parser.add_argument("--py-samples", type=int, default=4, help="samples the Python DP solves")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the batched DP")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="where the batched DP runs (cpu, cuda)")
    args = parser.parse_args()
    n_py = min(args.py_samples, args.batch)

    torch.set_num_threads(2)
    print(
        f"batch={args.batch} (Python DP timed on the first {n_py} of them) device={args.device}"
        f" threads={torch.get_num_threads()}; times per sample"
    )
    print(
        f"{'T':>4} {'K':>3} {'batch s':>8} {'batched ms':>10} {'python ms':>10} {'ratio':>7}"
        f" {'max rel diff':>12} {'idx agree':>9}"
    )
    ok = True
    for T in (int(t) for t in args.T.split(",")):
        costs = make_costs(args.batch, T, torch.Generator().manual_seed(args.seed))
        rows = costs[:n_py].tolist()  # converted once, outside the timed Python loop
        on_device = costs.to(args.device)
        for K in (int(k) for k in args.K.split(",")):

            def batched(K: int = K, costs: torch.Tensor = on_device) -> torch.Tensor:
                return dp_select(costs, K).cpu()  # waits for the device

            batched()  # warm-up
            t_batch, idx = best_time(batched, args.repeats)

            def plain(K: int = K, rows: list = rows) -> list[list[int]]:
                return [dp_select_python(r, K) for r in rows]

            t_py, py_idx = best_time(plain, 1)
            py_idx = torch.tensor(py_idx)
            sub = costs[:n_py].double()
            obj, py_obj = path_cost(sub, idx[:n_py]), path_cost(sub, py_idx)
            rel = ((obj - py_obj).abs() / py_obj.abs().clamp(min=1e-12)).max().item()
            agree = (idx[:n_py] == py_idx).all(dim=1).float().mean().item()
            ok &= rel <= 1e-4
            per_batch, per_py = t_batch / args.batch, t_py / n_py
            print(
                f"{T:>4} {K:>3} {t_batch:>8.4f} {1e3 * per_batch:>10.3f} {1e3 * per_py:>10.1f}"
                f" {per_py / per_batch:>6.0f}x {rel:>12.2e} {agree:>9.0%}"
            )
    print("objectives agree (rel 1e-4):", "yes" if ok else "NO")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
