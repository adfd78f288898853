"""Figures for the report, drawn from artifacts on disk (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from interdiff_core.io import atomic_path  # noqa: E402


def _save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def frontier(table: pd.DataFrame, path, cols=("mse", "wall_crossing")) -> None:
    """Quality against compute: two quality columns (maze: MSE and wall crossings) against
    tokens processed. Columns named *mse are drawn on a log scale."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, col in zip(axes, cols):
        for method, style in [("teacher", "o-"), ("two_phase", "s-"), ("interp_only", "^--")]:
            rows = table[table.method == method].sort_values("tokens")
            ax.plot(rows.tokens, rows[col], style, label=method)
            for _, r in rows.iterrows():
                ax.annotate(str(int(r.steps)), (r.tokens, r[col]), fontsize=7)
        others = sorted(
            set(table.method) - {"teacher", "two_phase", "interp_only"}, key="untrained".__ne__
        )
        for method in others:  # untrained and the conditioning-only baseline, as levels
            color = "gray" if method == "untrained" else "red"
            for v in table[table.method == method][col]:
                ax.axhline(v, color=color, ls=":", label=method)
        ax.set_xscale("log")
        ax.set_yscale("log" if col.endswith("mse") else "linear")
        ax.set_xlabel("tokens processed per sample (numbers: steps)")
        ax.set_ylabel(col)
    axes[0].legend(fontsize=8)
    fig.suptitle("quality against compute on the test split")
    _save(fig, path)


def _maze(ax, occ: np.ndarray) -> None:
    G = occ.shape[0]
    ax.imshow(occ, cmap="Greys", extent=(0, 1, 1, 0), vmin=0, vmax=1.5)
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    del G


def trajectories(samples: dict, methods: list[str], n: int, path) -> None:
    """Sampled trajectories drawn on their maze next to the ground truth (state[..., :2] is
    (row, col); the goal is start_goal[4:6])."""
    n = min(n, samples["gt"].shape[0])
    fig, axes = plt.subplots(n, len(methods) + 1, figsize=(2.4 * (len(methods) + 1), 2.4 * n))
    axes = np.atleast_2d(axes)
    kf = samples["keyframes"].numpy()
    for i in range(n):
        occ = samples["occ"][i].numpy()
        for j, name in enumerate(["gt", *methods]):
            ax = axes[i, j]
            _maze(ax, occ)
            p = samples[name][i].numpy()
            ax.plot(p[:, 1], p[:, 0], "-", lw=1.2, color="tab:blue" if j else "tab:green")
            ax.plot(p[0, 1], p[0, 0], "o", color="tab:green", ms=4)
            sg = samples["start_goal"][i].numpy()
            ax.plot(sg[-1], sg[-2], "*", color="tab:red", ms=7)
            if name.startswith(("two_phase", "interp_only")):
                ax.plot(p[kf[i], 1], p[kf[i], 0], "x", color="tab:orange", ms=4)
            if i == 0:
                ax.set_title(name, fontsize=8)
    _save(fig, path)


def keyframe_placement(
    selected: np.ndarray, labels: np.ndarray, T: int, path, label: str = "selector"
) -> None:
    """Where the two-phase rows' level-0 keyframes fall on the test split (`label`: their
    source), against the DP labels."""
    fig, ax = plt.subplots(figsize=(7, 3))
    bins = np.arange(T + 1) - 0.5
    ax.hist(labels[:, 1:-1].ravel(), bins=bins, alpha=0.5, label="DP labels (D_phi costs)")
    ax.hist(selected[:, 1:-1].ravel(), bins=bins, alpha=0.5, label=label)
    ax.set_xlabel("frame index")
    ax.set_ylabel("count (interior keyframes)")
    ax.legend()
    _save(fig, path)


def loss_curves(histories: dict[str, np.ndarray], path) -> None:
    fig, axes = plt.subplots(1, len(histories), figsize=(3.2 * len(histories), 2.8))
    for ax, (name, h) in zip(np.atleast_1d(axes), histories.items()):
        w = max(1, len(h) // 50)
        smooth = np.convolve(h, np.ones(w) / w, mode="valid")
        ax.plot(h, alpha=0.3)
        ax.plot(np.arange(len(smooth)) + w - 1, smooth)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
    _save(fig, path)


def frame_strips(images: dict, keyframes, path) -> None:
    """Decoded clips [n, T, C, H, W] in [0, 1] (C = 3, or 1 shown in grey), one row per method
    and example; the two-phase rows' level-0 keyframes are framed in orange."""
    names = list(images)
    n, T = next(iter(images.values())).shape[:2]
    fig, axes = plt.subplots(n * len(names), T, figsize=(0.8 * T, 0.85 * n * len(names)))
    axes = np.atleast_2d(axes)
    kf = keyframes.numpy()
    for i in range(n):
        for r, name in enumerate(names):
            row = i * len(names) + r
            clip = images[name][i].clamp(0, 1).movedim(1, -1).numpy()
            for t in range(T):
                ax = axes[row, t]
                ax.imshow(clip[t].squeeze(-1) if clip.shape[-1] == 1 else clip[t], cmap="gray")
                ax.set_xticks([])
                ax.set_yticks([])
                if name != names[0] and t in kf[i]:
                    for side in ax.spines.values():
                        side.set_color("tab:orange")
                        side.set_linewidth(2)
            axes[row, 0].set_ylabel(name, fontsize=6, rotation=0, ha="right", va="center")
    for t in range(T):
        axes[0, t].set_title(str(t), fontsize=7)
    _save(fig, path)


def rollout_curves(summary: dict, path) -> None:
    """Per-frame rollout PSNR (sampled, and the point rollout if present) against
    hold-the-last-frame, latent and (if present) decoded."""
    curves, frames = summary["curves"], summary["frames"]
    spaces = [s for s in ("latent", "pixel") if f"{s}_psnr" in curves]
    fig, axes = plt.subplots(1, len(spaces), figsize=(5 * len(spaces), 3.5), squeeze=False)
    for ax, space in zip(axes[0], spaces):
        ax.plot(frames, curves[f"{space}_psnr"], "o-", label="teacher rollout (sampled)")
        if f"point_{space}_psnr" in curves:
            ax.plot(frames, curves[f"point_{space}_psnr"], "^-", label="teacher point rollout")
        ax.plot(frames, curves[f"{space}_psnr_hold"], "s--", label="hold last frame")
        ax.set_xlabel("frame index (after the context)")
        ax.set_ylabel(f"{space} PSNR (dB)")
        ax.legend(fontsize=8)
    _save(fig, path)
