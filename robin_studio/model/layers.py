"""Transformer building blocks shared by the bar VAE, the planner and the Loc-DiT (torch).

Attention is written out with plain matmuls (no fused kernels) so that the legacy ONNX
exporter produces a simple graph and the past keys/values of the planner can be explicit
inputs and outputs. Only `train/` and the export imports this module.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        assert d_model % n_heads == 0
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, t, _ = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        shape = (b, t, self.n_heads, self.head_dim)
        return (q.reshape(shape).transpose(1, 2), k.reshape(shape).transpose(1, 2),
                v.reshape(shape).transpose(1, 2))

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               mask: torch.Tensor | None) -> torch.Tensor:
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if mask is not None:
            att = att.masked_fill(~mask, float("-inf"))
        att = self.dropout(torch.softmax(att, dim=-1))
        y = att @ v                                     # (b, h, t, hd)
        b, h, t, hd = y.shape
        return self.out(y.transpose(1, 2).reshape(b, t, h * hd))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self.split(x)
        return self.attend(q, k, v, mask)


class MLP(nn.Sequential):
    def __init__(self, d_model: int, mult: int = 4, dropout: float = 0.0) -> None:
        super().__init__(nn.Linear(d_model, mult * d_model), nn.GELU(approximate="tanh"),
                         nn.Linear(mult * d_model, d_model), nn.Dropout(dropout))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model, dropout=dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class AdaLNBlock(nn.Module):
    """DiT block with adaptive layer norm (adaLN-Zero): the condition sets shift, scale and a
    gate for both sub-layers; gates start at zero so each block starts as the identity."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model, elementwise_affine=False)
        self.attn = Attention(d_model, n_heads, dropout)
        self.ln2 = nn.LayerNorm(d_model, elementwise_affine=False)
        self.mlp = MLP(d_model, dropout=dropout)
        self.modulation = nn.Linear(d_model, 6 * d_model)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        sh1, sc1, g1, sh2, sc2, g2 = self.modulation(F.silu(cond)).unsqueeze(1).chunk(6, dim=-1)
        x = x + g1 * self.attn(self.ln1(x) * (1 + sc1) + sh1)
        return x + g2 * self.mlp(self.ln2(x) * (1 + sc2) + sh2)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of flow time t in [0, 1] (shape (b,)) -> (b, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = (t.float() * 1000.0).unsqueeze(-1) * freqs.unsqueeze(0)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
