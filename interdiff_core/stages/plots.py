"""plots: the report's figures, from the samples, tables and checkpoints on disk."""

from __future__ import annotations

import pandas as pd

from interdiff_core import plots
from interdiff_core.io import load_checkpoint, load_tensors
from interdiff_core.sample.planners import two_phase_source


def keyframes_and_losses(
    samples: dict, meta: dict, labels_path, model_paths: dict[str, str], out: dict
):
    """The figures every domain draws: where the two-phase rows' keyframes fall (the selector's
    unless `sample.two_phase_keyframes` replaces it) against the DP labels of the same test
    samples, and each model's training loss."""
    labels, _ = load_tensors(labels_path)
    n = samples["keyframes"].shape[0]
    plots.keyframe_placement(
        samples["keyframes"].numpy(),
        labels["test.level0"][:n].numpy(),
        samples["gt"].shape[1],
        out["keyframes"],
        label=two_phase_source(meta["config"]),
    )
    histories = {
        name: load_checkpoint(p)[1]["loss_history"].numpy() for name, p in model_paths.items()
    }
    plots.loss_curves(histories, out["losses"])


def make_plots(
    samples_path,
    metrics_csv,
    labels_path,
    model_paths: dict[str, str],
    out: dict[str, str],
    n_examples: int,
) -> None:
    samples, meta = load_tensors(samples_path)
    table = pd.read_csv(metrics_csv)
    plots.frontier(table[table.split == "test"], out["frontier"])
    val = table[table.split == "val"]  # the examples' settings are chosen on val, never test
    best = val[val.method == "two_phase"].sort_values("mse").iloc[0]
    teacher = val[val.method == "teacher"].sort_values("mse").iloc[0]
    methods = [
        f"teacher@{int(teacher.steps)}",
        f"two_phase@{int(best.steps)}",
        f"interp_only@{int(best.steps)}",
        "straight_line@0",
    ]
    plots.trajectories(samples, methods, n_examples, out["trajectories"])
    keyframes_and_losses(samples, meta, labels_path, model_paths, out)
