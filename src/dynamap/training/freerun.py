"""Free-running statistics used to select map checkpoints (never the one-step loss).

A trace is the decoded observable of the freely iterated map. Its spike train (upward crossings of
the spike threshold) gives ISIs and spikes per burst; the score against the data is

    score = W1(ISI_map, ISI_data) / mean(ISI_data) + TV(spb_map, spb_data) + w_s * D_H(map, data)

(TV: total-variation distance of the spikes-per-burst histograms, tonic trains count as 1 spike per
burst; D_H: power-spectrum Hellinger distance, which sees a wrong burst period that the ISI
distribution, dominated by the spikes inside bursts, hardly shows; ``w_s``: ``spectral_weight``, 0
skips it). A trace with fewer than ``MIN_SPIKES`` spikes scores ``SILENT``, a non-finite one ``DIVERGED``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.stats import wasserstein_distance

from ..analysis.metrics import default_nperseg, spectra_hellinger, welch_spectrum
from ..analysis.spikes import burst_stats, spike_times

__all__ = ["TrainStats", "train_stats", "score", "SILENT", "DIVERGED", "MIN_SPIKES", "CHECK_TRANSIENT_FRACTION"]

SILENT = 10.0
DIVERGED = 100.0
MIN_SPIKES = 3
#: transient of a free run as a fraction of its compared length, in the fit's free-running check and
#: in the final selection runs that mimic it (our choice)
CHECK_TRANSIENT_FRACTION = 0.25
#: the selection's spikes-per-burst statistics split a train into bursts without the labels' local-
#: variation condition (:data:`dynamap.analysis.spikes.BURST_LV`; 0: every train whose ISIs differ by
#: more than 1.5x is split; the choice: docs/experiments.md, "Labels of real trains")
SELECTION_BURST_LV = 0.0


@dataclasses.dataclass(frozen=True)
class TrainStats:
    """Pooled spike statistics of one or more traces."""

    isi: np.ndarray
    spb: dict[int, int]
    n_spikes: int
    finite: bool
    #: the (single) trace itself, kept for the spectral term when asked for
    trace: np.ndarray | None = None
    #: the trace's spectra by Welch segment length, computed once (a data trace is compared with many runs)
    spectra: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def spectrum(self, dt: float, nperseg: int) -> np.ndarray:
        """The trace's spectrum as :func:`~dynamap.analysis.metrics.power_spectrum_hellinger` computes it."""
        key = (float(dt), int(nperseg))
        if key not in self.spectra:
            self.spectra[key] = welch_spectrum(self.trace, dt, nperseg)
        return self.spectra[key]

    def to_dict(self) -> dict:
        return {
            "n_spikes": self.n_spikes,
            "isi_mean": float(self.isi.mean()) if self.isi.size else None,
            "spb": {str(k): v for k, v in sorted(self.spb.items())},
            "finite": self.finite,
        }


def train_stats(traces: np.ndarray, dt: float, threshold: float, keep_trace: bool = False,
                hysteresis: float = 0.0) -> TrainStats:
    """Statistics of traces (B, T) or (T,) sampled with step ``dt`` (``keep_trace``: keep a single
    trace for the spectral term of :func:`score`; ``hysteresis``: see
    :func:`~dynamap.analysis.spikes.spike_times`)."""
    traces = np.atleast_2d(np.asarray(traces, dtype=np.float64))
    kept = traces[0] if keep_trace and traces.shape[0] == 1 else None
    if not np.all(np.isfinite(traces)):
        return TrainStats(np.empty(0), {}, 0, False)
    isis, spb, n = [], {}, 0
    for x in traces:
        t = spike_times(x, threshold, dt, hysteresis=hysteresis)
        n_tr = int(t.size)
        n = n_tr if n == 0 else min(n, n_tr)
        if t.size < MIN_SPIKES:
            return TrainStats(np.empty(0), {}, 0, True, kept)
        b = burst_stats(t, min_lv=SELECTION_BURST_LV)
        isis.append(b.isi)
        for v in b.spikes_per_burst:
            spb[int(v)] = spb.get(int(v), 0) + 1
    return TrainStats(np.concatenate(isis), spb, n, True, kept)


def score(ref: TrainStats, got: TrainStats, spectral_weight: float = 0.0, dt: float | None = None
          ) -> tuple[float, dict]:
    """Selection score of ``got`` against the data statistics ``ref`` (lower is better); the
    spectral term needs both traces (``keep_trace``) and their step ``dt``."""
    if not got.finite:
        return DIVERGED, {"status": "diverged"}
    if got.n_spikes < MIN_SPIKES or got.isi.size == 0:
        return SILENT, {"status": "silent"}
    w1 = wasserstein_distance(got.isi, ref.isi) / float(ref.isi.mean())
    keys = sorted(set(ref.spb) | set(got.spb))
    pr = np.array([ref.spb.get(k, 0) for k in keys], dtype=float)
    pg = np.array([got.spb.get(k, 0) for k in keys], dtype=float)
    tv = 0.5 * float(np.abs(pr / max(pr.sum(), 1) - pg / max(pg.sum(), 1)).sum()) if keys else 0.0
    if pg.sum() == 0 and pr.sum() > 0:
        tv = 1.0
    out = {"status": "ok", "isi_w1_rel": float(w1), "spb_tv": tv}
    total = float(w1 + tv)
    if spectral_weight > 0 and ref.trace is not None and got.trace is not None and dt is not None:
        nper = default_nperseg(min(got.trace.size, ref.trace.size))
        dh = spectra_hellinger(got.spectrum(dt, nper), ref.spectrum(dt, nper))
        out["power_hellinger"] = dh
        total += spectral_weight * dh
    return total, out
