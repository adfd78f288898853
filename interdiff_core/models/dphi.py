"""D_phi: predicts segment costs cost(i, j) from the conditioning alone.

It works in a normalised log space (costs span orders of magnitude and are ≥ 0):
y = log(cost / scale + floor). `cost_matrix` returns the full upper triangle for the DP,
with adjacent keyframes (no interior frame) costing exactly 0.
"""

from __future__ import annotations

import torch
from torch import nn

FLOOR = 1e-3


class SegmentCostPredictor(nn.Module):
    def __init__(self, cond_dim: int, T: int, d_model: int = 128, scale: float = 1.0):
        super().__init__()
        self.config = dict(cond_dim=cond_dim, T=T, d_model=d_model, scale=scale)
        self.T = T
        self.scale = scale
        self.cond = nn.Sequential(
            nn.Linear(cond_dim, d_model), nn.GELU(), nn.Linear(d_model, d_model)
        )
        self.left = nn.Embedding(T, d_model)  # integer frame positions of the two ends
        self.right = nn.Embedding(T, d_model)
        self.feat = nn.Linear(3, d_model)  # left end, right end, gap; each / (T − 1)
        self.head = nn.Sequential(
            nn.GELU(), nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 1)
        )

    def forward(self, cond: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        """cond [B,C], seg [B,S,2] -> predicted y (normalised log cost) [B,S]."""
        i, j = seg[..., 0], seg[..., 1]
        f = torch.stack([i, j, j - i], -1).float() / (self.T - 1)
        h = self.cond(cond)[:, None] + self.left(i) + self.right(j) + self.feat(f)
        return self.head(h).squeeze(-1)

    def to_log_target(self, cost: torch.Tensor) -> torch.Tensor:
        return torch.log(cost / self.scale + FLOOR)

    def to_cost(self, y: torch.Tensor) -> torch.Tensor:
        return self.scale * (torch.exp(y) - FLOOR).clamp_min(0)

    @torch.no_grad()
    def cost_matrix(self, cond: torch.Tensor) -> torch.Tensor:
        """[B, T, T] predicted costs for all i < j (+inf below the diagonal, 0 for j = i+1)."""
        B, T = cond.shape[0], self.T
        ii, jj = torch.triu_indices(T, T, 2)
        seg = torch.stack([ii, jj], -1)[None].expand(B, -1, -1)
        out = torch.full((B, T, T), float("inf"))
        out[:, ii, jj] = self.to_cost(self(cond, seg))
        k = torch.arange(T - 1)
        out[:, k, k + 1] = 0.0
        return out
