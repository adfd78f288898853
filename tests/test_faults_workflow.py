"""Faults seen through Snakemake on the micro config: kill -9 of a training job (and a second
snakemake refused meanwhile), the same config twice, bad samples skipped end to end."""

import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import copy_workflow, edit_config, snakemake, snakemake_cmd

from interdiff_core.config import canonical
from interdiff_core.data.maze_dataset import shard_spec
from interdiff_core.data.shards import read_shards, write_shards
from interdiff_core.io import load_checkpoint
from interdiff_core.stages.train_teacher import train_teacher

pytestmark = pytest.mark.workflow


def start_in_background(wd, *args) -> subprocess.Popen:
    """snakemake in its own session (killable as a group with os.killpg), output discarded."""
    return subprocess.Popen(
        snakemake_cmd(*args),
        cwd=wd,
        env=dict(os.environ, PYTHONPATH=str(wd)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_kill_9_during_training_refuses_a_second_run_then_resumes_to_the_same_model(
    workflow_copy, tmp_path
):
    wd = workflow_copy
    edit_config(wd, "teacher", "steps", 150)
    edit_config(wd, "teacher", "checkpoint_every", 10)
    data = wd / "results" / "micro"
    res = data / "base" / "seed0"
    ckpts = res / "checkpoints" / "teacher"
    first = start_in_background(wd, "--until", "train_teacher")
    try:
        deadline = time.time() + 180
        while not list(ckpts.glob("ckpt-*.safetensors")) and time.time() < deadline:
            time.sleep(0.2)
        assert list(ckpts.glob("ckpt-*.safetensors")), "no checkpoint appeared"
        os.killpg(first.pid, signal.SIGSTOP)  # frozen mid-training, lock held, however fast it runs
        # a second snakemake in the same directory, while the first one runs: refused cleanly
        second = snakemake(wd, "--until", "train_teacher", check=False)
        assert second.returncode != 0
        assert "LockException" in second.stdout + second.stderr
        assert "Directory cannot be locked" in second.stdout + second.stderr
        assert first.poll() is None, "the second run must not disturb the first"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    killed_at = load_checkpoint(sorted(ckpts.glob("ckpt-*.safetensors"))[-1])[2]["step"]
    assert 0 < killed_at < 150
    assert not (res / "models" / "teacher.safetensors").exists()
    assert not [p for p in res.rglob("*.safetensors") if p.parent.name == "models"]

    snakemake(wd, "--unlock")  # a killed snakemake leaves its lock, as after any kill -9
    snakemake(wd, "--until", "train_teacher", "--rerun-incomplete")
    log = (res / "logs" / "train_teacher.log").read_text()
    assert f"at step {killed_at}" in log and "resumed from" in log
    state, extra, meta = load_checkpoint(res / "models" / "teacher.safetensors")
    assert meta["step"] == 150 and len(extra["loss_history"]) == 150

    # the same training, uninterrupted, in this process (as the rule runs it: seed, 2 threads)
    cfg = canonical(meta["config"])
    torch.manual_seed(0)
    torch.set_num_threads(2)
    try:
        out = tmp_path / "teacher.safetensors"
        train_teacher(data / "shards" / "train", out, tmp_path / "ckpt", cfg, 0)
    finally:
        torch.set_num_threads(1)
    clean_state, clean_extra, _ = load_checkpoint(out)
    torch.testing.assert_close(extra["loss_history"], clean_extra["loss_history"], rtol=0, atol=0)
    for k in clean_state:
        torch.testing.assert_close(state[k], clean_state[k], rtol=0, atol=0)


def test_a_finished_training_whose_model_snakemake_deletes_is_not_trained_again(workflow_copy):
    """`kill -INT` to Snakemake alone while a training job runs: depending on where the interrupt
    lands, Snakemake either goes on, or waits for the job, which finishes, and records its model
    incomplete; the rerun deletes that model. Forcing the rule deletes it the same way, and the
    rerun must write it again from the finished run's checkpoint, not train from step 0."""
    wd = workflow_copy
    res = wd / "results" / "micro" / "base" / "seed0"
    model = res / "models" / "teacher.safetensors"
    snakemake(wd, "--until", "train_teacher")
    state, extra, meta = load_checkpoint(model)
    kept = [p.name for p in (res / "checkpoints" / "teacher").glob("ckpt-*.safetensors")]
    assert kept == [f"ckpt-{meta['step']:08d}.safetensors"]

    snakemake(wd, "--until", "train_teacher", "--forcerun", "train_teacher")
    log = (res / "logs" / "train_teacher.log").read_text()
    assert f"at step {meta['step']} (training had finished" in log, log
    again, again_extra, _ = load_checkpoint(model)
    torch.testing.assert_close(again_extra["loss_history"], extra["loss_history"], rtol=0, atol=0)
    for k in state:
        torch.testing.assert_close(again[k], state[k], rtol=0, atol=0)


def test_same_config_and_seed_give_a_byte_identical_metrics_csv(finished, tmp_path):
    again = copy_workflow(tmp_path)
    snakemake(again, "--until", "metrics")
    a = finished / "results" / "micro" / "base" / "seed0" / "eval"
    b = again / "results" / "micro" / "base" / "seed0" / "eval"
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    timing = pd.read_csv(b / "timing.csv")  # wall time, which no rerun reproduces, lives apart
    assert (timing.seconds_per_sample > 0).all()


def test_skipped_test_samples_are_logged_and_counted_in_the_metrics(finished, tmp_path):
    wd = copy_workflow(tmp_path)
    shutil.copytree(finished / "results", wd / "results")
    shutil.copytree(finished / ".snakemake", wd / ".snakemake", dirs_exist_ok=True)
    res = wd / "results" / "micro" / "base" / "seed0"
    test_dir = wd / "results" / "micro" / "shards" / "test"
    arrays, _ = read_shards(test_dir, shard_spec())
    arrays["state"][3, 2] = np.nan
    old = test_dir.stat().st_mtime_ns
    write_shards(test_dir, arrays, shard_size=len(arrays["state"]))
    for path in [test_dir, *test_dir.iterdir()]:  # so that only `sample` (forced) reruns
        os.utime(path, ns=(old, old))
    # only the evaluation reruns (mtime triggers: the models stay, though params change below)
    evaluate = ("--forcerun", "sample", "--until", "metrics", "--rerun-triggers", "mtime")

    failed = snakemake(wd, *evaluate, check=False)
    assert failed.returncode != 0
    sample_log = (res / "logs" / "sample_test.log").read_text()
    assert "shard-000000.tar sample 00000003: key 'state' contains NaN or Inf" in sample_log

    edit_config(wd, "data", "on_bad_sample", "skip")
    snakemake(wd, *evaluate)
    sample_log = (res / "logs" / "sample_test.log").read_text()
    assert "sample 00000003: key 'state' contains NaN" in sample_log  # each one named
    assert "skipped 1 bad samples (data.on_bad_sample = skip)" in sample_log
    table = pd.read_csv(res / "eval" / "metrics.csv")
    test = table[table.split == "test"]
    assert (test.skipped_test == 1).all() and (table.skipped_train == 0).all()
    assert "bad samples were skipped" in (res / "logs" / "metrics.log").read_text()


def job_outputs(out: subprocess.CompletedProcess) -> dict[str, list[str]]:
    """Each planned job's declared outputs, read from a dry run's job blocks."""
    jobs, rule = {}, None
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            rule = line.split()[1][:-1]
            jobs.setdefault(rule, [])
        elif rule and line.strip().startswith("output: "):
            jobs[rule] += line.split("output: ", 1)[1].split(", ")
        elif not line.startswith(" "):
            rule = None
    return jobs


def test_kill_9_during_a_forced_retraining_then_plain_snakemake_rebuilds_the_model_and_after(
    finished, tmp_path
):
    wd = copy_workflow(tmp_path)
    shutil.copytree(finished / "results", wd / "results")
    shutil.copytree(finished / ".snakemake", wd / ".snakemake", dirs_exist_ok=True)
    model = wd / "results" / "micro" / "base" / "seed0" / "models" / "phase2.safetensors"
    plan = job_outputs(snakemake(wd, "--dry-run", "--forcerun", "train_phase2"))
    assert plan["train_phase2"] == [str(model.relative_to(wd))]
    after = [wd / f for rule, files in plan.items() if rule != "train_phase2" for f in files]
    assert {"sample", "metrics", "plots"} <= set(plan) and after

    forced = start_in_background(wd, "--forcerun", "train_phase2")
    try:
        deadline = time.time() + 180
        while model.exists() and time.time() < deadline:  # deleted as the job starts
            time.sleep(0.02)
        os.killpg(forced.pid, signal.SIGSTOP)
        assert not model.exists(), "the forced train_phase2 never started"
    finally:
        os.killpg(forced.pid, signal.SIGKILL)
        forced.wait()
    # what the kill leaves: the model gone, everything made from it still in place
    assert not model.exists() and all(p.exists() for p in after)

    snakemake(wd, "--unlock")  # a killed snakemake leaves its lock
    out = snakemake(wd)
    assert "Nothing to be done" not in out.stdout + out.stderr
    assert model.exists()
    stale = [str(p) for p in after if p.stat().st_mtime_ns < model.stat().st_mtime_ns]
    assert not stale, f"older than the rebuilt model: {stale}"
    again = snakemake(wd, "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr
