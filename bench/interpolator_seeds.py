"""The flow interpolator of a config against LERP over several training seeds, on a split of
a run's tokenized clips (val by default: where its settings are chosen), side by side with the
same config under overrides. Training goes through the train_interpolator stage itself, so what
is scored is what the pipeline trains.

    python bench/interpolator_seeds.py --config configs/video.yaml --run results/video \
        --seeds 0 1 2 --set model.warp_mode=bilinear
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from interdiff_core.io import load_model
from interdiff_core.models.interpolator import FlowInterpolator, Lerp
from interdiff_core.models.tokenizer import FrameAutoencoder, decode_clips
from interdiff_core.stages.eval_interpolator import evaluate_by_bucket
from interdiff_core.stages.train_interpolator import train_interpolator, video_latents
from interdiff_core.variants import deep_merge


def with_override(cfg: dict, assignment: str) -> dict:
    """cfg with `a.b=value` set (value parsed as YAML), merged as variants merge."""
    key, _, value = assignment.partition("=")
    override = yaml.safe_load(value)
    for k in reversed(key.split(".")):
        override = {k: override}
    return deep_merge(cfg, override)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/video.yaml")
    ap.add_argument("--run", default="results/video", help="holds shards/ and models/tokenizer")
    ap.add_argument("--split", default="val")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--set", action="append", default=[], help="an override, e.g. steps=3000")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    base = yaml.safe_load(Path(args.config).read_text())["interpolator"]
    arms = {"config": base}
    for s in args.set:
        arms[s] = with_override(base, s)
    tok, _ = load_model(FrameAutoencoder, f"{args.run}/models/tokenizer.safetensors")
    x = video_latents(f"{args.run}/shards/{args.split}")[: base["n_clips"]]

    def decode(lat):
        return decode_clips(tok, lat)

    rows = []
    for name, cfg in arms.items():
        for seed in args.seeds:
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "i.safetensors"
                try:
                    train_interpolator(f"{args.run}/shards/train", out, Path(tmp) / "ck", cfg, seed)
                except FloatingPointError as err:  # a diverged seed is a result, not a crash
                    print(f"{name} seed {seed}: diverged ({err})")
                    continue
                flow, _ = load_model(FlowInterpolator, out)
            with torch.no_grad():
                t = evaluate_by_bucket({"flow": flow, "lerp": Lerp()}, x, base["spacings"], decode)
            for r in t[t.method == "flow"].itertuples():
                rows.append(dict(arm=name, seed=seed, bucket=r.bucket,
                                 psnr_minus_lerp=r.pixel_psnr_minus_lerp,
                                 se=r.pixel_psnr_minus_lerp_se))  # fmt: skip
            print(f"{name} seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    wide = table.pivot_table(index=["arm", "bucket"], columns="seed", values="psnr_minus_lerp")
    wide["mean"] = wide.mean(axis=1)
    print(f"decoded PSNR - LERP (dB) on {args.split}, {len(x)} clips, per training seed:")
    print(wide.round(3).to_string())


if __name__ == "__main__":
    main()
