"""Artifact I/O: atomic writes, tensor files and checkpoints (safetensors + JSON metadata).

Every file the workflow produces goes through `atomic_path`: it is written under a temporary
name in the same folder and renamed into place, so a killed job never leaves a file that looks
finished. Checkpoints are one format for every stage: a safetensors file whose metadata holds
JSON (config, code digest, step, anything else the stage wants to remember).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

log = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; on success rename it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; artifacts are not
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None


def save_tensors(path, tensors: dict[str, torch.Tensor], meta: dict | None = None) -> None:
    """Write named tensors (cloned and made contiguous, so no view drags its whole storage)."""
    flat = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    header = {"json": json.dumps(meta or {}, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(flat, str(tmp), metadata=header)


def load_tensors(path, expect: dict[str, tuple] | None = None) -> tuple[dict, dict]:
    """Read a tensor file; `expect` maps key -> shape (None for a free dim) and is checked."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("json", "{}"))
        tensors = load_file(str(path))
    except (SafetensorError, OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable safetensors file ({e})") from None
    for key, shape in (expect or {}).items():
        if key not in tensors:
            raise KeyError(f"{path}: missing key '{key}' (has {sorted(tensors)})")
        got = tuple(tensors[key].shape)
        if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
            raise ValueError(f"{path}: key '{key}' has shape {got}, expected {shape}")
        if tensors[key].is_floating_point() and not torch.isfinite(tensors[key]).all():
            raise ValueError(f"{path}: key '{key}' contains NaN or Inf")
    return tensors, meta


def save_checkpoint(path, model: torch.nn.Module, meta: dict, extra: dict | None = None) -> None:
    """One checkpoint format: model weights under `model.`, extra tensors as given, JSON meta."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update(extra or {})
    save_tensors(path, tensors, meta)


def load_checkpoint(path) -> tuple[dict, dict, dict]:
    """Return (model state_dict, extra tensors, meta)."""
    tensors, meta = load_tensors(path)
    state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    extra = {k: v for k, v in tensors.items() if not k.startswith("model.")}
    if not state:
        raise ValueError(f"{path}: holds no model weights (no 'model.*' keys)")
    return state, extra, meta


def load_model(cls, path, device: str = "cpu"):
    """Rebuild a model from a checkpoint whose meta holds its constructor args; eval mode."""
    state, _, meta = load_checkpoint(path)
    return build_model(cls, state, meta, path, device), meta


def build_model(cls, state: dict, meta: dict, path, device: str = "cpu"):
    """`cls(**meta["model_config"])` with the weights of `state` (read from `path`); eval mode."""
    if "model_config" not in meta:
        raise KeyError(f"{path}: checkpoint meta has no 'model_config'")
    model = cls(**meta["model_config"])
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not fit {cls.__name__}: {e}") from None
    return model.to(device).eval()


def warm_start(model: torch.nn.Module, path, field: str) -> list[str]:
    """Copy into `model` every weight of the checkpoint at `path` whose name and shape match
    (`field`: the config field that asked for it, for the error); returns the names left at
    their initialisation (for instance a level embedding the source model has fewer rows of)."""
    state, _, _ = load_checkpoint(path)
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not matched:
        raise ValueError(f"{field}: {path} shares no weight (name and shape) with the model")
    model.load_state_dict(matched, strict=False)
    fresh = sorted(set(own) - set(matched))
    log.info("%s: weights from %s; left at initialisation: %s", field, path, fresh)
    return fresh
