"""Run one stage function in N data-parallel processes, through torchrun.

`run_stage` is what a training rule's script calls: with nproc = 1 it calls the stage function
here; with nproc > 1 it starts `python -m torch.distributed.run --standalone` over this module,
whose `main` calls the same function in every process (the training loop joins the process
group; see interdiff_core/train/loop.py). Rank 0 logs to the rule's log, the others to stderr.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

from interdiff_core.runtime import setup


def _die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies. torchrun starts its workers
    in a session of their own, so without this a worker whose launcher was killed (kill -9,
    scancel) would train on, and write, beside the rerun."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _stage_function(stage: str):
    return getattr(importlib.import_module(f"interdiff_core.stages.{stage}"), stage)


def is_main_process() -> bool:
    """True outside torchrun and on rank 0: the process that writes outputs."""
    return int(os.environ.get("RANK", "0")) == 0


def run_stage(stage: str, kwargs: dict, nproc: int = 1, log_path=None, threads: int = 1) -> None:
    if nproc <= 1:
        _stage_function(stage)(**kwargs)
        return
    job = {"stage": stage, "kwargs": kwargs, "log_path": log_path, "threads": threads}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "interdiff_core.distributed",
        json.dumps(job),
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run(cmd, env=env, preexec_fn=_die_with_parent)
    if done.returncode != 0:
        raise RuntimeError(
            f"{stage}: {nproc} data-parallel processes failed (exit {done.returncode}); "
            f"see {log_path or 'stderr'}"
        )


def main(argv: list[str]) -> None:
    _die_with_parent()
    job = json.loads(argv[0])
    log_path = job["log_path"] if is_main_process() else None
    setup(log_path, job["threads"], append=True)
    try:
        _stage_function(job["stage"])(**job["kwargs"])
    finally:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
