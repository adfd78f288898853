"""The one standard error every table reports: of the mean over independent units (episodes,
clips, samples, training seeds), from the sample standard deviation (ddof = 1)."""

from __future__ import annotations

import numpy as np


def mean_se(values) -> tuple[float, float]:
    """(mean, standard error of the mean) of a 1-D array, tensor or series, in float64; the
    standard error is nan for fewer than two values."""
    if hasattr(values, "detach"):  # a torch tensor, wherever it lives
        values = values.detach().cpu()
    v = np.asarray(values, dtype=np.float64)
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
    return float(v.mean()), se
