"""Webdataset tar shards: one sample per key, sorted shard names, validated on read.

Lessons from the seed logs built in: shard lists are always sorted (filesystem glob order put
training at the last shard), every array is copied before it is written (a view would drag its
whole batch storage into each sample), and a shard set is written into a temporary folder that
is renamed into place only when complete.
"""

from __future__ import annotations

import io
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


def _decode(sample: dict, spec: dict[str, tuple], dtypes: dict[str, str], where: str):
    """Return (arrays, None) for a sample that matches `spec` and `dtypes`, else (None, why)."""
    arrays = {}
    for key, shape in spec.items():
        raw = sample.get(f"{key}.npy")
        if raw is None:
            has = sorted(k for k in sample if k[0] != "_")
            return None, f"{where}: missing key '{key}' (has {has})"
        try:
            a = np.load(io.BytesIO(raw), allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            return None, f"{where}: key '{key}' is not a readable .npy array ({e})"
        if len(a.shape) != len(shape) or any(
            s is not None and s != g for s, g in zip(shape, a.shape)
        ):
            return None, f"{where}: key '{key}' has shape {a.shape}, expected {shape}"
        if key in dtypes and a.dtype.kind not in dtypes[key]:
            kinds = "/".join(_KIND_NAMES[k] for k in dtypes[key])
            return None, f"{where}: key '{key}' has dtype {a.dtype}, expected {kinds}"
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            return None, f"{where}: key '{key}' contains NaN or Inf"
        arrays[key] = a
    return arrays, None


def _all_shards(urls):
    return urls


_KIND_NAMES = {"f": "float", "i": "int", "u": "uint", "b": "bool"}


# Every process reads every sample, in order: data-parallel ranks draw their own batches from
# the whole split (see train/loop.py), so webdataset must not split shards by node or worker.
_EVERY_SAMPLE = dict(
    shardshuffle=False, empty_check=False, nodesplitter=_all_shards, workersplitter=_all_shards
)


def tar_samples(path):
    """The raw samples of one shard, in order, in every process (no node or worker split)."""
    return wds.WebDataset(str(path), **_EVERY_SAMPLE)


class _BadSample(Exception):
    """A sample that fails its checks (kept apart from the tar reader's own ValueErrors)."""


def read_shards(
    shard_dir, spec: dict[str, tuple], on_bad_sample: str = "error", dtypes: dict | None = None
):
    """Load every sample of a shard set into stacked arrays, in key order.

    `spec` maps key -> expected shape (None = any size); `dtypes` maps key -> allowed numpy
    dtype kinds ("f", "iu", ...). A truncated or corrupted shard, a missing key, an unreadable
    array, a wrong shape or dtype, or a NaN raises ValueError naming the shard, sample and key.
    With on_bad_sample="skip" the bad sample (or the unreadable rest of a corrupted shard) is
    left out, counted and logged. Returns (arrays, n_skipped).
    """
    if on_bad_sample not in ("error", "skip"):
        raise ValueError(f"on_bad_sample must be 'error' or 'skip', got {on_bad_sample!r}")
    rows: dict[str, list] = {k: [] for k in spec}
    skipped = 0
    for path in shard_paths(shard_dir):
        last_key = None
        try:
            for sample in tar_samples(path):
                last_key = sample.get("__key__")
                arrays, problem = _decode(sample, spec, dtypes or {}, f"{path} sample {last_key}")
                if problem and on_bad_sample == "error":
                    raise _BadSample(problem)
                if problem:
                    log.warning("skipping bad sample: %s", problem)
                    skipped += 1
                    continue
                for k in spec:
                    rows[k].append(arrays[k])
        except _BadSample as e:
            raise ValueError(str(e)) from None
        except (tarfile.TarError, OSError, EOFError, ValueError) as e:
            after = f"after sample {last_key}" if last_key else "before its first sample"
            problem = f"{path}: corrupted or truncated shard, unreadable {after} ({e!r})"
            if on_bad_sample == "error":
                raise ValueError(problem) from e
            log.warning("skipping the rest of a shard: %s", problem)
            skipped += 1
    if not rows[next(iter(spec))]:
        raise ValueError(f"{shard_dir}: no valid samples")
    return {k: np.stack(v) for k, v in rows.items()}, skipped
