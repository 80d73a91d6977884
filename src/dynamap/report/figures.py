"""Figures (matplotlib, Agg backend): orbit diagrams of sweeps, the latent-dimension evidence."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["REGIME_COLORS", "latent_evidence_figure", "sweep_figure", "to_png"]

REGIME_COLORS = {
    "silent": "#7f7f7f",
    "tonic": "#1f77b4",
    "bursting": "#2ca02c",
    "mixed": "#9467bd",
    "irregular": "#d62728",
    "failed": "#000000",
}


def _scatter_data(pts: list[dict]) -> tuple[list, ...]:
    """The points of the three scatter panels, flattened over the sweep: spikes per burst (x, y,
    colour by regime; tonic points without counts at 1), ISIs (x, y) and local maxima (x, y)."""
    spb_x, spb_y, spb_c, isi_x, isi_y, mx_x, mx_y = [], [], [], [], [], [], []
    for pt in pts:
        v = pt["value"]
        counts = pt.get("spb_counts") or {}
        ks = [int(k) for k in counts] if counts else ([1] if pt.get("regime") == "tonic" else [])
        spb_x += [v] * len(ks)
        spb_y += ks
        spb_c += [REGIME_COLORS.get(pt.get("regime"), "#000000")] * len(ks)
        isi = pt.get("isi") or []
        isi_x += [v] * len(isi)
        isi_y += list(isi)
        mx = pt.get("maxima") or []
        mx_x += [v] * len(mx)
        mx_y += list(mx)
    return spb_x, spb_y, spb_c, isi_x, isi_y, mx_x, mx_y


def _plot_lyapunov(ax_le, pts: list[dict]) -> None:
    """The largest exponent along the sweep with its zero line, or a note when none was computed."""
    les = [(pt["value"], pt.get("lyapunov_max")) for pt in pts if pt.get("lyapunov_max") is not None]
    if les:
        lv, ll = zip(*les)
        ax_le.plot(lv, ll, ".-", color="#d62728", ms=3, lw=0.8)
        ax_le.axhline(0.0, color="k", lw=0.5)
    else:
        ax_le.text(0.5, 0.5, "largest exponent not computed", ha="center", va="center",
                   transform=ax_le.transAxes)


def _label_panels(axes, sweep: dict, param: str, pts: list[dict], title: str) -> None:
    """Axis labels (x: the swept parameter ``param``), the legend of the regimes present, grids and the
    title."""
    ax_spb, ax_isi, ax_max, ax_le = axes
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
    # one scatter per panel (a call per point is slow for long sweeps)
    spb_x, spb_y, spb_c, isi_x, isi_y, mx_x, mx_y = _scatter_data(pts)
    if spb_x:
        ax_spb.scatter(spb_x, spb_y, s=8, c=spb_c)
    if isi_x:
        ax_isi.scatter(isi_x, isi_y, s=1.0, color="k", alpha=0.5, rasterized=True)
    if mx_x:
        ax_max.scatter(mx_x, mx_y, s=1.0, color="k", alpha=0.5, rasterized=True)
    _plot_lyapunov(ax_le, pts)
    _label_panels(axes, sweep, param, pts, title)
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def to_png(fig, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def latent_evidence_figure(history: dict, title: str = ""):
    """Latent-dimension evidence of a fit's history: the VAE loss curves for each trial D_r, the
    evaluation loss L(D) with the chosen D_r marked, and the per-unit KL of each trial (inactive units
    collapse onto the prior, KL near 0, below the active threshold)."""
    ev = history.get("latent_dim", {})
    per = ev.get("per_dim", {})
    dims = sorted(int(d) for d in per)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for d in dims:
        axes[0].plot(per[str(d)]["curve"], label=f"D_r={d}")
    axes[0].set_yscale("symlog")
    axes[0].set_xlabel("training (blocks of 50 steps)")
    axes[0].set_ylabel("VAE loss")
    if dims:
        axes[0].legend(fontsize=7)
        axes[1].plot(dims, [per[str(d)]["final_loss"] for d in dims], "o-")
    if ev.get("chosen") is not None:
        axes[1].axvline(ev["chosen"], color="r", ls="--", label=f"chosen D_r={ev['chosen']}")
        axes[1].legend()
    axes[1].set_xlabel("latent units D")
    axes[1].set_ylabel("evaluation loss L(D)")
    for d in dims:
        kl = per[str(d)]["kl_units"]
        axes[2].scatter([d] * len(kl), kl, s=12, color="k")
    axes[2].axhline(ev.get("active_kl", 0.05), color="r", ls=":", label="active threshold")
    axes[2].set_yscale("symlog", linthresh=1e-2)
    axes[2].set_xlabel("latent units D")
    axes[2].set_ylabel("per-unit KL (nats)")
    axes[2].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
