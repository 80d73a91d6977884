"""Regime labels of a sampled observable (definitions: docs/metrics.md section 1).

Vocabulary:

* ``silent``: no spikes (a fixed point, or subthreshold motion);
* ``tonic``: single spikes: max ISI <= 1.5 x min ISI, or ISIs whose consecutive values differ little
  (local variation below :data:`~dynamap.analysis.spikes.BURST_LV`: spike-frequency adaptation,
  jitter); ``adaptation_index`` says whether the train slows down (> 0) or speeds up;
* ``bursting``: bursts with one spikes-per-burst value;
* ``mixed``: several spikes-per-burst values but a non-positive largest Lyapunov exponent (a periodic
  orbit whose bursts alternate, e.g. 3-4-3-4); only assigned when the exponent is known;
* ``irregular``: several spikes-per-burst values and a positive largest exponent (or no exponent
  available).

``lyapunov_tol`` is the band around zero inside which a finite-time largest exponent counts as zero,
in units of the orbit's own time scale: the exponent times the mean ISI (a number, so the band means
the same for a model in seconds and one in dimensionless time). Its default 0.02 is our choice: on
the HH burster (mean ISI about 1 s) the finite-time exponent of periodic orbits over 800 s scatters by
about +-0.01 /s, chaotic windows give 0.14-0.54 per mean ISI; on Hindmarsh-Rose (mean ISI about 34
time units) periodic orbits give at most 0.015 and the chaotic window 0.2-0.45 per mean ISI (0.006-
0.014 per time unit, inside the band when it was per unit time).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .spikes import BURST_ISI_RATIO, adaptation_index, burst_stats, local_maxima, local_variation, spike_times

__all__ = ["RegimeInfo", "classify", "REGIMES", "LYAPUNOV_TOL"]

REGIMES = ("silent", "tonic", "bursting", "mixed", "irregular")
LYAPUNOV_TOL = 0.02
#: at most this many ISIs / maxima are kept per point for diagrams
KEEP = 300


@dataclasses.dataclass(frozen=True)
class RegimeInfo:
    """What one parameter value (or one series) does."""

    regime: str
    spikes_per_burst: list[int]
    n_spikes: int
    isi_mean: float
    isi_cv: float
    spb_counts: dict[int, int]
    isi_sample: np.ndarray
    maxima_sample: np.ndarray
    lyapunov_max: float | None = None
    #: the ISIs' local variation and adaptation index (:mod:`dynamap.analysis.spikes`; NaN: too few)
    isi_lv: float = float("nan")
    adaptation_index: float = float("nan")

    def to_dict(self) -> dict:
        return {
            "regime": self.regime,
            "spikes_per_burst": list(self.spikes_per_burst),
            "spb_counts": {str(k): int(v) for k, v in self.spb_counts.items()},
            "n_spikes": int(self.n_spikes),
            "isi_mean": _finite_or_none(self.isi_mean),
            "isi_cv": _finite_or_none(self.isi_cv),
            "lyapunov_max": _finite_or_none(self.lyapunov_max),
            "isi_lv": _finite_or_none(self.isi_lv),
            "adaptation_index": _finite_or_none(self.adaptation_index),
            "isi": [float(v) for v in self.isi_sample],
            "maxima": [float(v) for v in self.maxima_sample],
        }


def _finite_or_none(v):
    if v is None:
        return None
    v = float(v)
    return v if np.isfinite(v) else None


def classify(
    x: np.ndarray,
    dt: float,
    threshold: float,
    *,
    lyapunov_max: float | None = None,
    lyapunov_tol: float = LYAPUNOV_TOL,
    burst_ratio: float = BURST_ISI_RATIO,
    min_spikes: int = 3,
    hysteresis: float = 0.0,
) -> RegimeInfo:
    """Label the regime of the sampled observable ``x`` (step ``dt``) with spike ``threshold`` (and
    ``hysteresis``, see :func:`~dynamap.analysis.spikes.spike_times`)."""
    x = np.asarray(x, dtype=np.float64)
    times = spike_times(x, threshold, dt, hysteresis=hysteresis)
    stats = burst_stats(times, ratio=burst_ratio)
    isi = stats.isi
    maxima = local_maxima(x)
    isi_mean = float(isi.mean()) if isi.size else float("nan")
    isi_cv = float(isi.std() / isi_mean) if isi.size > 1 and isi_mean > 0 else float("nan")
    values, counts = np.unique(stats.spikes_per_burst, return_counts=True)
    spb_counts = {int(v): int(c) for v, c in zip(values, counts)}
    if times.size < min_spikes:
        regime, spb = "silent", []
    elif stats.tonic or set(spb_counts) <= {1}:
        # not split, or split with no complete burst or only one-spike ones (a short adapting train
        # cut after its first fast ISIs): single spikes
        regime, spb = "tonic", [1]
    else:
        spb = sorted(spb_counts)
        if len(spb) <= 1:
            regime = "bursting"
        elif lyapunov_max is not None and np.isfinite(lyapunov_max) and lyapunov_max * isi_mean <= lyapunov_tol:
            regime = "mixed"
        else:
            regime = "irregular"
    return RegimeInfo(
        regime=regime,
        spikes_per_burst=spb,
        n_spikes=int(times.size),
        isi_mean=isi_mean,
        isi_cv=isi_cv,
        spb_counts=spb_counts,
        isi_sample=_thin(isi, KEEP),
        maxima_sample=_thin(maxima, KEEP),
        lyapunov_max=lyapunov_max,
        isi_lv=local_variation(isi),
        adaptation_index=adaptation_index(isi),
    )


def _thin(a: np.ndarray, n: int) -> np.ndarray:
    """The last ``n`` entries (the most converged part of the orbit)."""
    return np.asarray(a[-n:], dtype=np.float64)
