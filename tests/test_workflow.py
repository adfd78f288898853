"""Snakemake on the micro config: the whole DAG, caching, per-stage reruns, determinism,
kill and resume."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, planned_jobs, snakemake

from interdiff_core.io import load_checkpoint

pytestmark = pytest.mark.workflow
PHASE2_AND_AFTER = {"train_phase2", "sample", "metrics", "plots", "all"}
METHODS = {"teacher", "untrained", "straight_line", "interp_only", "two_phase"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One micro run of the whole DAG, shared by the tests that only read or dry-run it."""
    wd = copy_workflow(tmp_path_factory.mktemp("micro"))
    snakemake(wd)
    return wd


def _edit_config(wd, section, key, value):
    cfg = yaml.safe_load((wd / "micro.yaml").read_text())
    cfg[section][key] = value
    (wd / "micro.yaml").write_text(yaml.safe_dump(cfg))


def test_whole_dag_produces_metrics_plots_and_logs(finished):
    res = finished / "results" / "micro"
    table = pd.read_csv(res / "eval" / "metrics.csv")
    assert set(table.method) == METHODS
    assert table[["collision_rate", "goal_distance", "mse", "smoothness"]].notna().all().all()
    assert (table[table.method == "teacher"].nfe == table[table.method == "teacher"].steps).all()
    selector = pd.read_csv(res / "eval" / "selector.csv")
    assert set(selector.method) == {"selector", "uniform", "best_fixed"}
    for name in ("frontier", "trajectories", "keyframes", "losses"):
        assert (res / "plots" / f"{name}.png").stat().st_size > 1000
    for rule in ("prepare_data", "train_teacher", "train_phase2", "sample", "metrics"):
        assert (res / "logs" / f"{rule}.log").exists()
    _, extra, meta = load_checkpoint(res / "models" / "phase2.safetensors")
    assert meta["stage"] == "train_phase2" and len(meta["code"]) == 16
    assert meta["step"] == meta["config"]["steps"] == len(extra["loss_history"])
    assert list((res / "checkpoints" / "teacher" / "tb").iterdir())  # TensorBoard scalars
    assert not list(res.rglob("*.tmp"))


def test_second_run_has_nothing_to_do(finished):
    out = snakemake(finished, "-n")
    assert planned_jobs(out) == set(), out.stdout


def test_a_phase2_value_reruns_only_phase2_and_after(finished):
    _edit_config(finished, "phase2", "anchor_prob", 0.25)
    try:
        assert planned_jobs(snakemake(finished, "-n")) == PHASE2_AND_AFTER
    finally:
        _edit_config(finished, "phase2", "anchor_prob", 0.5)
    assert planned_jobs(snakemake(finished, "-n")) == set()


def test_a_key_reorder_changes_nothing(finished):
    cfg = yaml.safe_load((finished / "micro.yaml").read_text())
    reordered = {k: cfg[k] for k in reversed(list(cfg))}
    (finished / "micro.yaml").write_text(yaml.safe_dump(reordered, sort_keys=False))
    assert planned_jobs(snakemake(finished, "-n")) == set()


def test_editing_phase2_code_reruns_only_phase2_and_after(finished):
    src = finished / "interdiff_core" / "stages" / "train_phase2.py"
    original = src.read_text()
    src.write_text(original + "\n# an edit\n")
    try:
        assert planned_jobs(snakemake(finished, "-n")) == PHASE2_AND_AFTER
    finally:
        src.write_text(original)


def test_same_config_and_seed_give_the_same_metrics(finished, tmp_path):
    again = copy_workflow(tmp_path)
    snakemake(again, "--until", "metrics")
    a = pd.read_csv(finished / "results" / "micro" / "eval" / "metrics.csv")
    b = pd.read_csv(again / "results" / "micro" / "eval" / "metrics.csv")
    timing = ["seconds_per_sample"]
    pd.testing.assert_frame_equal(a.drop(columns=timing), b.drop(columns=timing))


def test_kill_9_during_training_then_rerun_resumes(workflow_copy):
    wd = workflow_copy
    _edit_config(wd, "teacher", "steps", 400)
    _edit_config(wd, "teacher", "checkpoint_every", 20)
    ckpts = wd / "results" / "micro" / "checkpoints" / "teacher"
    env = dict(os.environ, PYTHONPATH=str(wd))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--workflow-profile",
        "none",
        "--cores",
        "2",
        "--configfile",
        "micro.yaml",
        "--until",
        "train_teacher",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=wd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while not list(ckpts.glob("ckpt-*.safetensors")) and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(ckpts.glob("ckpt-*.safetensors")), "no checkpoint appeared before the kill"
    assert not (wd / "results" / "micro" / "models" / "teacher.safetensors").exists()
    snakemake(wd, "--unlock")  # the killed snakemake left its lock behind, as after any kill -9
    snakemake(wd, "--until", "train_teacher", "--rerun-incomplete")
    log = (wd / "results" / "micro" / "logs" / "train_teacher.log").read_text()
    assert "resumed from" in log
    _, extra, meta = load_checkpoint(wd / "results" / "micro" / "models" / "teacher.safetensors")
    assert meta["step"] == 400 and len(extra["loss_history"]) == 400
