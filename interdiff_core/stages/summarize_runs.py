"""summarize_runs: every variant's executed test scores, mean ± standard error across seeds.

Per run (variant, seed), the rows are the settings chosen on that run's val episodes (teacher
and two-phase step counts; interpolation only at two-phase's), beside the baselines and
references; the table then averages each row over the run's seeds.
"""

from __future__ import annotations

import logging

import pandas as pd

from interdiff_core.io import atomic_path
from interdiff_core.metrics.stats import mean_se

log = logging.getLogger(__name__)
BASELINES = ("straight_line", "untrained", "expert", "tracked_reference", "random")
VALUES = ("score_d4rl", "score", "success", "ret", "tokens", "nfe")


def chosen_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The test rows one run reports: val-chosen settings and the baselines."""
    test = table[table.split == "test"]
    arms = test.method.str.startswith(("two_phase_", "interp_only_"))  # keyframe sources
    picked = test[test.chosen_on_val.astype(bool) | test.method.isin(BASELINES) | arms]
    two = test[(test.method == "two_phase") & test.chosen_on_val.astype(bool)]
    interp = test[(test.method == "interp_only") & test.steps.isin(two.steps)]
    return pd.concat([picked, interp]).assign(
        role=lambda d: d.method.where(
            ~d.method.isin(["teacher", "two_phase", "interp_only"]), d.method + "@val_choice"
        )  # fmt: skip
    )


def summarize_runs(tables: dict[tuple[str, int], str], descs: dict[str, str], out_csv) -> None:
    rows = []
    for (variant, seed), path in sorted(tables.items()):
        picked = chosen_rows(pd.read_csv(path))
        rows.append(picked.assign(variant=variant, seed=seed))
    runs = pd.concat(rows)
    out = []
    for (variant, maze, role), g in runs.groupby(["variant", "maze", "role"], sort=True):
        row = dict(variant=variant, maze=maze, method=role, seeds=len(g))
        row["steps"] = "/".join(str(s) for s in g.steps)  # per seed, in seed order
        for col in VALUES:
            row[col] = float(g[col].mean())
            if col in ("score_d4rl", "score", "success"):
                row[f"{col}_se_seeds"] = mean_se(g[col])[1]
        row["desc"] = descs.get(variant, "")
        out.append(row)
    table = pd.DataFrame(out)
    log.info("summary over seeds:\n%s", table.drop(columns="desc").to_string(index=False))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
