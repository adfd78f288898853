"""The micro pipeline through profiles/slurm on a real one-node SLURM cluster on localhost.

Opt-in (CI sets it): INTERDIFF_TEST_SLURM=1, as root. tests/slurm/start_local_slurm.sh installs
Debian's slurm-wlm and munge if needed and starts the daemons. To stay within minutes it runs
the DAG up to teacher_precompute (prepare_data, tokenize, train_teacher, teacher_precompute),
each job submitted with sbatch through the executor plugin."""

import os
import subprocess
import time

import pytest
import yaml
from conftest import REPO, snakemake

from interdiff_core.cluster import slurm_resources
from interdiff_core.io import load_checkpoint

opt_in = pytest.mark.skipif(
    os.environ.get("INTERDIFF_TEST_SLURM") != "1", reason="set INTERDIFF_TEST_SLURM=1"
)
TARGET = "results/micro/base/seed0/cache/teacher_predictions.safetensors"
RULES = {"prepare_data", "tokenize", "train_teacher", "teacher_precompute"}


def test_rules_ask_for_partition_account_and_gpus_from_the_config():
    run = {"slurm": {"partition": "gpu", "account": "lab", "gpus": 1}}
    assert slurm_resources(run) == {"slurm_partition": "gpu", "slurm_account": "lab"}
    assert slurm_resources(run, {"nproc": 4})["gpu"] == 4  # one GPU per process at least
    assert slurm_resources(run, {})["gpu"] == 1
    threads = slurm_resources(dict(run, threads=3), {"nproc": 2})["cpus_per_task"]
    assert threads == 6  # every data-parallel process runs run.threads threads
    assert "cpus_per_task" not in slurm_resources(dict(run, threads=3), {"nproc": 1})
    assert slurm_resources({"slurm": {"partition": "", "account": "", "gpus": 0}}, {}) == {}
    assert slurm_resources({}) == {}  # no run.slurm: SLURM's defaults


@opt_in
@pytest.mark.workflow
def test_micro_pipeline_runs_through_the_slurm_profile(workflow_copy):
    start = REPO / "tests" / "slurm" / "start_local_slurm.sh"
    subprocess.run(["bash", str(start)], check=True, capture_output=True)
    cfg = yaml.safe_load((workflow_copy / "micro.yaml").read_text())
    cfg["run"]["slurm"] = {"partition": "debug", "account": "", "gpus": 0}
    cfg["run"]["threads"] = 1
    (workflow_copy / "micro.yaml").write_text(yaml.safe_dump(cfg))

    t0 = time.time()
    out = snakemake(
        workflow_copy,
        "--workflow-profile",
        "profiles/slurm",  # after conftest's "none": the last one counts
        "--jobs",
        "2",
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--latency-wait",
        "5",
        "--verbose",
        TARGET,  # after a flag: --configfile before would swallow it
    )
    print(f"SLURM micro run: {time.time() - t0:.0f} s")
    text = out.stdout + out.stderr
    calls = [line for line in text.splitlines() if "sbatch call:" in line]
    submitted = {rule for rule in RULES if any(f"rule_{rule}" in c for c in calls)}
    assert submitted == RULES, calls
    assert all("-p debug" in c for c in calls), calls  # run.slurm.partition reached sbatch
    _, extra, meta = load_checkpoint(
        workflow_copy / "results/micro/base/seed0/models/teacher.safetensors"
    )
    assert meta["step"] == cfg["teacher"]["steps"] == len(extra["loss_history"])
    assert (workflow_copy / TARGET).exists()
