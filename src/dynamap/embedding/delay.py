"""Delay vectors R(n) = [U(n), U(n-1), ..., U(n-D_e+1)] (lag 1) without an N x D_e copy.

``delay_view`` returns a read-only strided view of the series (no data copied); ``DelayWindows``
gathers batches of windows on the fly from index arrays, which is what the trainers use. Windows of
several segments never cross a segment boundary: valid window ends are kept per segment.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._core.errors import InputError

__all__ = ["delay_view", "DelayWindows", "same_segment_ahead"]


def delay_view(x: np.ndarray, window: int, lag: int = 1) -> np.ndarray:
    """Strided view (N - (window - 1) lag, window) of ``x``; row i is
    [x[i + (w-1) lag], x[i + (w-2) lag], ..., x[i]] (no data copied).

    Row ``i`` is the delay vector R(n) at n = i + (window - 1) lag (newest sample first, as in the
    paper, whose lag is 1).
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise InputError(f"x must be 1-D, got shape {x.shape}")
    if lag < 1:
        raise InputError(f"lag must be >= 1, got {lag}")
    span = (window - 1) * lag + 1
    if window < 1 or span > x.shape[0]:
        raise InputError(f"window must be >= 1 with (window - 1) * lag < len(x)={x.shape[0]}, got "
                         f"window {window}, lag {lag}")
    return sliding_window_view(x, span)[:, ::-1][:, ::lag]


def same_segment_ahead(segment_of: np.ndarray, horizon: int) -> np.ndarray:
    """Boolean mask over positions k of a segment labelling: positions k+1..k+horizon exist and lie
    in the same segment as k (so a rollout of ``horizon`` steps from k never crosses a boundary)."""
    seg = np.asarray(segment_of)
    n = seg.shape[0]
    ok = np.zeros(n, dtype=bool)
    if horizon < n:
        ok[: n - horizon] = seg[: n - horizon] == seg[horizon:]
    return ok


class DelayWindows:
    """Delay windows over one or more segments, gathered on demand.

    ``segments`` are 1-D float arrays (already resampled and scaled). Window ``k`` of the collection is
    identified by (segment, end index n); ``ends[k]`` is its position in the concatenated buffer and
    ``segment_of[k]`` its segment. ``gather(idx)`` builds the (len(idx), window) batch.
    """

    def __init__(self, segments: list[np.ndarray], window: int):
        if window < 1:
            raise InputError(f"window must be >= 1, got {window}")
        lengths = [int(np.asarray(s).shape[0]) for s in segments]
        for i, n in enumerate(lengths):
            if n < window + 1:
                raise InputError(
                    f"segment {i} has {n} samples after resampling, fewer than window + 1 = {window + 1}; "
                    "supply a longer series"
                )
        self.window = int(window)
        self.buffer = np.concatenate([np.asarray(s, dtype=np.float32) for s in segments])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        ends, seg = [], []
        for i, (s0, n) in enumerate(zip(starts, lengths)):
            ends.append(np.arange(s0 + window - 1, s0 + n, dtype=np.int64))
            seg.append(np.full(n - window + 1, i, dtype=np.int64))
        self.ends = np.concatenate(ends)
        self.segment_of = np.concatenate(seg)
        self.n_segments = len(segments)
        self._offsets = np.arange(0, -window, -1, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.ends.shape[0])

    def gather(self, idx: np.ndarray) -> np.ndarray:
        """Windows number ``idx`` (indices into ``ends``) as a (len(idx), window) float32 array."""
        pos = self.ends[np.asarray(idx, dtype=np.int64)][:, None] + self._offsets[None, :]
        return self.buffer[pos]

    def successor_ok(self, horizon: int) -> np.ndarray:
        """Boolean mask over windows k: windows k+1..k+horizon exist in the same segment."""
        return same_segment_ahead(self.segment_of, horizon)
