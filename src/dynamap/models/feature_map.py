"""The ridge family on any encoder's states: a random-feature map of the whole state.

    u(n+1) = u(n) + A phi(u) + c B phi(u),   phi(u) = [1, u, tanh(W u + w)]

``W`` and ``w`` are fixed random features (drawn as the delay map's, :class:`~dynamap.models.delay_map.
RandomFeatures`), the readouts A, B (dim x n_phi each) are fitted by ridge regression
(:mod:`dynamap.training._ridge`), one output per coordinate; the state is clamped into the box
``[lo, hi]``. Under the delay encoder the ridge family is the shift-register
:class:`~dynamap.models.delay_map.DelayMap` instead.
"""

from __future__ import annotations

import torch

from .delay_map import RandomFeatures

__all__ = ["FeatureMap"]


class FeatureMap(RandomFeatures):
    """Batched map: (B, dim) states and (B, 1) control inputs -> (B, dim)."""

    def __init__(self, dim: int, width: int):
        super().__init__(dim, torch.arange(int(dim)), width, int(dim))

    def forward(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        phi = self.features(u)
        r = self.readout.to(u.dtype)
        inc = phi @ r[0].T + c * (phi @ r[1].T)
        return torch.clamp(u + inc, self.lo.to(u.dtype), self.hi.to(u.dtype))
