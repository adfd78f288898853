"""Process set-up shared by every stage: logging to the rule's log file, threads, seeds."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch


def _log_uncaught(kind, value, tb) -> None:
    logging.getLogger("interdiff").critical("failed", exc_info=(kind, value, tb))


def setup(log_path=None, threads: int = 1, seed: int = 0, append: bool = False) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="a" if append else "w"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", handlers=handlers, force=True
    )
    sys.excepthook = _log_uncaught  # so a failed job's log says why, not only its stderr
    torch.set_num_threads(max(1, int(threads)))
    torch.manual_seed(seed)


def stage_meta(stage: str, cfg: dict, model=None, **extra) -> dict:
    """What every checkpoint and cache records: the stage, its config, its code digest."""
    from interdiff_core.digest import stage_digest

    meta = {"stage": stage, "config": cfg, "code": stage_digest(stage), **extra}
    if model is not None:
        meta["model_config"] = model.config
    return meta
