"""Signal primitives shared by the layers above (no heavy imports)."""

from __future__ import annotations

import numpy as np

__all__ = ["upcrossings"]


def upcrossings(x: np.ndarray, threshold: float, dt: float, t0: float = 0.0, hysteresis: float = 0.0
                ) -> np.ndarray:
    """Times of upward crossings of ``threshold`` by the 1-D sampled signal ``x`` (step ``dt``),
    linearly interpolated between samples.

    ``hysteresis`` h >= 0 (units of ``x``): after a counted crossing, the next one counts only once
    ``x`` has been below ``threshold - h`` in between (a Schmitt trigger), so noise riding on a spike's
    upstroke or peak does not count as further spikes. h = 0 counts every crossing.
    """
    idx = np.flatnonzero((x[:-1] < threshold) & (x[1:] >= threshold))
    if idx.size > 1 and hysteresis > 0:
        # a crossing counts when x was below threshold - h somewhere since the crossing before it (a
        # crossing dropped that way re-arms nothing, so comparing consecutive crossings suffices)
        below = np.flatnonzero(x < threshold - hysteresis)
        armed = np.searchsorted(below, idx, side="right")  # resets at or before each crossing
        keep = np.r_[True, armed[1:] > armed[:-1]]
        idx = idx[keep]
    if idx.size == 0:
        return np.empty(0)
    x0 = x[idx]
    x1 = x[idx + 1]
    return t0 + (idx + (threshold - x0) / (x1 - x0)) * dt
