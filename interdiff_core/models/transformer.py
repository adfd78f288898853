"""The sequence transformer every denoiser in the system uses: teacher, phase-1 and phase-2.

Frames are tokens. Each token gets its value, its integer frame index (so neighbouring frames
are as distinct as any others — sinusoids of t/(T-1) barely separate them), its own signal
level τ (diffusion forcing), and whether it is a known frame. The conditioning (maze map and
start/goal, or a prompt embedding) becomes a few prefix tokens; the shortcut step size and the
phase-2 level are global embeddings added to every token.

Two options for wide frames (video latents), both off by default (the maze path):
- `frame_tokens` P > 1 splits each frame's x_dim values into P contiguous chunks (for a
  [C, h, w] latent flattened channel-first, P = C gives one token per channel map), each its
  own token with a chunk embedding; the output is read back per chunk. With one token per
  frame the output is a rank-d_model linear image of a d_model state: d_model = 64 for a
  256-value latent frame cannot even copy a context frame (the video rollout's failure).
- `cond_text_dim` / `cond_frames` read the conditioning vector as a prompt token sequence
  [L, cond_text_dim] (flattened) followed by `cond_frames` whole frames: each prompt token is
  projected to one prefix token, each conditioning frame is embedded by the frame tokens' own
  input projection (chunks and all) and marked as image conditioning.

`persistence` (video) adds a prior to the output: each frame's x̂ is the network's
(zero-initialised) residual plus the frame's posterior mean given the noisy tokens up to it
(`persistence_prior`, a Kalman filter; the conditioning frame starts it at position 0), under
an AR(1) model of frames (`hold`: hold the frame before) or a damped local trend (`trend`:
carry the last motion on, damped). Untrained, the model keeps a clean frame and fills a noisy one
from the frames before; the network is left to learn the motion (at the CPU video default's
budget it does not yet: bench/RESULTS_video.md). Without it, a video denoiser trained on a few
photographs must learn to copy content through attention and reproduces an unseen photograph's
last context frame ~11 dB worse than copying it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

PERSISTENCE = ("hold", "trend")  # model.persistence: the prior under each predicted frame


def sinusoidal(x: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """Sinusoidal features of a continuous scalar (e.g. τ in [0, 1]) -> [..., dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=x.device) / half)
    ang = x.float()[..., None] * scale * freqs
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


class CondEncoder(nn.Module):
    """Flat conditioning vector -> `n_tokens` prefix tokens and one pooled vector."""

    def __init__(self, cond_dim: int, d_model: int, n_tokens: int):
        super().__init__()
        self.n_tokens = n_tokens
        self.net = nn.Sequential(
            nn.Linear(cond_dim, 2 * d_model),
            nn.GELU(),
            nn.Linear(2 * d_model, (n_tokens + 1) * d_model),
        )

    def forward(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(cond).view(cond.shape[0], self.n_tokens + 1, -1)
        return out[:, :-1], out[:, -1]


class TokenCondEncoder(nn.Module):
    """Prompt tokens + conditioning frames -> prefix tokens and one pooled vector."""

    def __init__(self, cond_dim, x_dim, d_model, text_dim: int, n_frames: int, frame_tokens: int):
        super().__init__()
        text = cond_dim - n_frames * x_dim
        if text <= 0 or text % text_dim:
            raise ValueError(
                f"model.cond_text_dim = {text_dim} with model.cond_frames = {n_frames}: the "
                f"conditioning width {cond_dim} minus {n_frames} frame(s) of {x_dim} must be a "
                "positive multiple of cond_text_dim (prompt tokens, then frames)"
            )
        self.text_dim, self.n_text, self.n_frames = text_dim, text // text_dim, n_frames
        self.n_tokens = self.n_text + n_frames * frame_tokens
        self.text_proj = nn.Linear(text_dim, d_model)
        self.image_emb = nn.Parameter(torch.zeros(d_model))  # marks image-conditioning tokens
        self.pool = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU())

    def forward(self, cond: torch.Tensor, embed_frames) -> tuple[torch.Tensor, torch.Tensor]:
        B, n = cond.shape[0], self.n_text * self.text_dim
        text = self.text_proj(cond[:, :n].view(B, self.n_text, self.text_dim))
        frames = embed_frames(cond[:, n:].view(B, self.n_frames, -1)) + self.image_emb
        tokens = torch.cat([text, frames], dim=1)
        return tokens, self.pool(tokens.mean(1))


class SequenceTransformer(nn.Module):
    """Transformer over frame tokens: an x-prediction denoiser f(z, τ, step, level | cond), or,
    fed zeros, a per-frame scorer (the keyframe selector)."""

    def __init__(
        self,
        x_dim: int,
        cond_dim: int,
        d_model: int = 128,
        n_layers: int = 4,
        n_heads: int = 4,
        max_len: int = 256,
        n_cond_tokens: int = 4,
        n_steps: int = 8,
        n_levels: int = 1,
        frame_tokens: int = 1,
        cond_text_dim: int | None = None,
        cond_frames: int = 0,
        persistence: bool | str = False,
    ):
        super().__init__()
        if frame_tokens < 1 or x_dim % frame_tokens:
            raise ValueError(f"model.frame_tokens = {frame_tokens} must divide x_dim = {x_dim}")
        self.config = dict(
            x_dim=x_dim,
            cond_dim=cond_dim,
            d_model=d_model,
            n_layers=n_layers,
            n_heads=n_heads,
            max_len=max_len,
            n_cond_tokens=n_cond_tokens,
            n_steps=n_steps,
            n_levels=n_levels,
        )
        if frame_tokens > 1:  # recorded only when set: maze checkpoints keep their metadata
            self.config["frame_tokens"] = frame_tokens
        if cond_text_dim is not None:
            self.config.update(cond_text_dim=cond_text_dim, cond_frames=cond_frames)
        if persistence is True:
            persistence = "hold"
        if persistence and persistence not in PERSISTENCE:
            raise ValueError(f"model.persistence = {persistence!r}: one of {PERSISTENCE} or false")
        if persistence:  # recorded as True for hold: older checkpoints reload unchanged
            self.config["persistence"] = True if persistence == "hold" else persistence
        self.persistence = persistence or None
        self.d_model = d_model
        self.x_dim = x_dim
        self.frame_tokens = frame_tokens
        self.in_proj = nn.Linear(x_dim // frame_tokens, d_model)
        if frame_tokens > 1:
            self.chunk_emb = nn.Embedding(frame_tokens, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.tau_mlp = nn.Sequential(
            nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, d_model)
        )
        self.known_emb = nn.Embedding(2, d_model)
        self.step_emb = nn.Embedding(n_steps, d_model)
        self.level_emb = nn.Embedding(n_levels, d_model)
        if cond_text_dim is None:
            self.cond = CondEncoder(cond_dim, d_model, n_cond_tokens)
        else:
            self.cond = TokenCondEncoder(
                cond_dim, x_dim, d_model, cond_text_dim, cond_frames, frame_tokens
            )
        layer = nn.TransformerEncoderLayer(
            d_model,
            n_heads,
            4 * d_model,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.out_proj = nn.Linear(d_model, x_dim // frame_tokens)
        if persistence:  # start exactly at the prior; ρ (frame-to-frame correlation) learned
            nn.init.zeros_(self.out_proj.weight)
            nn.init.zeros_(self.out_proj.bias)
            self.persistence_logit = nn.Parameter(torch.tensor(4.0))  # ρ = 0.982
        if persistence == "trend":  # φ = 0.5: half the last motion carried on; log (q_x, q_u)
            self.trend_logit = nn.Parameter(torch.tensor(0.0))
            self.trend_log_q = nn.Parameter(torch.tensor([0.01, 0.03]).log())

    def n_tokens(self, L: int, cond_dim: int) -> int:
        """Tokens one call processes for L frames: the frames and the conditioning prefix."""
        return L * self.frame_tokens + self.cond.n_tokens

    def embed_frames(self, x: torch.Tensor) -> torch.Tensor:
        """[B, L, x_dim] -> [B, L, frame_tokens, d_model]: each chunk projected, chunk-marked."""
        h = self.in_proj(x.view(*x.shape[:2], self.frame_tokens, -1))
        return h + self.chunk_emb.weight if self.frame_tokens > 1 else h

    def forward(
        self,
        z: torch.Tensor,
        positions: torch.Tensor,
        tau: torch.Tensor,
        cond: torch.Tensor,
        step: torch.Tensor | None = None,
        known: torch.Tensor | None = None,
        level: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """z [B,L,x_dim], positions [B,L] long, tau [B,L], cond [B,cond_dim];
        step [B] long (log2 of the step count), known [B,L] bool, level [B] long."""
        B, L, _ = z.shape
        zeros = torch.zeros(B, dtype=torch.long, device=z.device)
        if isinstance(self.cond, TokenCondEncoder):
            cond_tokens, pooled = self.cond(cond, lambda f: self.embed_frames(f).flatten(1, 2))
        else:
            cond_tokens, pooled = self.cond(cond)
        glob = pooled + self.step_emb(zeros if step is None else step)
        glob = glob + self.level_emb(zeros if level is None else level)
        known = torch.zeros_like(positions) if known is None else known.long()
        per_frame = (
            self.pos_emb(positions)
            + self.tau_mlp(sinusoidal(tau, self.d_model))
            + self.known_emb(known)
            + glob[:, None]
        )
        h = (self.embed_frames(z) + per_frame[:, :, None]).flatten(1, 2)
        h = self.blocks(torch.cat([cond_tokens, h], dim=1))[:, cond_tokens.shape[1] :]
        x_hat = self.out_proj(self.norm(h)).reshape(B, L, self.x_dim)
        if self.persistence:
            x_hat = x_hat + persistence_prior(
                z, tau, positions, self._first_cond_frame(cond), *self.prior_parameters()
            )
        return x_hat

    def prior_parameters(self) -> tuple[torch.Tensor, ...]:
        """(ρ,) for the hold prior, (ρ, φ, (q_x, q_u)) for the trend prior."""
        rho = torch.sigmoid(self.persistence_logit)
        if self.persistence == "hold":
            return (rho,)
        return rho, torch.sigmoid(self.trend_logit), self.trend_log_q.exp()

    def _first_cond_frame(self, cond: torch.Tensor) -> torch.Tensor | None:
        if not isinstance(self.cond, TokenCondEncoder) or self.cond.n_frames == 0:
            return None
        n = self.cond.n_text * self.cond.text_dim
        return cond[:, n : n + self.x_dim]


def persistence_prior(
    z: torch.Tensor,
    tau: torch.Tensor,
    positions: torch.Tensor,
    first: torch.Tensor | None,
    rho: torch.Tensor,
    phi: torch.Tensor | None = None,
    q: torch.Tensor | None = None,
) -> torch.Tensor:
    """E[x_i | z_0..z_i] for every token i, a Kalman filter along the tokens; each token
    observes z = τ·x + (1 − τ)·ε. Every latent value follows the same linear Gaussian model.

    Without `phi` (hold, AR(1) of standardised frames): x at position p + Δ is ρ^Δ·x_p +
    √(1 − ρ^2Δ)·η. With `phi` and `q` = (q_x, q_u) (trend): a damped local trend, per frame
    x' = ρ·x + u + w_x, u' = φ·u + w_u (w ~ N(0, q)), so a clean context extrapolates its last
    motion, damped by φ (u starts from its stationary law at the first frame).
    The first token's prior is `first` [B, D] carried from position 0 (the clip's first frame,
    given), else N(0, 1). A clean token (τ = 1) is its own estimate; a pure-noise one (τ = 0)
    gets the prediction from the tokens before it."""
    B, L, D = z.shape
    one, zero = torch.ones_like(rho), torch.zeros_like(rho)
    if phi is None:  # hold: the trend model with no velocity
        phi, q = zero, torch.stack([1 - rho**2, zero])
    F = torch.stack([torch.stack([rho, one]), torch.stack([zero, phi])])
    Qdiag = torch.diag(q)
    pos = positions.long()
    # F^Δ and the noise Σ_j F^j Q F^jᵀ accumulated over Δ frames, for every gap Δ that occurs
    Fs, Qs = [torch.eye(2).to(F)], [torch.zeros(2, 2).to(F)]
    for _ in range(int(pos.max()) if pos.numel() else 0):
        Qs.append(F @ Qs[-1] @ F.T + Qdiag)
        Fs.append(F @ Fs[-1])
    Fs, Qs = torch.stack(Fs), torch.stack(Qs)
    var_u = q[1] / (1 - phi**2).clamp_min(1e-6)
    m = torch.zeros(B, 2, D, dtype=z.dtype, device=z.device)
    if first is None:
        P = torch.diag(torch.stack([one, var_u])).expand(B, 2, 2)
        gap = torch.zeros_like(pos[:, 0])
    else:
        m[:, 0] = first
        P = torch.diag(torch.stack([zero, var_u])).expand(B, 2, 2)
        gap = pos[:, 0]
    t = tau.to(z.dtype)
    out = []
    for i in range(L):
        if i:
            gap = (pos[:, i] - pos[:, i - 1]).clamp_min(0)
        Fg = Fs[gap]
        m, P = Fg @ m, Fg @ P @ Fg.transpose(1, 2) + Qs[gap]
        ti = t[:, i, None]
        gain = P[:, :, 0] * ti / (ti**2 * P[:, 0, :1] + (1 - ti) ** 2).clamp_min(1e-8)  # [B, 2]
        m = m + gain[:, :, None] * (z[:, i] - ti * m[:, 0])[:, None]
        P = P - gain[:, :, None] * ti[:, :, None] * P[:, :1, :]
        out.append(m[:, 0])
    return torch.stack(out, 1)
