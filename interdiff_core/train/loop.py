"""The one training loop: AdamW, resumable checkpoints, NaN guard, tqdm, TensorBoard.

A stage supplies a model and `loss_fn(model, gen) -> loss`, where `gen` is the loop's seeded
torch.Generator (all batch and noise sampling must draw from it); a loss_fn with a `step`
parameter also gets the optimizer step (alternating batch lengths are a function of it).
Checkpoints hold the model, the optimizer state, the generator state and the loss history, so a
run killed at any point resumes where its last checkpoint left it and, on CPU, ends bit-identical
to an uninterrupted run.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from interdiff_core.io import load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)
CKPT_GLOB = "ckpt-*.safetensors"


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
) -> list[float]:
    """Train cfg["steps"] optimizer steps at cfg["lr"], checkpointing every
    cfg["checkpoint_every"], and write the final checkpoint to `out_path`. `meta` (JSON, kept
    in every checkpoint) names the stage in meta["stage"]."""
    stage = meta["stage"]
    steps, lr, checkpoint_every = cfg["steps"], cfg["lr"], cfg["checkpoint_every"]
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    def lr_factor(s: int) -> float:  # linear warm-up, cosine decay
        return min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / steps))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    history: list[float] = []
    start = 0
    resume = latest_checkpoint(ckpt_dir)
    if resume is not None:
        state, extra, m = load_checkpoint(resume)
        if {k: m.get(k) for k in meta} != meta or m.get("total_steps") != steps:
            # another config or code: resuming would mix two runs
            log.warning("%s: %s is from another config or code; starting over", stage, resume)
            for old in ckpt_dir.glob(CKPT_GLOB):
                old.unlink()
            resume = None
    if resume is not None:
        model.load_state_dict(state)
        _restore_optim(opt, extra, m["param_groups"])
        gen.set_state(extra["rng"])
        history = extra["loss_history"].tolist()
        start = m["step"]
        sched.last_epoch = start
        for group in opt.param_groups:
            group["lr"] = group["initial_lr"] * lr_factor(start)
        log.info("%s: resumed from %s at step %d", stage, resume, start)

    from torch.utils.tensorboard import SummaryWriter  # slow import; only when training

    writer = SummaryWriter(str(ckpt_dir / "tb"), purge_step=start)
    last_good = resume

    def checkpoint(step: int, path: Path) -> None:
        flat, groups = _optim_tensors(opt)
        extra = {"rng": gen.get_state(), "loss_history": torch.tensor(history)}
        info = dict(meta, stage=stage, step=step, total_steps=steps, param_groups=groups)
        save_checkpoint(path, model, info, {**flat, **extra})

    takes_step = "step" in inspect.signature(loss_fn).parameters
    model.train()
    bar = tqdm(range(start, steps), desc=stage, initial=start, total=steps, mininterval=2.0)
    for step in bar:
        loss = loss_fn(model, gen, step=step) if takes_step else loss_fn(model, gen)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"{stage}: loss is {loss.item()} at step {step}; stopping. "
                f"Last good checkpoint: {last_good or 'none (no checkpoint written yet)'}"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        sched.step()
        history.append(loss.item())
        writer.add_scalar(f"{stage}/loss", history[-1], step)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{history[-1]:.4g}")
        if (step + 1) % checkpoint_every == 0 and step + 1 < steps:
            last_good = ckpt_dir / f"ckpt-{step + 1:08d}.safetensors"
            checkpoint(step + 1, last_good)
            recent = history[-checkpoint_every:]
            log.info("%s: step %d, mean loss %.5g", stage, step + 1, sum(recent) / len(recent))
            for old in sorted(ckpt_dir.glob(CKPT_GLOB))[:-2]:
                old.unlink()
    writer.close()
    model.eval()
    final_meta = dict(meta, stage=stage, step=steps, total_steps=steps)
    save_checkpoint(out_path, model, final_meta, {"loss_history": torch.tensor(history)})
    for done in ckpt_dir.glob(CKPT_GLOB):  # the final model supersedes them
        done.unlink()
    log.info(
        "%s: done, final loss %.5g, wrote %s",
        stage,
        history[-1] if history else float("nan"),
        out_path,
    )
    return history
