"""Data-parallel training: `teacher.nproc: 2` on CPU runs two torchrun processes over gloo; the
loss curve has the single-process shape, only rank 0 writes files, and a kill -9 of the launcher
takes its workers down and the rerun resumes to the uninterrupted result."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from conftest import REPO, write_maze_shards

from interdiff_core.distributed import run_stage
from interdiff_core.io import load_checkpoint

CFG = {
    "model": {"d_model": 16, "n_layers": 1, "n_heads": 2},
    "steps": 60,
    "batch_size": 8,
    "lr": 1e-3,
    "k_max": 4,
    "diffusion_forcing": True,
    "checkpoint_every": 20,
}

# Loaded by every Python process started with this folder first on PYTHONPATH (torchrun's
# workers too): records which rank writes each tensor file.
RECORD_WRITES = """
import os
import interdiff_core.io as io

_save = io.save_tensors

def save_tensors(path, *args, **kwargs):
    with open(os.environ["INTERDIFF_TEST_WRITES"], "a") as f:
        f.write(f"{os.environ.get('RANK', 'none')} {os.path.basename(path)}\\n")
    return _save(path, *args, **kwargs)

io.save_tensors = save_tensors
"""


def _train(tmp_path, nproc):
    run = tmp_path / f"nproc{nproc}"
    args = dict(
        train_dir=str(tmp_path / "shards"),
        out_path=str(run / "teacher.safetensors"),
        ckpt_dir=str(run / "ckpt"),
        cfg=dict(CFG, nproc=nproc),
        seed=0,
    )
    torch.manual_seed(0)  # as runtime.setup seeds every job (and each torchrun worker)
    run_stage("train_teacher", args, nproc, str(run / "train_teacher.log"), threads=1)
    _, extra, meta = load_checkpoint(run / "teacher.safetensors")
    return extra["loss_history"], meta


def test_two_processes_on_gloo_train_like_one_and_only_rank_0_writes(tmp_path, monkeypatch):
    write_maze_shards(tmp_path / "shards", n=64, T=16)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent(RECORD_WRITES))
    writes = tmp_path / "writes.txt"
    monkeypatch.setenv("PYTHONPATH", f"{hook}{os.pathsep}{REPO}")
    monkeypatch.setenv("INTERDIFF_TEST_WRITES", str(writes))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")

    single, single_meta = _train(tmp_path, 1)
    ddp, ddp_meta = _train(tmp_path, 2)

    assert len(single) == len(ddp) == CFG["steps"]
    assert ddp_meta["world_size"] == 2 and "world_size" not in single_meta
    first, last = single[:10].mean().item(), single[-10:].mean().item()
    ddp_first, ddp_last = ddp[:10].mean().item(), ddp[-10:].mean().item()
    print(f"single: {first:.4f} -> {last:.4f}; 2 ranks: {ddp_first:.4f} -> {ddp_last:.4f}")
    assert last < 0.75 * first and ddp_last < 0.75 * ddp_first  # both learn
    assert ddp_last == pytest.approx(last, rel=0.5)  # the same curve, up to batch noise
    assert not (ddp == single).all()  # rank 1 drew its own batches: the mean differs

    lines = writes.read_text().split("\n")[:-1]
    by_rank = {}
    for line in lines:
        rank, name = line.split()
        by_rank.setdefault(rank, []).append(name)
    assert set(by_rank) == {"0"}, by_rank  # the torchrun workers: rank 0, never rank 1
    assert by_rank["0"] == [
        "ckpt-00000020.safetensors",
        "ckpt-00000040.safetensors",
        "ckpt-00000060.safetensors",  # the finished run's, kept (test_train_loop)
        "teacher.safetensors",
    ]
    log = (tmp_path / "nproc2" / "train_teacher.log").read_text()
    assert log.count("train_teacher: done") == 1  # rank 0 alone logs to the rule's log
    assert "rank 0 of 2 on cpu, backend gloo" in log


RUN_TWO_RANKS = """
import sys, torch
from interdiff_core.distributed import run_stage
torch.manual_seed(0)
cfg = dict({cfg!r}, steps=200, nproc=2)
run_stage("train_teacher", dict(train_dir=sys.argv[1], out_path=sys.argv[2], ckpt_dir=sys.argv[3],
          cfg=cfg, seed=0), 2, sys.argv[4], threads=1)
"""


def test_kill_9_of_a_data_parallel_run_resumes_to_the_uninterrupted_result(tmp_path):
    write_maze_shards(tmp_path / "shards", n=64, T=16)
    code = RUN_TWO_RANKS.format(cfg=CFG)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")

    def cmd(name):
        run = tmp_path / name
        paths = [tmp_path / "shards", run / "teacher.safetensors", run / "ckpt", run / "log"]
        return [sys.executable, "-c", code, *map(str, paths)]

    subprocess.run(cmd("clean"), env=env, check=True, capture_output=True)
    killed = subprocess.Popen(cmd("killed"), env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    ckpts = tmp_path / "killed" / "ckpt"
    deadline = time.time() + 120
    while not list(ckpts.glob("ckpt-*.safetensors")) and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)  # the launcher; its workers die with it
    killed.wait()
    time.sleep(1)
    left = sorted(ckpts.glob("ckpt-*.safetensors"))
    assert left and not (tmp_path / "killed" / "teacher.safetensors").exists()
    step = load_checkpoint(left[-1])[2]["step"]
    assert 0 < step < 200

    subprocess.run(cmd("killed"), env=env, check=True, capture_output=True)
    assert f"at step {step}" in (tmp_path / "killed" / "log").read_text()
    a, a_extra, _ = load_checkpoint(tmp_path / "clean" / "teacher.safetensors")
    b, b_extra, _ = load_checkpoint(tmp_path / "killed" / "teacher.safetensors")
    torch.testing.assert_close(b_extra["loss_history"], a_extra["loss_history"], rtol=0, atol=0)
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=0)
