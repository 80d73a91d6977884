"""Figures of the demo report (matplotlib, Agg): each takes dicts/arrays and returns a figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .figures import sweep_figure  # noqa: E402

__all__ = [
    "portraits_figure",
    "series_figure",
    "sweeps_side_by_side",
    "training_curves_figure",
]


def _label_sweep_axes(axes, xlabel: str, obs: str, t_unit: str) -> None:
    axes[1].set_ylabel(f"ISI ({t_unit})")
    axes[2].set_ylabel(f"local maxima of {obs}")
    axes[3].set_xlabel(xlabel)


def sweeps_side_by_side(true_sweep: dict, model_sweep: dict, *, true_xlabel: str = "V_S (mV)",
                        model_xlabel: str = "c (map control input)", obs: str = "V (mV)", t_unit: str = "s",
                        titles: tuple[str, str] = ("true system", "learned map"), marks=()):
    """Two orbit diagrams in columns (true left, map right): spikes per burst, ISIs, maxima, largest
    Lyapunov exponent per unit time, each against its own parameter. ``marks``: values of c to mark on
    the map's diagram (e.g. the training values)."""
    fig, axes = plt.subplots(4, 2, figsize=(13.0, 9.5), sharex="col", constrained_layout=True)
    sweep_figure(true_sweep, title=titles[0], axes=axes[:, 0])
    sweep_figure(model_sweep, title=titles[1], axes=axes[:, 1])
    _label_sweep_axes(axes[:, 0], true_xlabel, obs, t_unit)
    _label_sweep_axes(axes[:, 1], model_xlabel, obs, t_unit)
    for ax in axes[:, 1]:
        for m in marks:
            ax.axvline(float(m), color="orange", lw=1.0, ls="--")
    for ax in axes[3]:
        ax.set_ylabel(f"largest exponent (1/{t_unit})")
    return fig


def portraits_figure(true_states: np.ndarray, recovered: np.ndarray, *, true_names=("V (mV)", "n", "S")):
    """Phase portraits: the true (V, n, S) pairwise projections (top) beside the recovered states
    (u1, u2), (u1, u3), (u2, u3) (bottom; fewer panels when the latent dimension is below 3)."""
    ts = np.asarray(true_states, dtype=np.float64)
    rs = np.asarray(recovered, dtype=np.float64)
    pairs = [(0, 1), (0, 2), (1, 2)]
    fig, axes = plt.subplots(2, 3, figsize=(13.0, 7.5), constrained_layout=True)
    for ax, (i, j) in zip(axes[0], pairs):
        ax.plot(ts[:, i], ts[:, j], lw=0.3, color="#1f77b4")
        ax.set_xlabel(true_names[i])
        ax.set_ylabel(true_names[j])
        ax.set_title(f"true: {true_names[j]} vs {true_names[i]}", fontsize=9)
    d = rs.shape[1]
    for ax, (i, j) in zip(axes[1], pairs):
        if j >= d and not (d == 1 and i == 0):
            ax.text(0.5, 0.5, f"latent dimension {d}: no u{j + 1}", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
            continue
        if d == 1:
            ax.plot(rs[:-1, 0], rs[1:, 0], lw=0.3, color="#2ca02c")
            ax.set_xlabel("u1(n)")
            ax.set_ylabel("u1(n+1)")
            continue
        ax.plot(rs[:, i], rs[:, j], lw=0.3, color="#2ca02c")
        ax.set_xlabel(f"u{i + 1} (standardised)")
        ax.set_ylabel(f"u{j + 1} (standardised)")
        ax.set_title(f"recovered: u{j + 1} vs u{i + 1}", fontsize=9)
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
    return fig


def training_curves_figure(history: dict, title: str = ""):
    """VAE loss curves for each latent dimension tried, and the map loss of each candidate."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(13.0, 4.2), constrained_layout=True)
    per = history.get("latent_dim", {}).get("per_dim", {})
    for k in sorted(per, key=int):
        y = np.asarray(per[k].get("curve") or [], dtype=float)
        if y.size:
            a.plot(np.arange(1, y.size + 1), y, label=f"D_r = {k}")
    ref = np.asarray(history.get("latent_dim", {}).get("refine_curve") or [], dtype=float)
    if ref.size:
        a.plot(np.arange(1, ref.size + 1), ref, "k--", label="refine (chosen D_r)")
    a.set_xlabel("logging interval")
    a.set_ylabel("VAE loss (negative ELBO)")
    a.set_title("VAE training", fontsize=10)
    a.legend(fontsize=8)
    for i, cand in enumerate(history.get("map", {}).get("candidates", [])):
        y = np.asarray(cand.get("loss") or [], dtype=float)
        if y.size:
            b.semilogy(np.arange(1, y.size + 1), y, label=f"candidate {i}")
    b.set_xlabel("logging interval")
    b.set_ylabel("map loss (multi-step MSE, standardised)")
    b.set_title("map training", fontsize=10)
    if b.get_legend_handles_labels()[0]:
        b.legend(fontsize=8)
    for ax in (a, b):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def series_figure(traces: list[tuple[np.ndarray, float, str]], *, ylabel: str = "V (mV)", t_unit: str = "s",
                  span: float | None = None):
    """Time traces stacked: each (values, dt, label); the first ``span`` time units of each."""
    fig, axes = plt.subplots(len(traces), 1, figsize=(13.0, 2.2 * len(traces)), constrained_layout=True,
                             squeeze=False)
    for ax, (x, dt, lab) in zip(axes[:, 0], traces):
        x = np.asarray(x, dtype=float)
        n = x.size if span is None else min(x.size, int(span / dt))
        ax.plot(np.arange(n) * dt, x[:n], lw=0.6)
        ax.set_ylabel(ylabel)
        ax.set_title(lab, fontsize=9)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(f"time ({t_unit})")
    return fig
