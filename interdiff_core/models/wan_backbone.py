"""The diffusers WanTransformer3DModel as a teacher backbone, behind the SequenceTransformer call.

Built from a config dict (tiny on CPU, in tests) or loaded from a local pretrained folder (never
a hub id). Fine-tuned fully or through LoRA adapters (peft) on the attention projections.
Attention runs through torch SDPA ("sdpa") or xformers ("xformers", CUDA only); "auto" takes
xformers where it is installed and a GPU is present.

The call matches the teacher's: f(z [B,L,C·h·w], positions [B,L], τ [B,L], cond, step) -> x̂.
Wan predicts a flow velocity v = ε − x at timestep 1000·σ with z = (1 − σ)·x + σ·ε; here
σ = 1 − τ per frame (per-token timesteps), and x̂ = z − σ·v, so a pretrained Wan's
parameterisation carries over. The shortcut step size becomes one learned token appended to
the text tokens. Wan's rotary positions are relative over the frames it is given, so the
frames must be contiguous (a window of a clip), which is what the teacher and rollout feed it.

Conditioning as Wan expects it (`cond_text_dim` set, the video default): the flat conditioning
is the prompt's token sequence [L, cond_text_dim] and `cond_frames` latent frames. The prompt
tokens are Wan's `encoder_hidden_states` (projected to its text_dim when the widths differ);
the frame is cut into Wan's spatial patches and given as image conditioning: through Wan's
image cross-attention (`encoder_hidden_states_image`) when its config has `image_dim` (the I2V
layout: set image_dim and added_kv_proj_dim), else as extra tokens after the text. Without
`cond_text_dim`, a [B, L, text_dim] cond is taken as the text tokens as it is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def attention_backend(choice: str) -> str:
    """'sdpa' | 'xformers' | 'auto' -> the diffusers backend name."""
    has_xformers = importlib.util.find_spec("xformers") is not None
    if choice == "auto":
        return "xformers" if has_xformers and torch.cuda.is_available() else "native"
    if choice == "sdpa":
        return "native"
    if choice == "xformers":
        if not has_xformers:
            raise ValueError(
                "teacher.wan.attention = 'xformers' but xformers is not installed "
                "(pip install .[gpu]; its kernels need CUDA)"
            )
        return "xformers"
    raise ValueError(f"teacher.wan.attention must be 'sdpa', 'xformers' or 'auto', got {choice!r}")


def _proj(d_in: int, d_out: int) -> nn.Module:
    return nn.Identity() if d_in == d_out else nn.Linear(d_in, d_out)


class WanDenoiser(nn.Module):
    def __init__(
        self,
        latent_shape: list[int],
        n_steps: int,
        wan_config: dict | None = None,
        pretrained_path: str | None = None,
        lora_rank: int = 0,
        lora_alpha: float | None = None,
        attention: str = "sdpa",
        cond_text_dim: int | None = None,
        cond_frames: int = 0,
    ):
        """latent_shape (C, h, w); n_steps shortcut step sizes; exactly one of wan_config
        (WanTransformer3DModel kwargs) and pretrained_path; lora_rank 0 = full fine-tuning;
        cond_text_dim / cond_frames: the conditioning layout (prompt tokens, then frames)."""
        super().__init__()
        from diffusers import WanTransformer3DModel

        self.config = dict(
            latent_shape=list(latent_shape),
            n_steps=n_steps,
            wan_config=wan_config,
            pretrained_path=pretrained_path,
            lora_rank=lora_rank,
            lora_alpha=lora_alpha,
            attention=attention,
            cond_text_dim=cond_text_dim,
            cond_frames=cond_frames,
        )
        if (wan_config is None) == (pretrained_path is None):
            raise ValueError("teacher.wan: give exactly one of 'config' and 'pretrained_path'")
        if pretrained_path is not None:
            if not Path(pretrained_path, "config.json").is_file():
                raise FileNotFoundError(
                    f"teacher.wan.pretrained_path: {pretrained_path} has no config.json (a local "
                    "diffusers WanTransformer3DModel folder is expected; nothing is downloaded)"
                )
            self.wan = WanTransformer3DModel.from_pretrained(pretrained_path, local_files_only=True)
            # checkpoints hold every weight: rebuilt from the architecture alone, they reload
            # without the pretrained folder (the teacher config in the meta keeps the path)
            arch = {k: v for k, v in self.wan.config.items() if not k.startswith("_")}
            self.config.update(wan_config=arch, pretrained_path=None)
        else:
            self.wan = WanTransformer3DModel(**wan_config)
        cfg = self.wan.config
        C = latent_shape[0]
        if cfg.in_channels != C or cfg.out_channels != C:
            raise ValueError(
                f"teacher.wan: in/out_channels ({cfg.in_channels}, {cfg.out_channels}) must equal "
                f"the latent channels {C}"
            )
        if cfg.patch_size[0] != 1:
            raise ValueError(
                f"teacher.wan: patch_size[0] must be 1 (per-frame τ), got {cfg.patch_size}"
            )
        self.text_dim = cfg.text_dim
        self.x_dim = C * latent_shape[1] * latent_shape[2]
        self.step_token = nn.Embedding(n_steps, cfg.text_dim)
        nn.init.normal_(self.step_token.weight, std=0.02)
        p_h, p_w = cfg.patch_size[1:]
        self.patch_dim = C * p_h * p_w
        self.image_tokens = cond_frames * (latent_shape[1] // p_h) * (latent_shape[2] // p_w)
        self.image_dim = cfg.image_dim
        if cond_text_dim is not None:  # outside self.wan: trained under LoRA too
            self.text_proj = _proj(cond_text_dim, cfg.text_dim)
            self.image_proj = _proj(self.patch_dim, cfg.image_dim or cfg.text_dim)
        self.wan.set_attention_backend(attention_backend(attention))
        if lora_rank > 0:
            from peft import LoraConfig

            self.wan.add_adapter(
                LoraConfig(
                    r=lora_rank,
                    lora_alpha=lora_alpha or lora_rank,
                    init_lora_weights="gaussian",
                    target_modules=LORA_TARGETS,
                )
            )
            for name, p in self.wan.named_parameters():
                p.requires_grad_("lora_" in name)

    def split_cond(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """cond -> (encoder_hidden_states [B, n, text_dim], encoder_hidden_states_image or
        None); the image tokens join the text when the Wan has no image cross-attention."""
        B, E = cond.shape[0], self.config["cond_text_dim"]
        if E is None:
            return self._plain_text(cond), None
        C, h, w = self.config["latent_shape"]
        n_frames = self.config["cond_frames"]
        text_width = cond.shape[1] - n_frames * C * h * w
        if cond.dim() != 2 or text_width <= 0 or text_width % E:
            raise ValueError(
                f"WanDenoiser: cond {tuple(cond.shape)} is not [B, L·{E} + {n_frames}·{C * h * w}]"
                " (prompt tokens of model.cond_text_dim, then model.cond_frames frames)"
            )
        text = self.text_proj(cond[:, :text_width].view(B, -1, E))
        p_h, p_w = self.wan.config.patch_size[1:]
        frames = cond[:, text_width:].view(B * n_frames, C, h // p_h, p_h, w // p_w, p_w)
        patches = frames.permute(0, 2, 4, 1, 3, 5).reshape(B, -1, self.patch_dim)
        image = self.image_proj(patches)
        if self.image_dim:
            return text, image
        return torch.cat([text, image], dim=1), None

    def _plain_text(self, cond: torch.Tensor) -> torch.Tensor:
        if cond.dim() == 2 and cond.shape[1] % self.text_dim:
            raise ValueError(
                f"WanDenoiser: cond width {cond.shape[1]} is not a multiple of text_dim "
                f"{self.text_dim} (a flat cond becomes text tokens)"
            )
        text = cond.view(cond.shape[0], -1, self.text_dim) if cond.dim() == 2 else cond
        if text.shape[-1] != self.text_dim:
            raise ValueError(
                f"WanDenoiser: cond width {text.shape[-1]} != text_dim {self.text_dim}"
            )
        return text

    def n_tokens(self, L: int, cond_dim: int) -> int:
        """Tokens one call processes for L frames: patches, text tokens and the step token."""
        C, h, w = self.config["latent_shape"]
        p_h, p_w = self.wan.config.patch_size[1:]
        E = self.config["cond_text_dim"]
        if E is None:
            return L * (h // p_h) * (w // p_w) + cond_dim // self.text_dim + 1
        n_text = (cond_dim - self.config["cond_frames"] * C * h * w) // E
        return L * (h // p_h) * (w // p_w) + n_text + self.image_tokens + 1

    def forward(self, z, positions, tau, cond, step=None, known=None, level=None):
        if known is not None or level is not None:
            raise ValueError("WanDenoiser is a teacher backbone: it takes no known/level inputs")
        B, L, D = z.shape
        C, h, w = self.config["latent_shape"]
        if D != C * h * w:
            raise ValueError(f"WanDenoiser: frames have {D} values, latent_shape {C}x{h}x{w}")
        if L > 1 and not bool((positions.diff(dim=1) == 1).all()):
            raise ValueError(
                "WanDenoiser: frames must be contiguous (rotary positions are relative)"
            )
        text, image = self.split_cond(cond)
        step = torch.zeros(B, dtype=torch.long, device=z.device) if step is None else step
        text = torch.cat([text, self.step_token(step)[:, None]], dim=1)
        p_h, p_w = self.wan.config.patch_size[1:]
        sigma = 1 - tau  # [B, L]
        timestep = (1000 * sigma)[:, :, None].expand(B, L, (h // p_h) * (w // p_w)).flatten(1)
        video = z.view(B, L, C, h, w).transpose(1, 2)
        v = self.wan(video, timestep, text, image, return_dict=False)[0]
        v = v.transpose(1, 2).reshape(B, L, D)
        return z - sigma[..., None] * v
