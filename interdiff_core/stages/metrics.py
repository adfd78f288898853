"""metrics: one table, a row per split, method and step count, from the samples on disk.

Maze plans are scored as plans here (distance to the expert's reference plan, the share of plans
that cross a wall anywhere between consecutive states, the share of states inside a wall,
smoothness relative to the reference);
how they do when executed is `episode_metrics`.

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
    "split",
    "method",
    "steps",
    "wall_crossing",
    "states_in_wall",
    "mse",
    "smoothness_ratio",
    "nfe",
    "tokens",
]
SKIP_COLUMNS = ["skipped_train", "skipped_test"]
TIMING_COLUMNS = ["split", "method", "steps", "nfe", "seconds_per_sample"]


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
    if "split" not in table:
        table["split"] = "test"
    table = table.reindex(columns=[*columns, *SKIP_COLUMNS, "seconds_per_sample"])
    log.info("metrics:\n%s", table.drop(columns="seconds_per_sample").to_string(index=False))
    _write_csv(table[[*columns, *SKIP_COLUMNS]], out_csv)
    timed = table.dropna(subset=["seconds_per_sample"])
    _write_csv(timed[[c for c in TIMING_COLUMNS if c in table]], timing_csv)
    return table[[*columns, *SKIP_COLUMNS]]


def metrics(samples: dict[str, str], out_csv, timing_csv) -> pd.DataFrame:
    """samples: split -> sampled plans of that split (val, test)."""
    rows, meta = [], {}
    for split, path in samples.items():
        t, meta = load_tensors(path)
        gt, occ = t["gt"].numpy(), t["occ"].numpy()
        for row in meta["rows"]:
            plan = t[f"{row['method']}@{row['steps']}"].numpy()
            rows.append({"split": split, **row, **summarize(plan, gt, occ)})
        # the expert's reference plan itself: MuJoCo's soft walls let the real ball come within
        # ~0.06 of a wall, so even it "crosses" at the ball's radius now and then
        ref = dict(method="reference", steps=0, nfe=0, tokens=0)  # not timed: not a planner
        rows.append({"split": split, **ref, **summarize(gt, gt, occ)})
    return write_tables(rows, meta, METRIC_COLUMNS, out_csv, timing_csv)
