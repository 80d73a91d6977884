"""The sweep figure of an ensemble of models: the orbit diagram of its modal labels with the members'
agreement below it (data in, file out)."""

from __future__ import annotations

from pathlib import Path

from .figures import REGIME_COLORS, plt, sweep_figure

__all__ = ["ensemble_sweep_figure"]


def ensemble_sweep_figure(sweep: dict, path: str | Path | None = None, title: str = ""):
    """:func:`~dynamap.report.figures.sweep_figure` of an ensemble sweep (its points show the modal
    label, from a representative member) and a fifth panel: the agreement (share of members with the
    modal label) at each value, coloured by the modal regime, with the level 1/k of no agreement.

    Returns the figure; saves it to ``path`` when given.
    """
    fig, axes = plt.subplots(5, 1, figsize=(7.5, 10.5), sharex=True, constrained_layout=True,
                             gridspec_kw={"height_ratios": [1, 1, 1, 1, 0.7]})
    sweep_figure(sweep, None, title=title, axes=axes[:4])
    axes[3].set_xlabel("")
    ax = axes[4]
    pts = sweep["points"]
    k = int(sweep.get("ensemble", {}).get("k") or 1)
    vs = [p["value"] for p in pts]
    ag = [p.get("agreement", 1.0) for p in pts]
    ax.plot(vs, ag, "-", color="0.6", lw=0.8)
    ax.scatter(vs, ag, s=12, c=[REGIME_COLORS.get(p.get("regime"), "#000000") for p in pts], zorder=3)
    ax.axhline(1.0 / k, color="k", lw=0.5, ls=":")
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel(f"agreement\n(of {k} models)")
    ax.set_xlabel(sweep["param"])
    ax.grid(alpha=0.3)
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
