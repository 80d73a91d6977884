"""The Map protocol: what analysis code needs from anything that can be iterated.

Both the built-in discrete maps and a learned neural-network map satisfy it, so orbits, sweeps,
Lyapunov spectra and fixed points go through the same code. Everything is batched: ``x`` has shape
(B, dim) and ``p`` has shape (B, n_params); row ``b`` of the result belongs to row ``b`` of both.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["MapLike"]


@runtime_checkable
class MapLike(Protocol):
    """A parameterised map x_{n+1} = F(x_n, p), batched over rows."""

    @property
    def dim(self) -> int: ...

    def step(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """(B, dim), (B, n_params) -> (B, dim)."""
        ...

    def jacobian(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """(B, dim), (B, n_params) -> (B, dim, dim), dF/dx."""
        ...
