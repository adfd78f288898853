"""The teacher, whatever its backbone: built from `teacher` config, reloaded from its checkpoint.

`teacher.backbone` picks the class: `transformer` (SequenceTransformer, the default) or `wan`
(WanDenoiser, the diffusers WanTransformer3DModel; video only). Both take the same call,
f(z [B,L,D], positions, τ, cond, step) -> x̂, and expose `x_dim`, `config["n_steps"]` (shortcut
step sizes) and `n_tokens(L, cond_dim)`. The checkpoint's metadata records the backbone name
and its constructor arguments, so `load_teacher` rebuilds the right class from the file alone.
"""

from __future__ import annotations

from torch import nn

from interdiff_core.diffusion.flow import step_levels
from interdiff_core.io import build_model, load_checkpoint
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.models.wan_backbone import WanDenoiser

BACKBONES = {"transformer": SequenceTransformer, "wan": WanDenoiser}


def make_teacher(cfg: dict, cond_dim: int, T: int, x_dim: int, latent_shape=None) -> nn.Module:
    """cfg: the `teacher` section; latent_shape (C, h, w) of a frame, needed by `wan`."""
    n_steps = len(step_levels(cfg["k_max"]))
    backbone = cfg.get("backbone", "transformer")
    if backbone == "transformer":
        return SequenceTransformer(x_dim, cond_dim, max_len=T, n_steps=n_steps, **cfg["model"])
    if backbone != "wan":
        raise ValueError(f"teacher.backbone must be one of {sorted(BACKBONES)}, got {backbone!r}")
    if cfg.get("model", {}).get("persistence"):
        raise ValueError("teacher.model.persistence: a transformer option, not one of 'wan'")
    if latent_shape is None:
        raise ValueError("teacher.backbone = 'wan' needs latent frames [C, h, w] (video data)")
    wan = cfg["wan"]
    model = WanDenoiser(
        latent_shape,
        n_steps,
        wan_config=wan.get("config"),
        pretrained_path=wan.get("pretrained_path"),
        lora_rank=wan["lora_rank"],
        lora_alpha=wan.get("lora_alpha"),
        attention=wan["attention"],
        cond_text_dim=cfg.get("model", {}).get("cond_text_dim"),
        cond_frames=cfg.get("model", {}).get("cond_frames", 0),
    )
    if model.config["cond_text_dim"] is None and cond_dim % model.text_dim:
        raise ValueError(
            f"teacher.wan: text_dim {model.text_dim} must divide the conditioning width "
            f"{cond_dim} (tokenize.text.dim + one latent frame), which becomes text tokens"
        )
    return model


def backbone_name(model: nn.Module) -> str:
    return next(name for name, cls in BACKBONES.items() if type(model) is cls)


def load_teacher(path, device: str = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild a teacher checkpoint (eval mode) with the class its metadata names."""
    state, _, meta = load_checkpoint(path)
    name = meta.get("backbone", "transformer")  # checkpoints from before the option
    if name not in BACKBONES:
        raise ValueError(f"{path}: unknown teacher backbone {name!r} in checkpoint metadata")
    return build_model(BACKBONES[name], state, meta, path, device), meta
