"""metrics: one table, a row per method and step count, computed from the samples on disk.

The metrics table holds only what the same config and seed reproduce exactly (it is compared
byte for byte); wall-clock time per sample goes to a separate timing table.
"""

from __future__ import annotations

import logging

import pandas as pd

from interdiff_core.io import atomic_path, load_tensors
from interdiff_core.metrics.maze import summarize

log = logging.getLogger(__name__)
METRIC_COLUMNS = [
    "method",
    "steps",
    "collision_rate",
    "goal_distance",
    "mse",
    "smoothness",
    "nfe",
    "tokens",
]
SKIP_COLUMNS = ["skipped_train", "skipped_test"]
TIMING_COLUMNS = ["method", "steps", "nfe", "seconds_per_sample"]


def _write_csv(table: pd.DataFrame, path) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")


def write_tables(rows: list[dict], meta: dict, columns: list[str], out_csv, timing_csv):
    """The metrics table (`columns`, plus the skipped-sample counts) and the timing table, from
    one row per method and step count. Shared by every domain's metrics stage."""
    table = pd.DataFrame(rows)
    skipped = meta.get("skipped", {})
    # bad samples left out under data.on_bad_sample = skip: the numbers cover the rest only
    table["skipped_train"] = skipped.get("train", 0)
    table["skipped_test"] = skipped.get("test", 0)
    if skipped.get("train") or skipped.get("test"):
        log.warning("metrics: bad samples were skipped: %s", skipped)
    table = table.reindex(columns=[*columns, *SKIP_COLUMNS, "seconds_per_sample"])
    log.info("metrics:\n%s", table.drop(columns="seconds_per_sample").to_string(index=False))
    _write_csv(table[[*columns, *SKIP_COLUMNS]], out_csv)
    _write_csv(table[TIMING_COLUMNS], timing_csv)
    return table[[*columns, *SKIP_COLUMNS]]


def metrics(samples_path, out_csv, timing_csv) -> pd.DataFrame:
    t, meta = load_tensors(samples_path)
    gt, occ, sg = t["gt"].numpy(), t["occ"].numpy(), t["start_goal"].numpy()
    rows = []
    for row in meta["rows"]:
        traj = t[f"{row['method']}@{row['steps']}"].numpy()
        rows.append({**row, **summarize(traj, gt, occ, sg)})
    return write_tables(rows, meta, METRIC_COLUMNS, out_csv, timing_csv)
