"""Cluster resources a rule asks for, from the config (`run.slurm`), for Snakemake's SLURM
executor: partition and account for every rule; GPUs for training rules, one per data-parallel
process at least. Plain values: locally Snakemake ignores what no executor reads."""

from __future__ import annotations


def slurm_resources(run_cfg: dict, train_cfg: dict | None = None) -> dict:
    slurm = run_cfg.get("slurm", {})
    out = {}
    if slurm.get("partition"):
        out["slurm_partition"] = slurm["partition"]
    if slurm.get("account"):
        out["slurm_account"] = slurm["account"]
    gpus = slurm.get("gpus", 0)
    if train_cfg is not None and gpus > 0:
        out["gpu"] = max(gpus, train_cfg.get("nproc", 1))
    return out
