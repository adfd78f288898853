"""episode_metrics: executed episodes -> scores as the maze-planning literature reports them.

Per split, maze and method: the sparse return (steps within the reward radius), the D4RL
normalised score (radius 0.5, D4RL's reference returns), the score normalised by references
computed here on the same episodes (random policy and the noise-free expert, radius 0.45 as
Minari), success, each with its standard error over episodes; paired bootstrap intervals for
two-phase minus the teacher and two-phase minus interpolation only; the settings chosen on val.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from interdiff_core.envs.pointmaze import D4RL_RADIUS, D4RL_REF, SUCCESS_RADIUS
from interdiff_core.io import atomic_path, load_tensors
from interdiff_core.metrics.episodes import normalised_score, returns, success
from interdiff_core.metrics.stats import mean_se, paired_bootstrap

log = logging.getLogger(__name__)
# `<fd arm>`: `<method>`'s plans tracked with the velocities their positions imply (`execute`)
VELOCITY_FIXES = {"interp_fd": "interp_only", "two_phase_fd": "two_phase"}
# Published normalised scores (D4RL references) of open-loop plans tracked by a PD controller
LITERATURE = {
    "Diffuser (Janner et al. 2022)": {"umaze": 113.9, "medium": 121.5, "large": 123.0},
    "Hierarchical Diffuser (Chen et al. 2024)": {"umaze": 128.4, "medium": 135.6, "large": 155.8},
}


def per_episode(dist: np.ndarray, maze: str, ref_own: tuple[float, float]) -> dict:
    """Per-episode values of one method on one maze's episodes."""
    ret = returns(dist, D4RL_RADIUS)
    return {
        "return": ret,
        "score_d4rl": normalised_score(ret, *D4RL_REF[maze]),
        "score": normalised_score(returns(dist, SUCCESS_RADIUS), *ref_own),
        "success": success(dist, SUCCESS_RADIUS).astype(np.float64),
    }


def episode_count(meta: dict) -> int:
    """Episodes of a samples or episodes file, whose rows are `sample.plans_per_episode` draws of
    each (row j * n + i: draw j of episode i); files from before that field hold one draw."""
    return meta.get("episodes", meta["n"])


def episode_means(values: dict, episode: np.ndarray) -> dict:
    """Per-row values -> per-episode means over the episode's plan draws, in episode order."""
    _, inverse = np.unique(episode, return_inverse=True)
    counts = np.bincount(inverse)
    return {k: np.bincount(inverse, weights=v) / counts for k, v in values.items()}


def split_values(episodes_path, per_draw: bool = False) -> tuple[dict, dict]:
    """{(maze, method): per-episode values} for one split (the mean over an episode's plan draws
    when `sample.plans_per_episode` > 1; per_draw: one value per row, draw j of episode i at
    row j * n + i), and the split's meta."""
    t, meta = load_tensors(episodes_path)
    maze_id = t["maze_id"].numpy()
    episode = t["episode"].numpy() if "episode" in t else np.arange(len(maze_id))
    values = {}
    for m, maze in enumerate(meta["mazes"]):
        rows = maze_id == m
        if not rows.any():
            continue
        steps = np.isfinite(t["expert.dist"].numpy()[rows]).sum(axis=1).max()
        dist = {k: t[f"{k}.dist"].numpy()[rows][:, :steps] for k in meta["methods"]}
        ref_own = (
            float(returns(dist["random"], SUCCESS_RADIUS).mean()),
            float(returns(dist["expert"], SUCCESS_RADIUS).mean()),
        )
        for method in meta["methods"]:
            rows_values = per_episode(dist[method], maze, ref_own)
            values[(maze, method)] = (
                rows_values if per_draw else episode_means(rows_values, episode[rows])
            )
    return values, meta


def _cost(meta: dict) -> dict:
    return {f"{r['method']}@{r['steps']}": (r["nfe"], r["tokens"]) for r in meta["rows"]}


def mean_score(values: dict, key: str) -> float:
    """`key`'s mean D4RL score over every maze of a split (`split_values`' values), each maze the
    mean over its episodes."""
    return float(np.mean([v["score_d4rl"].mean() for (_, k), v in values.items() if k == key]))


def best_on_val(values: dict, method: str) -> str:
    """The step count of `method` with the best mean D4RL score on val, over every maze."""
    keys = sorted({k for (_, k) in values if k.startswith(f"{method}@")})
    means = {k: mean_score(values, k) for k in keys}
    return max(keys, key=lambda k: (means[k], -int(k.split("@")[1])))


def comparisons(keys: set[str], teacher: str) -> list[tuple[str, str]]:
    """(a, b) pairs reported as a − b: two-phase and interpolation-only (and their velocity fixes,
    `VELOCITY_FIXES`) minus the val-chosen teacher; two-phase minus interpolation-only (what
    phase-2 adds) and minus `interp_fd` (what it adds beyond velocities that follow the
    interpolated positions: `execute`); `two_phase_fd` minus `interp_fd` (both plans tracked
    with the velocities their positions imply) and minus two-phase (what the fix does to
    phase-2's plans); two-phase with the keyframes of
    `sample.two_phase_keyframes` (the selector's unless a variant replaces it) minus each other
    keyframe source at the same phase-1 steps; two-phase with DP(D_phi)'s keyframes minus
    uniform ones (the learned costs against their trivial replacement)."""
    out = []
    for key in sorted(keys):
        method, _, steps = key.partition("@")
        if method in ("two_phase", "interp_only", *VELOCITY_FIXES):
            out.append((key, teacher))
        if method in ("two_phase", "two_phase_fd") and f"interp_fd@{steps}" in keys:
            out.append((key, f"interp_fd@{steps}"))
        if method == "two_phase_fd" and f"two_phase@{steps}" in keys:
            out.append((key, f"two_phase@{steps}"))
        if method in VELOCITY_FIXES:
            continue
        if method.startswith("two_phase") and f"interp_only{method[9:]}@{steps}" in keys:
            out.append((key, f"interp_only{method[9:]}@{steps}"))
        if method.startswith("two_phase_") and f"two_phase@{steps}" in keys:
            out.append((f"two_phase@{steps}", key))
        if method == "two_phase_dp_dphi" and f"two_phase_uniform@{steps}" in keys:
            out.append((key, f"two_phase_uniform@{steps}"))
    return out


def episode_metrics(episodes: dict[str, str], out_csv, paired_csv, n_boot: int, seed: int):
    rows, paired = [], []
    per_split = {split: split_values(path) for split, path in episodes.items()}
    chosen = {m: best_on_val(per_split["val"][0], m) for m in ("teacher", "two_phase")}
    log.info("chosen on val: %s", chosen)
    for split, (values, meta) in per_split.items():
        cost = _cost(meta)
        for (maze, key), v in values.items():
            method, _, steps = key.partition("@")
            nfe, tokens = cost.get(key, (0, 0))
            row = dict(split=split, maze=maze, method=method, steps=int(steps or 0))
            row.update(episodes=len(v["return"]), ret=float(v["return"].mean()))
            for name in ("score_d4rl", "score", "success"):
                row[name] = float(v[name].mean())
                row[f"{name}_se"] = mean_se(v[name])[1]
            row.update(nfe=nfe, tokens=tokens, chosen_on_val=key in chosen.values())
            rows.append(row)
        for maze in sorted({maze for maze, _ in values}):
            keys = {k for (mz, k) in values if mz == maze}
            for key_a, key_b in comparisons(keys, chosen["teacher"]):
                a, b = values[(maze, key_a)]["score_d4rl"], values[(maze, key_b)]["score_d4rl"]
                diff, lo, hi = paired_bootstrap([a - b], n_boot, seed)
                row = dict(split=split, maze=maze, a=key_a, b=key_b)
                paired.append(dict(row, diff=diff, ci_lo=lo, ci_hi=hi))
    table = pd.DataFrame(rows)
    log.info("executed:\n%s", table.to_string(index=False))
    for df, path in ((table, out_csv), (pd.DataFrame(paired), paired_csv)):
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False, float_format="%.6g")
    return table
