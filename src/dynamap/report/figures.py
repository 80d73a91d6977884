"""Figures (matplotlib, Agg backend): orbit diagrams of sweeps."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["sweep_figure", "REGIME_COLORS"]

REGIME_COLORS = {
    "silent": "#7f7f7f",
    "tonic": "#1f77b4",
    "bursting": "#2ca02c",
    "mixed": "#9467bd",
    "irregular": "#d62728",
    "failed": "#000000",
}


def sweep_figure(sweep: dict, path: str | Path | None = None, title: str = "", axes=None):
    """Orbit diagram of a sweep dict (``sweep.json`` schema): spikes per burst, ISIs, maxima, exponent.

    Returns the figure; saves it to ``path`` when given.
    """
    pts = sweep["points"]
    param = sweep["param"]
    if axes is None:
        fig, axes = plt.subplots(4, 1, figsize=(7.5, 9.0), sharex=True, constrained_layout=True)
    else:
        fig = axes[0].figure
    ax_spb, ax_isi, ax_max, ax_le = axes
    for pt in pts:
        v = pt["value"]
        color = REGIME_COLORS.get(pt.get("regime"), "#000000")
        counts = pt.get("spb_counts") or {}
        if counts:
            ks = np.array([int(k) for k in counts])
            ax_spb.scatter(np.full(ks.size, v), ks, s=8, color=color)
        elif pt.get("regime") == "tonic":
            ax_spb.scatter([v], [1], s=8, color=color)
        isi = np.asarray(pt.get("isi") or [])
        if isi.size:
            ax_isi.scatter(np.full(isi.size, v), isi, s=1.0, color="k", alpha=0.5, rasterized=True)
        mx = np.asarray(pt.get("maxima") or [])
        if mx.size:
            ax_max.scatter(np.full(mx.size, v), mx, s=1.0, color="k", alpha=0.5, rasterized=True)
    les = [(pt["value"], pt.get("lyapunov_max")) for pt in pts if pt.get("lyapunov_max") is not None]
    if les:
        lv, ll = zip(*les)
        ax_le.plot(lv, ll, ".-", color="#d62728", ms=3, lw=0.8)
        ax_le.axhline(0.0, color="k", lw=0.5)
    else:
        ax_le.text(0.5, 0.5, "largest exponent not computed", ha="center", va="center", transform=ax_le.transAxes)
    units = sweep.get("settings", {}).get("lyapunov_units", "")
    ax_spb.set_ylabel("spikes per burst")
    ax_isi.set_ylabel("ISI")
    ax_max.set_ylabel("local maxima")
    ax_le.set_ylabel(f"largest exponent\n({units})" if units else "largest exponent")
    ax_le.set_xlabel(param)
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=c, label=k)
        for k, c in REGIME_COLORS.items()
        if any(pt.get("regime") == k for pt in pts)
    ]
    if handles:
        ax_spb.legend(handles=handles, fontsize=7, loc="upper left", ncol=len(handles))
    for ax in axes:
        ax.grid(alpha=0.3)
    if title:
        ax_spb.set_title(title)
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
