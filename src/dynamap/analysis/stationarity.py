"""Does a recording stay in one regime? (rules: docs/metrics.md section 11)

A fit averages whatever its series does; a recording that drifts through regimes (silent, spiking,
depolarisation block within one minute of one cell) gives a map of none of them. The series is cut
into equal windows (about :data:`SPIKES_PER_WINDOW` spikes each, 2 to :data:`MAX_WINDOWS` of them;
:data:`SILENT_WINDOWS` when it has too few spikes); each window is *silent* (fewer than 3 spikes,
with its median level) or *spiking* (with its firing rate). The recording is non-stationary when it
has both kinds of window, spiking windows whose rates differ by more than :data:`RATE_RATIO`, or silent
windows whose levels differ by more than :data:`LEVEL_SHIFT` of the series' span. Adjacent windows of
one kind and a like rate or level are merged into stretches, which the warning names with their times.
"""

from __future__ import annotations

import numpy as np

from .spikes import spike_times

__all__ = ["regime_stretches", "RATE_RATIO", "LEVEL_SHIFT"]

#: spikes per window aimed at (a window long enough for its rate to mean something)
SPIKES_PER_WINDOW = 30
MAX_WINDOWS = 12
#: windows of a series with fewer than 2 SPIKES_PER_WINDOW spikes
SILENT_WINDOWS = 4
#: spiking windows whose firing rates differ by more than this factor are different regimes (the
#: adaptation within the 2 s current steps of shared/real reaches 1.17 between windows)
RATE_RATIO = 2.0
#: silent windows whose median levels differ by more than this fraction of the series' span (1st to
#: 99.9th percentile) are different regimes (rest and depolarisation block)
LEVEL_SHIFT = 0.25


def _windows(n_samples: int, n_spikes: int) -> int:
    if n_spikes < 2 * SPIKES_PER_WINDOW:
        return SILENT_WINDOWS
    return int(np.clip(n_spikes // SPIKES_PER_WINDOW, 2, MAX_WINDOWS))


def _same(a: dict, b: dict, span: float) -> bool:
    if a["kind"] != b["kind"]:
        return False
    if a["kind"] == "spiking":
        return max(a["rate"], b["rate"]) <= RATE_RATIO * min(a["rate"], b["rate"])
    return abs(a["level"] - b["level"]) <= LEVEL_SHIFT * span


def regime_stretches(x: np.ndarray, dt: float, threshold: float, hysteresis: float = 0.0, t0: float = 0.0
                     ) -> dict:
    """The windows and stretches of the series ``x`` (step ``dt``, first sample at ``t0``; spikes:
    up-crossings of ``threshold`` with ``hysteresis``): ``{"stationary", "windows", "stretches",
    "message"}``, each window and stretch with ``start``, ``end`` (time), ``kind`` ("silent" or
    "spiking"), ``rate`` (spikes per time unit) and ``level`` (median)."""
    x = np.asarray(x, dtype=np.float64)
    times = spike_times(x, threshold, dt, hysteresis=hysteresis)  # from 0
    lo, hi = np.percentile(x, [1.0, 99.9])
    span = float(hi - lo)
    k = _windows(x.size, times.size)
    edges = np.linspace(0, x.size, k + 1).astype(int)
    windows = []
    for a, b in zip(edges[:-1], edges[1:]):
        t_a, t_b = a * dt, b * dt
        count = int(np.sum((times >= t_a) & (times < t_b)))
        windows.append({"start": t0 + t_a, "end": t0 + t_b, "kind": "spiking" if count >= 3 else "silent",
                        "rate": count / (t_b - t_a), "level": float(np.median(x[a:b]))})
    stationary = all(_same(w, v, span) for w in windows for v in windows)
    stretches = []
    for w in windows:
        if stretches and _same(stretches[-1], w, span):
            s = stretches[-1]
            n_s, n_w = s["end"] - s["start"], w["end"] - w["start"]
            s["rate"] = (s["rate"] * n_s + w["rate"] * n_w) / (n_s + n_w)
            s["level"] = (s["level"] * n_s + w["level"] * n_w) / (n_s + n_w)
            s["end"] = w["end"]
        else:
            stretches.append(dict(w))
    message = None
    if not stationary:
        parts = [f"{s['start']:.4g}-{s['end']:.4g}: " + (f"spiking at {s['rate']:.3g} per time unit"
                                                         if s["kind"] == "spiking" else f"silent at {s['level']:.4g}")
                 for s in stretches]
        message = ("the recording changes regime (" + "; ".join(parts) + "); a map of it averages them: fit "
                   "one stretch, or the stretches as tagged segments")
    return {"stationary": bool(stationary), "windows": windows, "stretches": stretches, "message": message}
