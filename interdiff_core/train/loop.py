"""The one training loop: AdamW, resumable checkpoints, NaN guard, tqdm, TensorBoard.

A stage supplies a model and `loss_fn(model, gen) -> loss`, where `gen` is the loop's seeded
torch.Generator (all batch and noise sampling must draw from it); a loss_fn with a `step`
parameter also gets the optimizer step (alternating batch lengths are a function of it).
Checkpoints hold the model, the optimizer state, the generator state and the loss history, so a
run killed at any point resumes where its last checkpoint left it and, on CPU, ends
bit-identical to an uninterrupted run. A finished run keeps its last checkpoint (step = steps):
rerun with the same config and code after its model was lost, it writes the model again without
training; another config or code starts over.

Devices: `device` is "cpu" or "cuda" (`run.device`). The loop moves the model there for
training and back to where it came from at the end; a loss_fn builds its batch on the CPU from
`gen` (which stays on the CPU, so a CUDA run draws exactly the batches and noise a CPU run draws)
and moves it to the model's device (`on_model_device`).

Data parallel: started by torchrun (WORLD_SIZE > 1), the loop joins the process group (NCCL on
CUDA, one GPU per process by LOCAL_RANK; gloo on CPU), wraps the model in
DistributedDataParallel and offsets each rank's generator seed, so every rank draws its own
batches (`batch_size` is per rank); the logged loss is the mean over ranks. Rank 0 alone writes
checkpoints, TensorBoard and the model.
"""

from __future__ import annotations

import inspect
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from interdiff_core.io import load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)
CKPT_GLOB = "ckpt-*.safetensors"
RANK_SEED_STRIDE = 1_000_003  # rank r draws from seed + r * stride; rank 0 = single process


def training_device(device: str) -> torch.device:
    """The torch device of `run.device` for this process: under torchrun, CUDA process r trains
    on GPU LOCAL_RANK = r of the GPUs the job sees."""
    if device == "cpu":
        return torch.device("cpu")
    if device != "cuda":
        raise ValueError(f"run.device: expected 'cpu' or 'cuda', got {device!r}")
    if not torch.cuda.is_available():
        raise RuntimeError(
            "run.device is 'cuda' but this job sees no CUDA device "
            "(torch.cuda.is_available() is False); use run.device: cpu, or give the job a GPU"
        )
    local, count = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
    if local >= count:
        raise RuntimeError(
            f"run.device is 'cuda': data-parallel process {local} needs GPU {local}, but this job "
            f"sees {count}; give the rule at least nproc GPUs (run.slurm.gpus)"
        )
    torch.cuda.set_device(local)
    return torch.device("cuda", local)


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def on_model_device(model: torch.nn.Module, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """A batch built on the CPU, moved to the device the model trains on."""
    device = model_device(model)
    return tuple(t.to(device) for t in tensors)


def step_loss(loss_fn: Callable) -> Callable[[torch.nn.Module, torch.Generator, int], torch.Tensor]:
    """`loss_fn` as f(model, gen, step): the step is passed only to a loss_fn that takes it."""
    if "step" in inspect.signature(loss_fn).parameters:
        return lambda model, gen, step: loss_fn(model, gen, step=step)
    return lambda model, gen, step: loss_fn(model, gen)


def _join_process_group(device: torch.device) -> tuple[int, int]:
    """(rank, world size); joins torch.distributed when launched by torchrun with >1 process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        cuda = device.type == "cuda"
        dist.init_process_group("nccl" if cuda else "gloo", device_id=device if cuda else None)
    rank, world = dist.get_rank(), dist.get_world_size()
    log.info("rank %d of %d on %s, backend %s", rank, world, device, dist.get_backend())
    return rank, world


def _mean_over_ranks(value: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        torch.distributed.all_reduce(value)
        value = value / world
    return value


def _rng_states(gen: torch.Generator, world: int, device: torch.device) -> torch.Tensor:
    """This rank's generator state, or every rank's stacked [world, n] under data parallel
    (gathered through `device`: NCCL moves only CUDA tensors)."""
    state = gen.get_state()
    if world == 1:
        return state
    state = state.to(device)
    states = [torch.empty_like(state) for _ in range(world)]
    torch.distributed.all_gather(states, state)
    return torch.stack(states).cpu()


def _barrier(world: int) -> None:
    if world > 1:
        torch.distributed.barrier()


def _optim_tensors(opt: torch.optim.Optimizer) -> tuple[dict, list]:
    sd = opt.state_dict()
    flat = {f"optim.{i}.{k}": v for i, st in sd["state"].items() for k, v in st.items()}
    return flat, sd["param_groups"]


def _restore_optim(opt: torch.optim.Optimizer, extra: dict, groups: list) -> None:
    state: dict[int, dict] = {}
    for key, v in extra.items():
        if key.startswith("optim."):
            _, i, name = key.split(".", 2)
            state.setdefault(int(i), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": groups})


def latest_checkpoint(ckpt_dir: Path) -> Path | None:
    found = sorted(ckpt_dir.glob(CKPT_GLOB))
    return found[-1] if found else None


def train(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, torch.Generator], torch.Tensor],
    cfg: dict,
    meta: dict,
    seed: int,
    ckpt_dir,
    out_path,
    *,
    weight_decay: float = 0.0,
    grad_clip: float = 1.0,
    warmup: int = 50,
    device: str = "cpu",
) -> list[float]:
    """Train cfg["steps"] optimizer steps at cfg["lr"] on `device`, checkpointing every
    cfg["checkpoint_every"], and write the final checkpoint to `out_path`. `meta` (JSON, kept
    in every checkpoint) names the stage in meta["stage"]."""
    stage = meta["stage"]
    steps, lr, checkpoint_every = cfg["steps"], cfg["lr"], cfg["checkpoint_every"]
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    home, target = model_device(model), training_device(device)
    model.to(target)
    rank, world = _join_process_group(target)
    # stages seed before building their model (initial weights follow the seed); this seeds
    # any global draw during training alike on every rank
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + RANK_SEED_STRIDE * rank)
    if rank == 0:
        for stale in ckpt_dir.glob(".ckpt-*.tmp"):  # left by a job killed while writing
            stale.unlink(missing_ok=True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    def lr_factor(s: int) -> float:  # linear warm-up, cosine decay
        return min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / steps))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    history: list[float] = []
    start = 0
    resume = latest_checkpoint(ckpt_dir)
    if resume is not None:
        state, extra, m = load_checkpoint(resume)
        same_run = {k: m.get(k) for k in meta} == meta and m.get("total_steps") == steps
        if not same_run or m.get("world_size", 1) != world:
            # another config, code or process count: resuming would mix two runs
            log.warning("%s: %s is from another config or code; starting over", stage, resume)
            _barrier(world)  # every rank has read it before rank 0 deletes it
            for old in ckpt_dir.glob(CKPT_GLOB) if rank == 0 else ():
                old.unlink()
            resume = None
    if resume is not None:
        model.load_state_dict(state)
        _restore_optim(opt, extra, m["param_groups"])
        # a row of the stacked states is a view at an offset: set_state needs its own storage
        gen.set_state(extra["rng"] if world == 1 else extra["rng"][rank].clone())
        history = extra["loss_history"].tolist()
        start = m["step"]
        sched.last_epoch = start
        for group in opt.param_groups:
            group["lr"] = group["initial_lr"] * lr_factor(start)
        done = " (training had finished: writing its model)" if start == steps else ""
        log.info("%s: resumed from %s at step %d%s", stage, resume, start, done)

    from torch.utils.tensorboard import SummaryWriter  # slow import; only when training

    writer = SummaryWriter(str(ckpt_dir / "tb"), purge_step=start) if rank == 0 else None
    last_good = resume
    dist_info = {"world_size": world} if world > 1 else {}

    def checkpoint(step: int, path: Path) -> None:
        flat, groups = _optim_tensors(opt)
        extra = {"rng": _rng_states(gen, world, target), "loss_history": torch.tensor(history)}
        info = dict(meta, stage=stage, step=step, total_steps=steps, param_groups=groups)
        if rank == 0:
            save_checkpoint(path, model, info | dist_info, {**flat, **extra})

    loss_at = step_loss(loss_fn)
    model.train()
    forward = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        ids = [target.index] if target.type == "cuda" else None
        forward = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)
    bar = tqdm(
        range(start, steps),
        desc=stage,
        initial=start,
        total=steps,
        mininterval=2.0,
        disable=rank != 0,
    )
    for step in bar:
        loss = loss_at(forward, gen, step)
        value = _mean_over_ranks(loss.detach().clone(), world)
        if not torch.isfinite(value):  # the mean: every rank stops at the same step
            raise FloatingPointError(
                f"{stage}: loss is {value.item()} at step {step}; stopping. "
                f"Last good checkpoint: {last_good or 'none (no checkpoint written yet)'}"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        sched.step()
        history.append(value.item())
        if writer is not None:
            writer.add_scalar(f"{stage}/loss", history[-1], step)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{history[-1]:.4g}")
        # the last step's checkpoint is kept after the model is written: Snakemake sent SIGINT
        # while the job runs may let it finish yet record the model incomplete and delete it;
        # the rerun resumes there and trains no step
        if (step + 1) % checkpoint_every == 0 or step + 1 == steps:
            last_good = ckpt_dir / f"ckpt-{step + 1:08d}.safetensors"
            checkpoint(step + 1, last_good)
            recent = history[-checkpoint_every:]
            log.info("%s: step %d, mean loss %.5g", stage, step + 1, sum(recent) / len(recent))
            for old in sorted(ckpt_dir.glob(CKPT_GLOB))[:-2] if rank == 0 else ():
                old.unlink()
    if writer is not None:
        writer.close()
    model.eval().to(home)
    if rank == 0:
        final_meta = dict(meta, stage=stage, step=steps, total_steps=steps) | dist_info
        save_checkpoint(out_path, model, final_meta, {"loss_history": torch.tensor(history)})
        for done in sorted(ckpt_dir.glob(CKPT_GLOB))[:-1]:  # all but the finished run's
            done.unlink()
    _barrier(world)
    log.info(
        "%s: done, final loss %.5g, wrote %s",
        stage,
        history[-1] if history else float("nan"),
        out_path,
    )
    return history
