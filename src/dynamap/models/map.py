"""The parametric neural-network map u(n+1) = F(u(n), c) (Kuptsov & Stankevich 2025, step 4).

Residual form (our choice): F(u, c) = u + g([u, c]) with g an MLP, so the identity (slow motion) is
the easy default and the network learns the increment. ``c`` is the normalised control input.
"""

from __future__ import annotations

import torch
from torch import nn

from .vae import mlp

__all__ = ["ParametricMap"]


class ParametricMap(nn.Module):
    """Batched map: (B, d) states and (B, 1) normalised control inputs -> (B, d)."""

    def __init__(self, dim: int, hidden: int, depth: int, activation: str, residual: bool = True):
        super().__init__()
        self.dim = dim
        self.residual = residual
        self.net = mlp(dim + 1, dim, hidden, depth, activation)

    def forward(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([u, c], dim=-1))
        return u + out if self.residual else out
