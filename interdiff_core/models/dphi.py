"""D_phi: predicts segment costs cost(i, j) from the conditioning alone, for the keyframe DP.

Predicted costs are positive by construction, `scale · exp(y)`, so a keyframe set's cost
is a sum of positive segment costs, as the DP needs; adjacent keyframes (no interior frame)
cost exactly 0. The DP adds costs, so what it needs is each segment's conditional mean cost
(by linearity of expectation, the DP over conditional means minimises the expected true cost),
accurate for cheap segments as well as dear ones. A log-space fit alone estimates a geometric
mean, biased low on the long, variable segments, which the DP then picks; a fit in the cost's
own scale alone ignores the cheap segments the DP chooses between. `dphi_loss` combines, with
the weights of `dphi.loss`:
- mse: squared error of cost / scale (scale = the mean target cost): the cost's own scale;
- log: squared error of log(cost / scale + floor): relative accuracy across magnitudes;
- rank: within a sample, a logistic loss on every pair of segments ordered by their targets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

FLOOR = 1e-3  # of the scale: the log term's floor


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
        """cond [B,C], seg [B,S,2] -> predicted costs [B,S], positive."""
        i, j = seg[..., 0], seg[..., 1]
        f = torch.stack([i, j, j - i], -1).float() / (self.T - 1)
        h = self.cond(cond)[:, None] + self.left(i) + self.right(j) + self.feat(f)
        return self.scale * torch.exp(self.head(h).squeeze(-1).clamp(-30, 30))

    @torch.no_grad()
    def cost_matrix(self, cond: torch.Tensor) -> torch.Tensor:
        """[B, T, T] predicted costs for all i < j (+inf below the diagonal, 0 for j = i+1)."""
        B, T = cond.shape[0], self.T
        ii, jj = torch.triu_indices(T, T, 2)
        seg = torch.stack([ii, jj], -1)[None].expand(B, -1, -1)
        out = torch.full((B, T, T), float("inf"), device=cond.device)
        out[:, ii, jj] = self(cond, seg.to(cond.device))
        k = torch.arange(T - 1)
        out[:, k, k + 1] = 0.0
        return out


@torch.no_grad()
def dphi_nested(dphi, cond: torch.Tensor, levels: list[int], chunk: int = 256) -> list:
    """Nested DP keyframes over D_phi's predicted costs, `[N, K_s]` per level."""
    from interdiff_core.selection.dp import dp_select_levels

    parts = [dp_select_levels(dphi.cost_matrix(cond[s : s + chunk]), levels)
             for s in range(0, len(cond), chunk)]  # fmt: skip
    return [torch.cat([p[lvl] for p in parts]) for lvl in range(len(levels))]


LOSS_TERMS = ("mse", "log", "rank")


def dphi_loss(pred: torch.Tensor, target: torch.Tensor, weights: dict, scale: float):
    """Weighted sum of the `LOSS_TERMS` for predicted and target costs [B, S] (one row per
    sample, S segments each)."""
    unknown = set(weights) - set(LOSS_TERMS)
    if unknown:
        raise ValueError(f"dphi.loss: unknown terms {sorted(unknown)}; known: {LOSS_TERMS}")
    total = pred.new_zeros(())
    if weights.get("mse", 0):
        total = total + weights["mse"] * (((pred - target) / scale) ** 2).mean()
    if weights.get("log", 0):
        err = torch.log(pred / scale + FLOOR) - torch.log(target / scale + FLOOR)
        total = total + weights["log"] * (err**2).mean()
    if weights.get("rank", 0):
        lp = torch.log(pred / scale + FLOOR)
        order = torch.sign(target[:, :, None] - target[:, None, :])  # [B,S,S]: +1 if s > t
        pair = F.softplus(-order * (lp[:, :, None] - lp[:, None, :]))
        total = total + weights["rank"] * (pair * order.abs()).sum() / order.abs().sum().clamp_min(
            1
        )
    return total
