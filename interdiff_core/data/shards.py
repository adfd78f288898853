"""Webdataset tar shards: one sample per key, sorted shard names, validated on read.

Lessons from the seed logs built in: shard lists are always sorted (filesystem glob order put
training at the last shard), every array is copied before it is written (a view would drag its
whole batch storage into each sample), and a shard set is written into a temporary folder that
is renamed into place only when complete.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import webdataset as wds

log = logging.getLogger(__name__)


def shard_paths(shard_dir) -> list[Path]:
    paths = sorted(Path(shard_dir).glob("shard-*.tar"))
    if not paths:
        raise FileNotFoundError(f"{shard_dir}: no shard-*.tar files")
    return paths


def write_shards(shard_dir, arrays: dict[str, np.ndarray], shard_size: int) -> list[Path]:
    """Write arrays sharing a leading sample dim N as `shard-%06d.tar`, one sample per key."""
    n = {len(a) for a in arrays.values()}
    if len(n) != 1:
        raise ValueError(
            f"arrays disagree on sample count: { {k: len(a) for k, a in arrays.items()} }"
        )
    (n,) = n
    shard_dir = Path(shard_dir)
    tmp_dir = shard_dir.with_name(f".{shard_dir.name}.tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    for start in range(0, n, shard_size):
        with open(tmp_dir / f"shard-{start // shard_size:06d}.tar", "wb") as f:
            writer = wds.TarWriter(f, mtime=0.0)  # fixed mtime: same data, same bytes
            for i in range(start, min(start + shard_size, n)):
                sample = {"__key__": f"{i:08d}"}
                sample.update({f"{k}.npy": np.array(a[i], copy=True) for k, a in arrays.items()})
                writer.write(sample)
            writer.close()
    if shard_dir.exists():
        shutil.rmtree(shard_dir)
    os.replace(tmp_dir, shard_dir)
    return shard_paths(shard_dir)


def _check(sample: dict, spec: dict[str, tuple], where: str) -> str | None:
    """Return a message describing what is wrong with `sample`, or None if it matches `spec`."""
    for key, shape in spec.items():
        if f"{key}.npy" not in sample:
            return f"{where}: missing key '{key}' (has {sorted(k for k in sample if k[0] != '_')})"
        a = sample[f"{key}.npy"]
        if not isinstance(a, np.ndarray):
            return f"{where}: key '{key}' is {type(a).__name__}, expected a numpy array"
        if len(a.shape) != len(shape) or any(
            s is not None and s != g for s, g in zip(shape, a.shape)
        ):
            return f"{where}: key '{key}' has shape {a.shape}, expected {shape}"
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            return f"{where}: key '{key}' contains NaN or Inf"
    return None


def read_shards(shard_dir, spec: dict[str, tuple], on_bad_sample: str = "error"):
    """Load every sample of a shard set into stacked arrays, in key order.

    `spec` maps key -> expected shape (None = any size). A truncated shard, a missing key, a
    wrong shape or a NaN raises ValueError naming the shard and key; with on_bad_sample="skip"
    the bad sample is left out, counted and logged. Returns (arrays, n_skipped).
    """
    if on_bad_sample not in ("error", "skip"):
        raise ValueError(f"on_bad_sample must be 'error' or 'skip', got {on_bad_sample!r}")
    rows: dict[str, list] = {k: [] for k in spec}
    skipped = 0
    for path in shard_paths(shard_dir):
        ds = wds.WebDataset(str(path), shardshuffle=False, empty_check=False).decode()
        try:
            for sample in ds:
                problem = _check(sample, spec, f"{path} sample {sample.get('__key__')}")
                if problem and on_bad_sample == "error":
                    raise ValueError(problem)
                if problem:
                    log.warning("skipping bad sample: %s", problem)
                    skipped += 1
                    continue
                for k in spec:
                    rows[k].append(sample[f"{k}.npy"])
        except (tarfile.TarError, OSError, EOFError, ValueError) as e:
            if isinstance(e, ValueError) and str(e).startswith(str(path)):
                raise
            raise ValueError(
                f"{path}: corrupted or truncated shard ({type(e).__name__}: {e})"
            ) from e
    if not rows[next(iter(spec))]:
        raise ValueError(f"{shard_dir}: no valid samples")
    return {k: np.stack(v) for k, v in rows.items()}, skipped
