"""The planner (torch): a causal transformer over bars that reads, for each bar, the previous
bar's latent, that bar's controls (`conditioning.bar_vector`) and the piece's intent
(`conditioning.intent_vector`), and returns one hidden state h_i per bar for the Loc-DiT.

No positional encoding: the bar's place comes from its controls (bars to the end, place in
the section), and causal attention alone tells the order. That lets the runtime keep only
the last `context_bars` keys/values (a sliding window) on arbitrarily long videos, exactly
as in training. `step` takes and returns the past keys/values explicitly so that it exports
to ONNX and runs one bar at a time.
"""

from __future__ import annotations

import torch
from torch import nn

from robin_studio.model.conditioning import BAR_FEATURES, INTENT_FEATURES
from robin_studio.model.config import PlannerConfig
from robin_studio.model.layers import Block


class Planner(nn.Module):
    def __init__(self, cfg: PlannerConfig, latent_dim: int, intent_features: int = INTENT_FEATURES) -> None:
        """`intent_features`: the intent vector's length (`conditioning.intent_features` of
        the model's style slots)."""
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.latent_dim = latent_dim
        self.prev_in = nn.Linear(latent_dim + 1, d)      # + "there is no previous bar" flag
        self.bar_in = nn.Sequential(nn.Linear(BAR_FEATURES, d), nn.GELU(approximate="tanh"),
                                    nn.Linear(d, d))
        self.intent_in = nn.Sequential(nn.Linear(intent_features, d), nn.GELU(approximate="tanh"),
                                       nn.Linear(d, d))
        self.blocks = nn.ModuleList(Block(d, cfg.n_heads, cfg.dropout) for _ in range(cfg.n_layers))
        self.ln = nn.LayerNorm(d)

    def embed(self, prev: torch.Tensor, bar: torch.Tensor, intent: torch.Tensor) -> torch.Tensor:
        """prev (b, t, latent+1), bar (b, t, BAR_FEATURES), intent (b, intent_features)."""
        return self.prev_in(prev) + self.bar_in(bar) + self.intent_in(intent).unsqueeze(1)

    def forward(self, prev: torch.Tensor, bar: torch.Tensor, intent: torch.Tensor) -> torch.Tensor:
        """Teacher-forced pass over whole sequences -> h (b, t, d)."""
        x = self.embed(prev, bar, intent)
        t = x.shape[1]
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        for blk in self.blocks:
            x = blk(x, mask)
        return self.ln(x)

    def step(self, prev: torch.Tensor, bar: torch.Tensor, intent: torch.Tensor,
             past_k: torch.Tensor, past_v: torch.Tensor):
        """One bar: prev (b, latent+1), bar (b, BAR_FEATURES), intent (b, intent_features),
        past_k/past_v (layers, b, heads, t_past, head_dim) -> h (b, d), new past (t_past + 1)."""
        x = self.embed(prev.unsqueeze(1), bar.unsqueeze(1), intent)
        new_k, new_v = [], []
        for i, blk in enumerate(self.blocks):
            q, k, v = blk.attn.split(blk.ln1(x))
            k = torch.cat([past_k[i], k], dim=2)
            v = torch.cat([past_v[i], v], dim=2)
            new_k.append(k)
            new_v.append(v)
            x = x + blk.attn.attend(q, k, v, None)
            x = x + blk.mlp(blk.ln2(x))
        return self.ln(x)[:, 0], torch.stack(new_k), torch.stack(new_v)


class PlannerStep(nn.Module):
    """`Planner.step` as a module's forward, for ONNX export."""

    def __init__(self, planner: Planner) -> None:
        super().__init__()
        self.planner = planner

    def forward(self, prev, bar, intent, past_k, past_v):
        return self.planner.step(prev, bar, intent, past_k, past_v)
