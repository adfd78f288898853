"""Planning time per plan, two-phase against the teacher at equal quality: the compute ratio.

Runs both samplers side by side in this one process, on the test split of a finished pipeline
(`snakemake` first), and for each two-phase setting finds the cheapest teacher step count whose
quality is at least as good, then prints the ratio of wall time, tokens and network evaluations.

    python bench/bench_sampling.py [--results results/default] [--metric mse] [--repeats 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from timing import best_time

from interdiff_core.data.maze_dataset import load_split
from interdiff_core.io import load_model
from interdiff_core.metrics.maze import summarize
from interdiff_core.models.selector import select_nested
from interdiff_core.models.teacher import load_teacher
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.two_phase import (
    refine,
    sample_keyframes,
    sample_teacher,
    sampling_sigmas,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results/default")
    ap.add_argument("--run", default="base/seed0", help="variant/seed folder of the models")
    ap.add_argument("--metric", default="mse", choices=["mse", "wall_crossing"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--phase2-noise", default="none", choices=["none", "level"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res = Path(args.results)
    data = load_split(res / "shards" / "test")
    cond, T, n = data.cond, data.T, len(data)
    models = res / args.run / "models"
    teacher, _ = load_teacher(models / "teacher.safetensors")
    selector, _ = load_model(SequenceTransformer, models / "selector.safetensors")
    phase1, _ = load_model(SequenceTransformer, models / "phase1.safetensors")
    phase2, meta = load_model(SequenceTransformer, models / "phase2.safetensors")
    levels = meta["levels"]
    sigmas = sampling_sigmas(meta["config"]["noise_sigma"], args.phase2_noise)
    k_teacher = teacher.config["n_steps"]
    k_phase1 = phase1.step_emb.num_embeddings
    c = phase2.cond.n_tokens  # the two-phase models' conditioning prefix

    def quality(traj) -> float:
        return summarize(traj.numpy(), data.x.numpy(), data.occ.numpy())[args.metric]

    def gen():
        return torch.Generator().manual_seed(0)

    teacher_rows = []
    for steps in [2**i for i in range(k_teacher)]:
        sec, traj = best_time(
            lambda s=steps: sample_teacher(teacher, cond, T, s, gen()), args.repeats
        )
        teacher_rows.append(
            (steps, quality(traj), sec, steps * teacher.n_tokens(T, cond.shape[1]), steps)
        )

    def two_phase(steps: int):
        idx = select_nested(selector, cond, levels, T)
        anchors = sample_keyframes(phase1, cond, idx[0], steps, gen())
        return refine(phase2, anchors, idx, cond, T, sigmas, gen())

    print(f"test samples: {n}, T = {T}, metric: {args.metric} (lower is better), "
          f"threads = {args.threads}, best of {args.repeats}")  # fmt: skip
    print(f"{'sampler':>18} {args.metric:>10} {'ms/plan':>10} {'tokens':>7} {'NFE':>4}")
    for steps, q, sec, tok, nfe in teacher_rows:
        print(f"{'teacher@' + str(steps):>18} {q:10.5f} {1e3 * sec / n:10.3f} {tok:7d} {nfe:4d}")
    print()
    print(f"{'two-phase':>18} {args.metric:>10} {'ms/plan':>10} {'tokens':>7} {'NFE':>4}"
          f"   matching teacher    time ratio  token ratio  NFE ratio")  # fmt: skip
    for steps in [2**i for i in range(k_phase1)]:
        sec, traj = best_time(lambda s=steps: two_phase(s), args.repeats)
        q = quality(traj)
        tok = len(levels) * (T + c) + steps * (levels[0] + c) + len(levels) * (T + c)
        nfe = steps + 2 * len(levels)
        match = next((r for r in teacher_rows if r[1] <= q), None)
        line = f"{'two_phase@' + str(steps):>18} {q:10.5f} {1e3 * sec / n:10.3f} {tok:7d} {nfe:4d}"
        if match is None:
            best = min(teacher_rows, key=lambda r: r[1])
            line += f"   none (best teacher@{best[0]}: {best[1]:.5f})"
        else:
            line += (f"   teacher@{match[0]:<10} {match[2] / sec:9.2f}x {match[3] / tok:11.2f}x"
                     f" {match[4] / nfe:9.2f}x")  # fmt: skip
        print(line)


if __name__ == "__main__":
    main()
