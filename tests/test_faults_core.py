"""Faults in the core: kill -9 mid-training and mid-checkpoint, NaN/Inf losses, bad shards."""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO, write_maze_shards
from toy_training import CHECKPOINT_EVERY, STEPS, toy_training

from interdiff_core.data.maze_dataset import load_split
from interdiff_core.data.shards import read_shards, shard_paths, write_shards
from interdiff_core.io import load_checkpoint
from interdiff_core.stages.train_teacher import train_teacher
from interdiff_core.train.loop import CKPT_GLOB

TOY = [sys.executable, str(Path(__file__).with_name("toy_training.py"))]
ENV = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")


def _checkpoints(root: Path) -> list[Path]:
    return sorted((root / "ckpt").glob(CKPT_GLOB))


def test_kill_9_mid_training_then_rerun_continues_and_ends_identical(tmp_path):
    clean = toy_training(tmp_path / "clean")
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*TOY, str(killed), "--slow"], env=ENV, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(_checkpoints(killed)) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "training finished before it could be killed"
    assert not (killed / "model.safetensors").exists()
    last = _checkpoints(killed)[-1]
    _, _, meta = load_checkpoint(last)
    step_at_kill = meta["step"]
    assert 0 < step_at_kill < STEPS and step_at_kill % CHECKPOINT_EVERY == 0

    done = subprocess.run([*TOY, str(killed)], env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"resumed from {last} at step {step_at_kill}" in done.stderr
    state, extra, meta = load_checkpoint(killed / "model.safetensors")
    clean_state, clean_extra, _ = load_checkpoint(tmp_path / "clean" / "model.safetensors")
    assert meta["step"] == STEPS and len(extra["loss_history"]) == STEPS == len(clean)
    for k in clean_state:
        torch.testing.assert_close(state[k], clean_state[k], rtol=0, atol=0)
    torch.testing.assert_close(extra["loss_history"], clean_extra["loss_history"], rtol=0, atol=0)


def test_kill_9_while_writing_a_checkpoint_leaves_no_finished_looking_file(tmp_path):
    died = subprocess.run([*TOY, str(tmp_path), "--die-in-checkpoint-write"], env=ENV)
    assert died.returncode == -signal.SIGKILL
    left = [p.name for p in (tmp_path / "ckpt").iterdir() if p.is_file()]
    assert _checkpoints(tmp_path) == [] and not (tmp_path / "model.safetensors").exists()
    assert len(left) == 1 and left[0].startswith(".ckpt-") and left[0].endswith(".tmp"), left
    # the complete-but-unrenamed file is ignored, cleaned up, and the rerun starts from step 0
    done = subprocess.run([*TOY, str(tmp_path)], env=ENV, capture_output=True, text=True)
    assert done.returncode == 0 and "resumed" not in done.stderr, done.stderr
    assert [p.name for p in (tmp_path / "ckpt").iterdir() if p.is_file()] == [
        f"ckpt-{STEPS:08d}.safetensors"  # the finished run's only (test_train_loop)
    ]
    _, extra, _ = load_checkpoint(tmp_path / "model.safetensors")
    assert len(extra["loss_history"]) == STEPS


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf_loss_stops_naming_stage_and_step_and_keeps_last_good_checkpoint(tmp_path, bad):
    at_call = 2 * CHECKPOINT_EVERY + 5  # step index 24
    with pytest.raises(FloatingPointError, match=r"toy: loss is (nan|inf) at step 24.*ckpt-0+20"):
        toy_training(tmp_path, nan_at=at_call, value=bad)
    assert [p.name for p in _checkpoints(tmp_path)] == [
        "ckpt-00000010.safetensors",
        "ckpt-00000020.safetensors",
    ]
    _, _, meta = load_checkpoint(_checkpoints(tmp_path)[-1])
    assert meta["step"] == 20
    assert not (tmp_path / "model.safetensors").exists()


# ---- bad shards: error naming shard, sample and key; or skipped and counted


SPEC = {"pos": (4, 2), "label": ()}
DTYPES = {"pos": "f", "label": "iu"}


def _arrays(n):
    rng = np.random.default_rng(0)
    return {"pos": rng.random((n, 4, 2)).astype(np.float32), "label": np.arange(n)}


def _write(tmp_path, arrays, shard_size=10):
    return write_shards(tmp_path / "s", arrays, shard_size)


def test_truncated_shard_names_the_shard_or_skips_its_tail(tmp_path):
    _write(tmp_path, _arrays(20))
    bad = shard_paths(tmp_path / "s")[1]
    bad.write_bytes(bad.read_bytes()[:6000])
    with pytest.raises(ValueError, match="shard-000001.tar: corrupted or truncated.*after sample"):
        read_shards(tmp_path / "s", SPEC)
    back, skipped = read_shards(tmp_path / "s", SPEC, on_bad_sample="skip")
    assert skipped == 1 and list(back["label"][:10]) == list(range(10))


def test_corrupted_array_bytes_name_shard_sample_and_key(tmp_path):
    path = _write(tmp_path, _arrays(6))[0]
    data = bytearray(path.read_bytes())
    magic = [i for i in range(len(data)) if data.startswith(b"\x93NUMPY", i)]
    data[magic[2] : magic[2] + 16] = b"#" * 16  # the third array: sample 1's 'label' or 'pos'
    path.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match="shard-000000.tar sample 00000001: key '(pos|label)' is not"
    ):
        read_shards(tmp_path / "s", SPEC)
    back, skipped = read_shards(tmp_path / "s", SPEC, on_bad_sample="skip")
    assert skipped == 1 and list(back["label"]) == [0, 2, 3, 4, 5]


def test_corrupted_tar_header_names_the_shard(tmp_path):
    path = _write(tmp_path, _arrays(6))[0]
    data = bytearray(path.read_bytes())
    data[1024 + 148 : 1024 + 156] = b"\x00" * 8  # the second member's header checksum
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="shard-000000.tar: corrupted or truncated"):
        read_shards(tmp_path / "s", SPEC)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a: a["pos"].__setitem__((2, 0, 0), np.nan), "key 'pos' contains NaN or Inf"),
        (lambda a: a["pos"].__setitem__((2, 1, 1), np.inf), "key 'pos' contains NaN or Inf"),
        (lambda a: a.update(pos=a["pos"][:, :3]), r"key 'pos' has shape \(3, 2\), expected"),
        (lambda a: a.update(label=a["label"] + 0.5), "key 'label' has dtype float64, expected"),
        (lambda a: a.update(pos=(a["pos"] > 0.5)), "key 'pos' has dtype bool, expected float"),
        (lambda a: a.pop("label"), "missing key 'label'"),
    ],
)
def test_bad_sample_is_named_or_skipped_and_counted(tmp_path, edit, message):
    good, bad = _arrays(6), _arrays(6)
    edit(bad)
    _write(tmp_path, good, shard_size=3)
    # replace the second shard with the edited data: a shard whose samples all fail
    bad_dir = tmp_path / "bad"
    write_shards(bad_dir, {k: v[3:] for k, v in bad.items()}, shard_size=3)
    os.replace(shard_paths(bad_dir)[0], shard_paths(tmp_path / "s")[1])
    one_bad = "NaN" in message and "pos" in message  # only sample 2 (shard 0) edited
    if one_bad:
        _write(tmp_path, bad, shard_size=3)
    with pytest.raises(ValueError, match=f"shard-00000[01].tar sample 0000000[0-9]: {message}"):
        read_shards(tmp_path / "s", SPEC, dtypes=DTYPES)
    back, skipped = read_shards(tmp_path / "s", SPEC, on_bad_sample="skip", dtypes=DTYPES)
    assert skipped == (1 if one_bad else 3)
    assert len(back["label"]) == 6 - skipped


def test_skip_reaches_the_stage_log_and_checkpoint_meta(tmp_path, caplog):
    arrays = write_maze_shards(tmp_path / "train", n=24, T=8)
    arrays["state"][5, 3] = np.nan
    write_shards(tmp_path / "train", arrays, shard_size=12)
    with pytest.raises(ValueError, match="shard-000000.tar sample 00000005: key 'state' contains"):
        load_split(tmp_path / "train")
    cfg = {
        "model": {"d_model": 8, "n_layers": 1, "n_heads": 2},
        "steps": 2,
        "batch_size": 4,
        "lr": 1e-3,
        "k_max": 2,
        "diffusion_forcing": True,
        "checkpoint_every": 2,
    }
    out = tmp_path / "teacher.safetensors"
    with caplog.at_level(logging.WARNING):
        train_teacher(tmp_path / "train", out, tmp_path / "ckpt", cfg, 0, on_bad_sample="skip")
    assert "sample 00000005: key 'state' contains NaN" in caplog.text
    assert "skipped 1 bad samples (data.on_bad_sample = skip)" in caplog.text
    _, _, meta = load_checkpoint(out)
    assert meta["skipped_samples"] == 1
