"""D_phi: predicts segment costs cost(i, j) from the conditioning alone, for the keyframe DP.

Predicted costs are positive by construction (see the two forms below), so a keyframe set's cost
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


FORMS = ("density", "pairwise", "table")


class SegmentCostPredictor(nn.Module):
    """Three forms (`dphi.model.form`):
    - density: cost(i, j) = scale · Σ_c exp(b_c) · (m_c(i, j) / (T − 1))^{p_c}, m_c(i, j) the
      mass between i and j of a positive per-step density ρ_c(cond) [T − 1], p_c ≥ 1 learned.
      Each term is superadditive (a long segment never costs less than its parts), so the DP
      cannot exploit underestimated long segments, and a constant density gives uniform
      spacing: the conditioning only moves keyframes where it predicts more cost.
    - pairwise: cost(i, j) = scale · exp(MLP(cond, i, j)), one free value per segment.
    - table: cost(i, j) = scale · exp(b_ij + MLP(cond)_ij): a two-hidden-layer MLP of the
      conditioning, standardised by the training targets' statistics (`init_from_targets`: a
      maze's constant occupancy and SDF become zeros, start and goal unit-scale), with one
      output per segment over a learned per-segment baseline (each segment's log mean cost).
      No structure imposed, so it needs targets on every segment of many sequences
      (bench/RESULTS_maze.md: D_phi's forms on held-out training windows).
    """

    def __init__(
        self,
        cond_dim: int,
        T: int,
        d_model: int = 128,
        scale: float = 1.0,
        form: str = "density",
        n_components: int = 2,
    ):
        super().__init__()
        if form not in FORMS:
            raise ValueError(f"dphi.model.form must be one of {FORMS}, got {form!r}")
        self.config = dict(
            cond_dim=cond_dim,
            T=T,
            d_model=d_model,
            scale=scale,
            form=form,
            n_components=n_components,
        )
        self.T, self.scale, self.form, self.n = T, scale, form, n_components
        if form == "table":
            self.register_buffer("cond_mean", torch.zeros(cond_dim))
            self.register_buffer("cond_std", torch.ones(cond_dim))
            ii, jj = torch.triu_indices(T, T, 2)
            index = torch.full((T, T), -1, dtype=torch.long)
            index[ii, jj] = torch.arange(len(ii))
            self.register_buffer("seg_index", index)  # (i, j) -> output column
            self.bias = nn.Parameter(torch.zeros(len(ii)))
            self.cond = nn.Sequential(
                nn.Linear(cond_dim, d_model), nn.GELU(),
                nn.Linear(d_model, d_model), nn.GELU(),
                nn.Linear(d_model, len(ii)),
            )  # fmt: skip
            nn.init.zeros_(self.cond[-1].weight)
            nn.init.zeros_(self.cond[-1].bias)
            return
        out = n_components * (T - 1) if form == "density" else d_model
        self.cond = nn.Sequential(nn.Linear(cond_dim, d_model), nn.GELU(), nn.Linear(d_model, out))
        if form == "density":
            # powers start spread over [1.3, 3.7]: noise-like and curvature-like growth
            self.p_raw = nn.Parameter(torch.linspace(-1.0, 1.5, n_components))
            self.log_w = nn.Parameter(torch.zeros(n_components))
            return
        self.left = nn.Embedding(T, d_model)  # integer frame positions of the two ends
        self.right = nn.Embedding(T, d_model)
        self.feat = nn.Linear(3, d_model)  # left end, right end, gap; each / (T − 1)
        self.head = nn.Sequential(
            nn.GELU(), nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 1)
        )

    @torch.no_grad()
    def init_from_targets(self, cond: torch.Tensor, seg: torch.Tensor, cost: torch.Tensor):
        """table form (a no-op for the others), before training on targets cond [N, C], seg
        [N, S, 2], cost [N, S]: standardise the conditioning by the targets' mean and std
        (constant features -> 0) and start each segment's baseline at the log of its mean
        target cost / scale (segments never drawn: the log of the overall mean)."""
        if self.form != "table":
            return
        std = cond.std(0)
        self.cond_mean.copy_(cond.mean(0))
        self.cond_std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))
        col = self.seg_index[seg[..., 0], seg[..., 1]].flatten()
        rel = (cost.flatten() / self.scale).clamp_min(FLOOR)
        total = torch.zeros_like(self.bias).index_add_(0, col, rel)
        count = torch.zeros_like(self.bias).index_add_(0, col, torch.ones_like(rel))
        mean = torch.where(count > 0, total / count.clamp_min(1), rel.mean())
        self.bias.copy_(mean.log())

    def powers(self) -> torch.Tensor:
        return 1 + F.softplus(self.p_raw)

    def forward(self, cond: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        """cond [B,C], seg [B,S,2] -> predicted costs [B,S], positive."""
        i, j = seg[..., 0], seg[..., 1]
        if self.form == "table":
            cond = (cond - self.cond_mean) / self.cond_std
            col = self.seg_index[i, j]
            if bool((col < 0).any()):
                raise ValueError("D_phi (table form) predicts segments with j - i >= 2 only")
            # gather, not bias[col]: indexing's backward accumulates in a thread-dependent order
            # on CPU, so two trainings would differ in the last bits
            logit = self.bias.gather(0, col.flatten()).view_as(col) + self.cond(cond).gather(1, col)
            return self.scale * torch.exp(logit.clamp(-30, 30))
        if self.form == "density":
            B, S, n = cond.shape[0], seg.shape[1], self.n
            rho = F.softplus(self.cond(cond)).view(B, n, self.T - 1) + 1e-4
            cum = torch.cat([rho.new_zeros(B, n, 1), rho.cumsum(2)], 2)  # [B, n, T]
            mass = cum.gather(2, j[:, None].expand(B, n, S)) - cum.gather(
                2, i[:, None].expand(B, n, S)
            )
            log_terms = self.log_w[:, None] + self.powers()[:, None] * torch.log(
                mass / (self.T - 1)
            )
            return self.scale * torch.exp(log_terms.clamp(max=30)).sum(1)
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
