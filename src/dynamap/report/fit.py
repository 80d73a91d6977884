"""The report of a fit on a user's recordings (``report.html`` beside the bundle ``dynamap fit`` writes):
what the data rules chose, the noise and stationarity checks, the free-running check at each training
value, the map's and the recordings' traces side by side, and the firing rate against the control
(for current steps, the f-I curve) with the recordings' rates on it."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..analysis.spikes import spike_times  # noqa: E402
from ..analysis.sweep import SweepSettings, sweep  # noqa: E402
from .demo_figures import series_figure  # noqa: E402
from .html import Report  # noqa: E402

__all__ = ["firing_rates", "rate_figure", "report_sweep", "write_fit_report"]


def firing_rates(sweep: dict) -> tuple[np.ndarray, np.ndarray]:
    """(values, spikes per time unit) of a sweep's points (NaN where a point did not run)."""
    rec = float(sweep["settings"]["t_end"])
    pts = sweep["points"]
    rate = [p["n_spikes"] / rec if p.get("status", "ok") == "ok" else np.nan for p in pts]
    return np.array([p["value"] for p in pts], dtype=float), np.array(rate, dtype=float)


def rate_figure(sweep: dict, data_points: list[tuple[float, float]], *, xlabel: str = "c",
                t_unit: str = "time unit"):
    """The map's firing rate against the control (line) with the recordings' rates (dots)."""
    c, rate = firing_rates(sweep)
    fig, ax = plt.subplots(figsize=(6.5, 3.6), constrained_layout=True)
    ax.plot(c, rate, "-", lw=1.2, label="map (free run)")
    if data_points:
        ax.plot(*zip(*data_points), "o", color="k", label="recordings")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"spikes per {t_unit}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _check_rows(metrics: dict) -> list[dict]:
    rows = []
    for e in metrics["series"]:
        w = e.get("isi_w1") or {}
        rows.append({"value": e["param_value"], "data": e["data"]["regime"], "map": e["map"]["regime"],
                     "match": e["match"], "mean ISI map/data": e.get("isi_mean_ratio"),
                     "ISI W1 / mean ISI": w.get("value_rel"), "floor": w.get("floor_rel")})
    return rows


def report_sweep(model, series_list, num: int = 41) -> dict:
    """The map's sweep for the report: ``num`` values over the tags' range and a quarter of it beyond
    (single-series mode: the tag +- a quarter of its size), each as long as the longest recording."""
    tags = np.asarray(model.param_values_, dtype=float)
    lo, hi = float(tags.min()), float(tags.max())
    pad = 0.25 * (hi - lo) if hi > lo else 0.25 * max(abs(lo), 1.0)
    t_rec = max(model.resample(s).size for s in series_list) * model.dt_
    return sweep(model.as_system(), "c", np.linspace(lo - pad, hi + pad, num),
                 SweepSettings(t_end=t_rec, transient=0.25 * t_rec, lyapunov=False)).to_dict()


def write_fit_report(path, model, series_list, metrics: dict, sweep: dict, *, span: float | None = None) -> Path:
    """Write the fit report of ``model`` on its training ``series_list`` to ``path`` (an .html file):
    ``metrics`` is the fit's ``metrics.json`` (:func:`dynamap.pipeline.check.fit_metrics`), ``sweep`` the
    map's sweep over the control; ``span``: the time shown of each trace (default: 20 mean ISIs of the slowest recording)."""
    h = model.history_
    r = Report(f"dynamap fit: {model.name_}", f"{model.mode_} mode, {model.config.map_family} map on "
                                            f"{model.encoder_.describe()}, map step {model.dt_:g}")
    r.heading("Data checks")
    r.paragraph(h["noise"]["message"], cls="bad" if h["noise"]["too_large"] else "")
    for i, st in enumerate(h.get("stationarity") or []):
        if not st["stationary"]:
            r.paragraph(f"series {i}: {st['message']}", cls="bad")
    r.paragraph(f"spike threshold {model.spike_threshold_:.4g} with hysteresis {model.spike_hysteresis_:.3g}; "
                f"the free-running check compares the map at each training value with the recording "
                f"(docs/metrics.md); the floor is the recording's halves against each other.")
    r.heading("Free-running check at the training values")
    r.table(_check_rows(metrics))
    tags = [e["param_value"] for e in metrics["series"]]
    xs = [model.resample(s) for s in series_list]
    n = max(x.size for x in xs)
    sims = model.simulate_batch(np.asarray(tags, dtype=float), n, n // 5)
    isis = [e["data"].get("isi_mean") or np.nan for e in metrics["series"]]
    if span is None:  # 20 of the slowest recording's mean ISIs, or everything
        span = 20 * np.nanmax(isis) if np.isfinite(isis).any() else n * model.dt_
    traces, data_points = [], []
    for x, e, sim in zip(xs, metrics["series"], sims):
        traces += [(x, model.dt_, f"recording at {e['param_value']:g}"), (sim, model.dt_, f"map at {e['param_value']:g}")]
        n_spikes = spike_times(x, model.spike_threshold_, model.dt_, hysteresis=model.spike_hysteresis_).size
        data_points.append((float(e["param_value"]), n_spikes / (x.size * model.dt_)))
    r.figure(series_figure(traces, ylabel=model.name_, t_unit="time unit", span=span),
             "the recordings and the map's free runs at their values")
    r.heading("Firing rate against the control")
    r.figure(rate_figure(sweep, data_points, xlabel=f"c ({model.name_} series' tag units)"),
             "the map's spikes per time unit over the control (its sweep) and each recording's")
    return r.write(path)
