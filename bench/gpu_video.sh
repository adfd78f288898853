#!/usr/bin/env bash
# One shot on one GPU (about 10 minutes on an H200): the video DAG up to the tokenizer
# (configs/video_gpu.yaml: 2048 embedded clips, tokenizer on cuda), then the wide teacher trained
# on cuda with its rollout scored against hold-the-last-frame every 1000 steps
# (bench/bench_rollout_curve.py). The curve goes to $OUT/curve.csv (or results/video_gpu/).
set -euo pipefail
cd "$(dirname "$0")/.."
cfg=configs/video_gpu.yaml
out=${OUT:-results/video_gpu}
mkdir -p "$out"
export OMP_NUM_THREADS=4 PYTHONPATH=$PWD
timeout 240 snakemake --cores 16 --configfile "$cfg" --workflow-profile none --until tokenize
timeout 420 python bench/bench_rollout_curve.py --results results/video_gpu --config "$cfg" \
    --steps 8000 --eval-every 1000 --n-clips 64 --device cuda --threads 8 --max-seconds 330 \
    --out "$out/curve.csv"
