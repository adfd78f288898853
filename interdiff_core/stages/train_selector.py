"""train_selector: keyframe indices from conditioning alone, supervised by the DP labels;
evaluated on the test split against the labels and two baselines (uniform spacing, and the
single fixed schedule that best matches the training labels), with the number of distinct
keyframe sets each gives (a selector that gives one set to every sample learned a fixed
schedule: warned)."""

from __future__ import annotations

import logging

import pandas as pd
import torch

from interdiff_core.data.splits import load_split
from interdiff_core.io import atomic_path, load_tensors
from interdiff_core.models.selector import (
    attach_gap_cost,
    label_gap_cost,
    make_selector,
    select_nested,
    selector_loss,
)
from interdiff_core.runtime import stage_meta
from interdiff_core.selection.masks import distinct_schedules, indices_to_mask, uniform_nested
from interdiff_core.train.loop import on_model_device, train

log = logging.getLogger(__name__)


def agreement(pred: torch.Tensor, label: torch.Tensor, T: int) -> tuple[float, float]:
    """(overlap of interior keyframes, mean |index error| of sorted interiors) over samples."""
    hit = indices_to_mask(pred[:, 1:-1], T) & indices_to_mask(label[:, 1:-1], T)
    overlap = hit.sum(1).float() / (label.shape[1] - 2)
    err = (pred[:, 1:-1] - label[:, 1:-1]).abs().float().mean(1)
    return overlap.mean().item(), err.mean().item()


def most_frequent_schedule(labels: torch.Tensor, T: int) -> torch.Tensor:
    """The K−2 interior frames most often chosen in the training labels, plus the endpoints."""
    counts = indices_to_mask(labels[:, 1:-1], T).sum(0).float()
    counts[[0, T - 1]] = -1
    inner = counts.topk(labels.shape[1] - 2).indices
    return torch.cat([torch.tensor([0, T - 1]), inner]).sort().values


def warn_if_fixed(table: pd.DataFrame) -> None:
    """Warn for each level where the selector gives every test sample the same keyframes while
    the DP labels it learns from differ between samples: it learned a fixed schedule."""
    by = table.set_index(["level", "method"])["distinct_schedules"]
    for level, K in table[["level", "K"]].drop_duplicates().itertuples(index=False):
        if by[level, "selector"] == 1 < by[level, "dp_labels"]:
            log.warning(
                "level %d (K=%d): the selector gives all test samples one schedule, the DP labels "
                "hold %d: it has learned a fixed schedule, not one that follows the conditioning",
                level,
                K,
                by[level, "dp_labels"],
            )


def train_selector(
    train_dir,
    test_dir,
    labels_path,
    out_path,
    eval_csv,
    ckpt_dir,
    cfg: dict,
    levels: list[int],
    seed: int,
    on_bad_sample: str = "error",
    device: str = "cpu",
) -> None:
    train_data = load_split(train_dir, on_bad_sample=on_bad_sample)
    test_data = load_split(test_dir, on_bad_sample=on_bad_sample)
    labels, _ = load_tensors(labels_path)
    T, S = train_data.T, len(levels)
    torch.manual_seed(seed)  # initial weights follow the training seed
    model = make_selector(train_data.cond.shape[1], T, S, **cfg["model"])
    cond = train_data.cond
    per_level = [labels[f"train.level{s}"] for s in range(S)]

    def loss_fn(model, gen):
        b = torch.randint(len(cond), (cfg["batch_size"],), generator=gen)
        s = int(torch.randint(S, (1,), generator=gen))
        level = torch.full((len(b),), s, dtype=torch.long)
        return selector_loss(model, *on_model_device(model, cond[b], per_level[s][b], level), T)

    gap_cost = label_gap_cost(per_level, T)  # the decode's prior on segment lengths
    meta = stage_meta("train_selector", cfg, model, levels=levels, gap_cost=gap_cost.tolist())
    train(model, loss_fn, cfg, meta, seed, ckpt_dir, out_path, device=device)
    attach_gap_cost(model, gap_cost)

    pred = select_nested(model, test_data.cond, levels, T)
    uniform = uniform_nested(len(test_data), T, levels)
    rows = []
    for s, k in enumerate(levels):
        label = labels[f"test.level{s}"]
        frequent = most_frequent_schedule(per_level[s], T).expand(len(test_data), -1)
        sources = [("selector", pred[s]), ("uniform", uniform[s]), ("most_frequent", frequent)]
        for name, p in sources + [("dp_labels", label)]:  # the labels: their own spread
            overlap, err = agreement(p, label, T)
            rows.append(
                {"level": s, "K": k, "method": name, "overlap": overlap, "mean_index_error": err,
                 "distinct_schedules": distinct_schedules(p)}
            )  # fmt: skip
    table = pd.DataFrame(rows)
    log.info("selector vs DP labels on test:\n%s", table.to_string(index=False))
    warn_if_fixed(table)
    with atomic_path(eval_csv) as tmp:
        table.to_csv(tmp, index=False)
