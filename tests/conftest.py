"""Shared fixtures: a private copy of the workflow for tests that run snakemake."""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = [
    "Snakefile",
    "config.yaml",
    "config.schema.yaml",
    "rules",
    "workflow_scripts",
    "interdiff_core",
    "profiles",
    "envs",
]


def layered_config(*overlays: str) -> dict:
    """config.yaml with each overlay (a path under the repository) merged over it, as
    `--configfile config.yaml <overlay> ...` merges them (nested sections key by key), with
    the Snakefile's check of the layers."""
    from interdiff_core.variants import check_config_layers

    return check_config_layers([str(REPO / name) for name in ("config.yaml", *overlays)])


def copy_workflow(dest: Path, config: str = "micro_config.yaml") -> Path:
    """Copy the workflow and core into `dest`, so a test may edit code without touching the repo
    (PYTHONPATH points the jobs at the copied core); tests/`config` becomes micro.yaml."""
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    shutil.copy(REPO / "tests" / config, dest / "micro.yaml")
    return dest


def edit_config(wd: Path, section: str, key: str, value) -> None:
    """Set one field of the copied micro config."""
    cfg = yaml.safe_load((wd / "micro.yaml").read_text())
    cfg[section][key] = value
    (wd / "micro.yaml").write_text(yaml.safe_dump(cfg))


def write_maze_shards(shard_dir: Path, n: int = 24, T: int = 8, G: int = 6) -> dict:
    """Shards in the tokenized maze2d format (constant-velocity lines in an empty room); returns
    the arrays written, for tests that edit and rewrite them."""
    from interdiff_core.data.shards import write_shards

    rng = np.random.default_rng(0)
    start, goal = rng.random((n, 1, 2)), rng.random((n, 1, 2))
    pos = start + (goal - start) * np.linspace(0, 1, T)[None, :, None]
    vel = np.broadcast_to((goal - start) / 2.0, pos.shape)
    state = np.concatenate([pos, vel], axis=-1).astype(np.float32)
    arrays = {
        "state": state,
        "occ": np.zeros((n, G, G), np.float32),
        "sdf": np.ones((n, G, G), np.float32),
        "start_goal": np.concatenate([state[:, 0], state[:, -1, :2]], axis=1),
        "maze_id": np.zeros(n, np.int64),
        "plan_dt": np.full(n, 0.04, np.float32),
    }
    write_shards(shard_dir, arrays, shard_size=max(1, n // 2))
    return arrays


def snakemake_cmd(*args: str) -> list[str]:
    """The command line of a snakemake run on the copied micro config."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--workflow-profile",
        "none",
        "--cores",
        "2",
        "--configfile",
        "micro.yaml",
        *args,
    ]


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(workdir))
    cmd = snakemake_cmd(*args)
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out


def planned_jobs(out: subprocess.CompletedProcess) -> set[str]:
    """Rule names in the 'Job stats' table of a dry run."""
    lines = (out.stdout + out.stderr).splitlines()
    if not any(line.startswith("Job stats") for line in lines):
        return set()
    start = next(i for i, line in enumerate(lines) if line.startswith("Job stats"))
    jobs = set()
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs.add(parts[0])
    return jobs


@pytest.fixture
def workflow_copy(tmp_path):
    return copy_workflow(tmp_path)


@pytest.fixture(scope="session")
def finished(tmp_path_factory):
    """One micro run of the whole DAG, shared by the tests that read it, dry-run it or edit and
    restore it."""
    wd = copy_workflow(tmp_path_factory.mktemp("micro"))
    snakemake(wd)
    return wd


def run_on_meta(model, loss_fn, steps: int = 4) -> None:
    """What the training loop does each step (forward, backward) with the model on the meta
    device, which refuses CPU tensors as CUDA does: a stand-in for a GPU in device tests."""
    model.to("meta").train()
    from interdiff_core.train.loop import step_loss

    gen, loss_at = torch.Generator().manual_seed(0), step_loss(loss_fn)
    for step in range(steps):
        loss = loss_at(model, gen, step)
        assert loss.device.type == "meta" and loss.dim() == 0
        loss.backward()


class TrainedOnMeta(Exception):
    """Raised in place of training, once the stage's loss ran on the meta device."""


def stage_on_meta(stage: str, *args) -> None:
    """Run a training stage's set-up on real inputs, then its loss on the meta device."""
    module = importlib.import_module(f"interdiff_core.stages.{stage}")

    def on_meta(model, loss_fn, *_, **__):
        run_on_meta(model, loss_fn)
        raise TrainedOnMeta

    real = module.train
    module.train = on_meta
    try:
        with pytest.raises(TrainedOnMeta):
            getattr(module, stage)(*args)
    finally:
        module.train = real


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Work units for `pytest -n 2 --dist loadgroup` (the README's command): a file's tests go to
    one worker, as with loadfile, so they share its fixtures; except that every test reading the
    shared micro run (`finished`) joins one unit, so the whole micro DAG is built once, not once
    per file that reads it."""
    for item in items:
        group = "micro_dag" if "finished" in item.fixturenames else item.path.name
        item.add_marker(pytest.mark.xdist_group(group))
