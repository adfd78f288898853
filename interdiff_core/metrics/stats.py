"""The one standard error every table reports: of the mean over independent units (episodes,
clips, samples, training seeds), from the sample standard deviation (ddof = 1); and the one
paired bootstrap interval, over episodes within each training seed and over the seeds."""

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


def paired_bootstrap(diffs, n_boot: int, seed: int) -> tuple[float, float, float]:
    """Mean paired difference and its 95 % percentile bootstrap interval. `diffs`: one array
    of per-episode differences a − b per training seed (the same episodes under every seed).
    The estimate is the mean over seeds of each seed's mean; each bootstrap draw resamples the
    seeds with replacement, then the episodes within every drawn seed (a two-stage bootstrap),
    so the interval carries the training noise between seeds as well as the episodes'. One
    seed: the plain paired bootstrap over episodes."""
    diffs = [np.asarray(d, dtype=np.float64) for d in diffs]
    rng = np.random.default_rng(seed)
    S = len(diffs)
    picks = rng.integers(0, S, size=(n_boot, S)) if S > 1 else np.zeros((n_boot, 1), int)
    means = np.empty((n_boot, S))
    for slot in range(S):
        for i, d in enumerate(diffs):  # every seed resampled for every slot: draws independent
            resampled = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
            means[picks[:, slot] == i, slot] = resampled[picks[:, slot] == i]
    boot = means.mean(axis=1)
    estimate = float(np.mean([d.mean() for d in diffs]))
    return estimate, float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))
