"""The parametric neural-network map u(n+1) = F(u(n), c) (Kuptsov & Stankevich 2025, step 4).

Residual form (our choice): F(u, c) = u + g([u, c]) with g an MLP, so the identity (slow motion) is
the easy default and the network learns the increment, in units of ``out_scale`` (the trainer sets it
to the standard deviation of the one-step increments, so the network output is O(1)). ``c`` is the normalised control input.

The output is clamped into a box around the data (buffers ``lo``, ``hi``; our choice): a free orbit
that leaves the region the map was trained on cannot run away to infinity.
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
        #: per-dimension scale of the network output (set by the trainer to the increment std)
        self.register_buffer("out_scale", torch.ones(dim))
        #: state box: outputs are clamped into [lo, hi] (set by the trainer around the data; +-inf: off)
        self.register_buffer("lo", torch.full((dim,), -torch.inf))
        self.register_buffer("hi", torch.full((dim,), torch.inf))

    def forward(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([u, c], dim=-1)) * self.out_scale
        out = u + out if self.residual else out
        return torch.clamp(out, self.lo, self.hi)
