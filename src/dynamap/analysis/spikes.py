"""Spikes, inter-spike intervals and bursts (definitions: docs/metrics.md section 1).

A spike is an upward crossing of a threshold; its time is found by linear interpolation between the
two samples around the crossing. An optional hysteresis h (a Schmitt trigger) counts a crossing only
after the signal has been below threshold - h since the last one: noisy recordings then give one spike
per spike. Bursts split the spike train where an ISI exceeds a gap threshold.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._core.signal import upcrossings

__all__ = ["spike_times", "split_bursts", "BurstStats", "burst_stats", "local_maxima", "local_variation",
           "adaptation_index"]

#: Default ratio max(ISI)/min(ISI) above which a spike train is split into bursts (our choice; the
#: gap is then the midpoint of min and max ISI).
BURST_ISI_RATIO = 1.5
#: ... and only where the local variation of its ISIs (:func:`local_variation`) reaches this: consecutive
#: ISIs that differ little (spike-frequency adaptation, jitter) are tonic spiking however far the first
#: and the last ISI are apart (our choice, docs/metrics.md section 1: real regular spikers 0.005-0.05,
#: the built-in bursters' bursting and irregular trains 0.15 and more)
BURST_LV = 0.08


def spike_times(x: np.ndarray, threshold: float, dt: float, t0: float = 0.0, hysteresis: float = 0.0
                ) -> np.ndarray:
    """Times of upward crossings of ``threshold`` by the sampled signal ``x`` (step ``dt``); with
    ``hysteresis`` h > 0, a crossing counts only if ``x`` fell below ``threshold - h`` since the last
    counted one."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    if not (np.isfinite(hysteresis) and hysteresis >= 0):
        raise ValueError(f"hysteresis must be finite and >= 0, got {hysteresis!r}")
    return upcrossings(x, threshold, dt, t0, float(hysteresis))


def split_bursts(
    times: np.ndarray, gap: float | None = None, ratio: float = BURST_ISI_RATIO,
    min_lv: float | None = None,
) -> tuple[list[np.ndarray], float | None]:
    """Split spike times into bursts where an ISI exceeds ``gap``.

    With ``gap=None`` the gap is the midpoint of the smallest and largest ISI when they differ by more
    than ``ratio`` and the ISIs' local variation reaches ``min_lv`` (default :data:`BURST_LV`);
    otherwise the train is not split (one spike per "burst" is then tonic spiking and is reported as
    such by :func:`burst_stats`). Returns the bursts and the gap used.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.size < 2:
        return [times], None
    isi = np.diff(times)
    if gap is None:
        lo, hi = float(isi.min()), float(isi.max())
        lv_min = BURST_LV if min_lv is None else float(min_lv)
        if hi <= ratio * lo or local_variation(isi) < lv_min:
            return [np.array([t]) for t in times], None
        gap = 0.5 * (lo + hi)
    cuts = np.flatnonzero(isi > gap) + 1
    return np.split(times, cuts), gap


def local_variation(isi: np.ndarray) -> float:
    """The local variation LV = 3 mean(((I_k - I_k+1) / (I_k + I_k+1))^2) of consecutive ISIs (Shinomoto
    et al., Neural Comput. 2003): 0 for a regular train, and for a slowly drifting one; about 1 for a
    Poisson train; above 1 for bursts. NaN for fewer than two ISIs."""
    isi = np.asarray(isi, dtype=np.float64)
    if isi.size < 2:
        return float("nan")
    a, b = isi[:-1], isi[1:]
    return float(3.0 * np.mean(((a - b) / (a + b)) ** 2))


def adaptation_index(isi: np.ndarray) -> float:
    """The mean of (I_k+1 - I_k) / (I_k+1 + I_k) over consecutive ISIs: > 0 where the train slows down
    (spike-frequency adaptation), < 0 where it speeds up, 0 for a regular train. NaN for fewer than two."""
    isi = np.asarray(isi, dtype=np.float64)
    if isi.size < 2:
        return float("nan")
    a, b = isi[:-1], isi[1:]
    return float(np.mean((b - a) / (b + a)))


@dataclasses.dataclass(frozen=True)
class BurstStats:
    """Summary of a spike train."""

    n_spikes: int
    isi: np.ndarray
    spikes_per_burst: np.ndarray  # one entry per complete burst (first and last dropped)
    gap: float | None
    tonic: bool  # ISIs within the ratio: no burst structure

    @property
    def spb_values(self) -> list[int]:
        return sorted({int(v) for v in self.spikes_per_burst})

    @property
    def isi_mean(self) -> float:
        return float(self.isi.mean()) if self.isi.size else float("nan")


def burst_stats(times: np.ndarray, gap: float | None = None, ratio: float = BURST_ISI_RATIO,
                min_lv: float | None = None) -> BurstStats:
    """Spike count, ISIs and spikes per complete burst of a spike train.

    The first and last bursts are dropped as possibly incomplete (the record may cut them). A tonic
    train (not split: :func:`split_bursts` with ``ratio`` and ``min_lv``) has one spike per burst.
    """
    times = np.asarray(times, dtype=np.float64)
    isi = np.diff(times) if times.size > 1 else np.empty(0)
    if times.size < 2:
        return BurstStats(int(times.size), isi, np.empty(0, dtype=int), None, False)
    bursts, used_gap = split_bursts(times, gap, ratio, min_lv)
    tonic = used_gap is None and gap is None
    if tonic:
        spb = np.ones(max(times.size - 2, 0), dtype=int)
    else:
        complete = bursts[1:-1]
        spb = np.array([b.size for b in complete], dtype=int)
    return BurstStats(int(times.size), isi, spb, used_gap, tonic)


def local_maxima(x: np.ndarray, above: float | None = None) -> np.ndarray:
    """Values of strict local maxima of ``x`` (optionally only those above a level)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 3:
        return np.empty(0)
    mid = x[1:-1]
    mask = (mid > x[:-2]) & (mid >= x[2:])
    vals = mid[mask]
    if above is not None:
        vals = vals[vals > above]
    return vals
