"""Free-running check of a fitted model at its training parameter values (measures: docs/metrics.md).

For each training series: the map is iterated freely from a start state on the attractor at the
series' control value (transient dropped), decoded, and compared with the data at the map's sampling
step. The truth-vs-truth floor splits the data into two halves (or uses ``second[i]``, an independent
true series, when given): ``x_true`` = first half, ``x_true2`` = second half (or ``second[i]``), and the
model series has the length of ``x_true``.
"""

from __future__ import annotations

import numpy as np

from .._core.errors import InputError
from .._core.types import Series
from ..analysis.metrics import compare_series
from ..analysis.regimes import classify
from ..analysis.scores import heldout_accuracy
from ..training.freerun import CHECK_TRANSIENT_FRACTION

__all__ = ["free_running_check", "check_summary", "CHECK_TRANSIENT_FRACTION"]


def free_running_check(model, series_list, second=None) -> dict:
    """Per series: regime and spikes per burst of data vs map, ISI W1 (also relative to the mean
    ISI), D_H and D_stsp, each with its truth-vs-truth floor. Returns a JSON-able dict."""
    if isinstance(series_list, Series):
        series_list = [series_list]
    if second is not None and len(second) != len(series_list):
        raise InputError(f"second has {len(second)} series for {len(series_list)}; give one per series")
    th, dt, hy = model.spike_threshold_, model.dt_, model.spike_hysteresis_
    tags = [s.param_value if s.param_value is not None else model.param_values_[0] for s in series_list]
    if model.mode_ == "single":
        tags = [model.param_values_[0] if len(series_list) == 1 else t for t in tags]
    items, lens = [], []
    for i, s in enumerate(series_list):
        x = model.resample(s)
        if second is None:
            half = x.shape[0] // 2
            xt, xt2 = x[:half], x[half : 2 * half]
        else:
            xt, xt2 = x, model.resample(second[i])
        items.append((xt, xt2))
        lens.append(xt.shape[0])
    n = max(lens)
    sims = model.simulate_batch(np.asarray(tags, dtype=np.float64), n, int(CHECK_TRANSIENT_FRACTION * n))
    out = []
    for i, ((xt, xt2), tag) in enumerate(zip(items, tags)):
        xm = sims[i, : xt.shape[0]]
        entry = {"param_value": float(tag), "n_samples": int(xt.shape[0]), "dt": dt, "threshold": th,
                 "hysteresis": hy}
        rt = classify(xt, dt, th, hysteresis=hy)
        entry["data"] = {"regime": rt.regime, "spikes_per_burst": rt.spikes_per_burst,
                         "spb_counts": {str(k): v for k, v in rt.spb_counts.items()}, "isi_mean": rt.isi_mean}
        if not np.all(np.isfinite(xm)):
            entry["map"] = {"regime": "diverged", "spikes_per_burst": []}
            entry["match"] = False
            out.append(entry)
            continue
        rm = classify(xm, dt, th, hysteresis=hy)
        entry["map"] = {"regime": rm.regime, "spikes_per_burst": rm.spikes_per_burst,
                        "spb_counts": {str(k): v for k, v in rm.spb_counts.items()}, "isi_mean": rm.isi_mean}
        entry.update(compare_series(xm, xt, xt2, dt, th, hysteresis=hy))
        if np.isfinite(rm.isi_mean) and np.isfinite(rt.isi_mean) and rt.isi_mean > 0:
            # the time-scale error: D_H of a periodic signal is most sensitive to it
            entry["isi_mean_ratio"] = float(rm.isi_mean / rt.isi_mean)
        # the point rule (docs/metrics.md section 2): irregular segments compare on the regime alone
        entry["match"] = heldout_accuracy([entry["data"]], [entry["map"]]) == 1.0
        out.append(entry)
    return {"series": out, "all_match": bool(all(e["match"] for e in out))}


def noise_of(model) -> dict:
    """The fit's noise report as the fit wrote it (with the encoder it chose; bundles from before it:
    the sampling choice's own)."""
    return model.history_.get("noise") or model.sampling_.noise_report()


def fit_metrics(model, series_list) -> dict:
    """A fit's ``metrics.json``: its free-running check, the noise report of its series and whether each
    stays in one regime."""
    return {**free_running_check(model, series_list), "noise": noise_of(model),
            "stationarity": [{k: r[k] for k in ("stationary", "stretches", "message")}
                             for r in model.history_.get("stationarity") or []]}


def _label(r: dict) -> str:
    spb = r.get("spikes_per_burst") or []
    return r["regime"] + (f" {spb}" if r["regime"] in ("bursting", "mixed") and spb else "")


def check_summary(check: dict) -> list[str]:
    """One line per series of a :func:`free_running_check` result, for the terminal."""
    lines = []
    for e in check["series"]:
        parts = [f"check at {e['param_value']:g}: data {_label(e['data'])}, map {_label(e['map'])}"
                 f" ({'match' if e['match'] else 'NO match'})"]
        w = e.get("isi_w1")
        if w and w.get("value_rel") is not None:
            floor = "n/a: too few ISIs in a half" if w.get("floor_rel") is None else f"{100 * w['floor_rel']:.1f} %"
            parts.append(f"ISI W1 {100 * w['value_rel']:.1f} % of the mean ISI (floor {floor})")
        h = e.get("power_hellinger")
        if h:
            parts.append(f"D_H {h['value']:.3f} (floor {h['floor']:.3f})")
        if "isi_mean_ratio" in e:
            parts.append(f"mean ISI map/data {e['isi_mean_ratio']:.3f}")
        lines.append("; ".join(parts))
    return lines
