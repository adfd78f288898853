"""What is left for phase-2 to fix in a maze run: side by side on one split (the data's own
states as the target), the plans that linear interpolation and each variant's phase-2 make from

- the ground truth's keyframes at uniform level-0 spacing (what phase-2 trains on most), and
- phase-1's keyframes at the same indices (@`--steps`, the first state and goal inpainted as
  `sample.inpaint` does),

phase-2 with the noise it trained with (`sample.phase2_noise: level`),

as squared error of the positions and of the velocities, and the positions' `smoothness_ratio`
(`eval/metrics.csv`'s: per plan, its mean squared second difference over the data's; 1 = as
smooth as the data). Then, for reference, interpolation of the ground truth's keyframes at other
uniform K. Nothing is retrained.

    python bench/phase2_headroom.py --run results/pointmaze_umaze_cpu \\
        --variants base phase2_4x --seeds 0 1 2
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch

from interdiff_core.corruption.keyframes import gather_frames
from interdiff_core.data.splits import load_split
from interdiff_core.io import load_model
from interdiff_core.metrics.episodes import smoothness_ratio
from interdiff_core.metrics.maze import path_mse
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.two_phase import LINEAR, refine, sample_keyframes
from interdiff_core.selection.masks import uniform_nested


def plan_errors(plan: torch.Tensor, x: torch.Tensor) -> dict[str, float]:
    return {
        "pos_mse": float(path_mse(plan, x).mean()),
        "vel_mse": ((plan - x)[..., 2:] ** 2).mean().item(),
        "smoothness_ratio": float(smoothness_ratio(plan[..., :2], x[..., :2]).mean()),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="run.results of a maze run")
    p.add_argument("--variants", nargs="+", required=True)
    p.add_argument("--seeds", nargs="+", type=int, required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--steps", type=int, default=4, help="phase-1's sampling steps")
    p.add_argument("--phase1-from", default="base", help="the variant that owns phase-1")
    p.add_argument("--other-k", nargs="*", type=int, default=[3, 4, 6, 16])
    args = p.parse_args()
    data = load_split(f"{args.run}/shards/{args.split}")
    given = data.inpainting()
    rows = []
    for seed in args.seeds:
        owner = f"{args.run}/{args.phase1_from}/seed{seed}/models"
        phase1, _ = load_model(SequenceTransformer, f"{owner}/phase1.safetensors")
        drawn = {}  # level-0 K -> (phase-1's keyframes, the generator's state after drawing them)
        for variant in args.variants:
            path = f"{args.run}/{variant}/seed{seed}/models/phase2.safetensors"
            phase2, meta = load_model(SequenceTransformer, path)
            levels = meta["levels"]
            idx = uniform_nested(len(data), data.T, levels)
            sigmas = meta["config"]["noise_sigma"]  # as sampled (`sample.phase2_noise: level`)
            gen = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                if levels[0] not in drawn:
                    keys = sample_keyframes(phase1, data.cond, idx[0], args.steps, gen, given)
                    drawn[levels[0]] = keys, gen.get_state()
                sampled, state = drawn[levels[0]]
                truth = gather_frames(data.x, idx[0])
                for keys_name, keys in [("ground truth", truth), ("phase-1", sampled)]:
                    gen.set_state(state)
                    plans = {
                        "interpolation": LINEAR(keys, idx[0], data.T),
                        "phase-2": refine(
                            phase2, keys, idx, data.cond, data.T, sigmas, gen, given=given
                        ),
                    }
                    for fill, plan in plans.items():
                        rows.append(
                            {"variant": variant, "seed": seed, "K": levels[0], "keyframes":
                             keys_name, "filled by": fill, **plan_errors(plan, data.x)}
                        )  # fmt: skip
    for k in args.other_k:
        idx = uniform_nested(len(data), data.T, [k])[0]
        plan = LINEAR(gather_frames(data.x, idx), idx, data.T)
        rows.append(
            {"variant": "-", "seed": -1, "K": k, "keyframes": "ground truth",
             "filled by": "interpolation", **plan_errors(plan, data.x)}
        )  # fmt: skip
    table = pd.DataFrame(rows)
    keys = ["K", "keyframes", "filled by", "variant"]
    mean = table.groupby(keys, sort=False)[["pos_mse", "vel_mse", "smoothness_ratio"]].mean()
    pd.set_option("display.width", 200)
    print(f"{args.split}, mean over seeds {args.seeds}:")
    print(mean.to_string(float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
