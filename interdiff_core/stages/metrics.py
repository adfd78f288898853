"""metrics: one table, a row per method and step count, computed from the samples on disk."""

from __future__ import annotations

import logging

import pandas as pd

from interdiff_core.io import atomic_path, load_tensors
from interdiff_core.metrics.maze import summarize

log = logging.getLogger(__name__)


def metrics(samples_path, out_csv) -> pd.DataFrame:
    t, meta = load_tensors(samples_path)
    gt, occ, sg = t["gt"].numpy(), t["occ"].numpy(), t["start_goal"].numpy()
    rows = []
    for row in meta["rows"]:
        traj = t[f"{row['method']}@{row['steps']}"].numpy()
        rows.append({**row, **summarize(traj, gt, occ, sg)})
    table = pd.DataFrame(rows)
    cols = [
        "method",
        "steps",
        "collision_rate",
        "goal_distance",
        "mse",
        "smoothness",
        "nfe",
        "tokens",
        "seconds_per_sample",
    ]
    table = table[cols]
    log.info("metrics:\n%s", table.to_string(index=False))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return table
