"""Signal primitives shared by the layers above (no heavy imports)."""

from __future__ import annotations

import numpy as np

__all__ = ["upcrossings"]


def upcrossings(x: np.ndarray, threshold: float, dt: float, t0: float = 0.0) -> np.ndarray:
    """Times of upward crossings of ``threshold`` by the 1-D sampled signal ``x`` (step ``dt``),
    linearly interpolated between samples."""
    idx = np.flatnonzero((x[:-1] < threshold) & (x[1:] >= threshold))
    if idx.size == 0:
        return np.empty(0)
    x0 = x[idx]
    x1 = x[idx + 1]
    return t0 + (idx + (threshold - x0) / (x1 - x0)) * dt
