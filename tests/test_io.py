"""Atomic writes, tensor files, checkpoints and webdataset shards."""

import numpy as np
import pytest
import torch

from interdiff_core.data.shards import read_shards, write_shards
from interdiff_core.io import (
    atomic_path,
    load_checkpoint,
    load_model,
    load_tensors,
    save_checkpoint,
    save_tensors,
    warm_start,
)
from interdiff_core.models.transformer import SequenceTransformer

SPEC = {"pos": (4, 2), "label": ()}


def test_atomic_path_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_the_old_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"new")
            raise RuntimeError
    assert target.read_bytes() == b"old"


def test_saved_views_do_not_drag_their_storage(tmp_path):
    big = torch.randn(1000, 100)
    save_tensors(tmp_path / "a.safetensors", {"row": big[3]})
    assert (tmp_path / "a.safetensors").stat().st_size < 2000


def test_load_tensors_names_file_and_key(tmp_path):
    path = tmp_path / "t.safetensors"
    save_tensors(path, {"x": torch.zeros(3, 2), "bad": torch.tensor([float("nan")])})
    with pytest.raises(KeyError, match="t.safetensors.*'y'"):
        load_tensors(path, {"y": (3,)})
    with pytest.raises(ValueError, match="'x' has shape \\(3, 2\\), expected \\(4, 2\\)"):
        load_tensors(path, {"x": (4, 2)})
    with pytest.raises(ValueError, match="'bad' contains NaN"):
        load_tensors(path, {"bad": (1,)})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_tensors(path)


def test_checkpoint_round_trip_rebuilds_the_model(tmp_path):
    model = SequenceTransformer(2, 6, d_model=16, n_layers=1, n_heads=2, max_len=8)
    save_checkpoint(tmp_path / "m.safetensors", model, {"model_config": model.config, "step": 3})
    state, extra, meta = load_checkpoint(tmp_path / "m.safetensors")
    assert meta["step"] == 3 and extra == {}
    again, _ = load_model(SequenceTransformer, tmp_path / "m.safetensors")
    for k, v in model.state_dict().items():
        torch.testing.assert_close(again.state_dict()[k], v)


def test_warm_start_copies_the_weights_that_fit_and_names_the_rest(tmp_path):
    torch.manual_seed(0)
    teacher = SequenceTransformer(2, 6, d_model=16, n_layers=1, n_heads=2, max_len=8, n_steps=7)
    save_checkpoint(tmp_path / "t.safetensors", teacher, {"model_config": teacher.config})
    torch.manual_seed(1)
    phase2 = SequenceTransformer(2, 6, d_model=16, n_layers=1, n_heads=2, max_len=8, n_levels=3)
    fresh = warm_start(phase2, tmp_path / "t.safetensors", "phase2.init")
    assert fresh == ["level_emb.weight", "step_emb.weight"]  # 3 levels / 8 steps: other shapes
    for k, v in phase2.state_dict().items():
        same = torch.equal(v, teacher.state_dict()[k])
        assert same == (k not in fresh), k
    other = SequenceTransformer(3, 5, d_model=8, n_layers=1, n_heads=2, max_len=4)
    with pytest.raises(ValueError, match="phase1.init: .*t.safetensors shares no weight"):
        warm_start(other, tmp_path / "t.safetensors", "phase1.init")


def _arrays(n):
    rng = np.random.default_rng(0)
    return {"pos": rng.random((n, 4, 2)).astype(np.float32), "label": np.arange(n)}


def test_shards_round_trip_in_key_order(tmp_path):
    arrays = _arrays(25)
    paths = write_shards(tmp_path / "s", arrays, shard_size=10)
    assert [p.name for p in paths] == [f"shard-{i:06d}.tar" for i in range(3)]
    back, skipped = read_shards(tmp_path / "s", SPEC)
    assert skipped == 0
    np.testing.assert_array_equal(back["label"], arrays["label"])
    np.testing.assert_array_equal(back["pos"], arrays["pos"])


def test_shards_are_byte_identical_for_the_same_data(tmp_path):
    a = write_shards(tmp_path / "a", _arrays(5), 10)[0].read_bytes()
    b = write_shards(tmp_path / "b", _arrays(5), 10)[0].read_bytes()
    assert a == b
