"""summarize_video: every variant's video metrics in one table, side by side (for instance
two-phase over the flow interpolator in base beside two-phase over LERP in `lerp_phase2`).

Rows are each run's (variant, seed) metrics rows as they are, tagged with the variant, the
seed, the interpolation phase-2 used and the variant's description; nothing is averaged away."""

from __future__ import annotations

import logging

import pandas as pd

from interdiff_core.io import atomic_path

log = logging.getLogger(__name__)
SHOWN = [
    "variant",
    "seed",
    "interpolator",
    "split",
    "method",
    "steps",
    "latent_l1",
    "psnr",
    "psnr_se",
    "psnr_minus_hold",
]


def summarize_video(
    tables: dict[tuple[str, int], str], interpolators: dict[str, str], descs: dict[str, str],
    out_csv,
) -> pd.DataFrame:  # fmt: skip
    rows = [
        pd.read_csv(path).assign(
            variant=variant,
            seed=seed,
            interpolator=interpolators[variant],
            desc=descs.get(variant, ""),
        )
        for (variant, seed), path in sorted(tables.items())
    ]
    table = pd.concat(rows, ignore_index=True)
    front = [c for c in ("variant", "seed", "interpolator", "desc") if c in table]
    table = table[front + [c for c in table.columns if c not in front]]
    arms = table[table.method.isin(["two_phase", "interp_only"])]
    shown = [c for c in SHOWN if c in arms]
    log.info("two-phase per variant:\n%s", arms[shown].to_string(index=False))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return table
