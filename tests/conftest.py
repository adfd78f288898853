"""Shared fixtures: a private copy of the workflow for tests that run snakemake."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(workdir))
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
        *args,
    ]
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
