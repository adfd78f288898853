"""Cluster resources a rule asks for, from the config (`run.slurm`), for Snakemake's SLURM
executor: partition and account for every rule; GPUs for training rules, one per data-parallel
process at least, and CPUs for all their processes (each runs `run.threads` threads). Plain
values: locally Snakemake ignores what no executor reads."""

from __future__ import annotations


def slurm_resources(run_cfg: dict, train_cfg: dict | None = None) -> dict:
    slurm = run_cfg.get("slurm", {})
    out = {}
    if slurm.get("partition"):
        out["slurm_partition"] = slurm["partition"]
    if slurm.get("account"):
        out["slurm_account"] = slurm["account"]
    nproc = 1 if train_cfg is None else train_cfg.get("nproc", 1)
    if nproc > 1:
        out["cpus_per_task"] = nproc * run_cfg.get("threads", 1)
    gpus = slurm.get("gpus", 0)
    if train_cfg is not None and gpus > 0:
        out["gpu"] = max(gpus, nproc)
    return out
