"""Quality measures of a reconstructed system against the true one (definitions: docs/metrics.md).

Distribution distances between two sampled series of the observed variable:

* :func:`isi_wasserstein`: Wasserstein-1 distance between the empirical ISI distributions (in the
  time unit of the ISIs);
* :func:`power_spectrum_hellinger`: Hellinger distance D_H between normalised power spectra (in [0, 1]);
* :func:`state_space_divergence`: D_stsp, binned Kullback-Leibler divergence between the occupation
  histograms of the two series in one fixed delay space (in nats).

Their scale depends on the settings and on the record length, so always report them next to the
*truth-vs-truth floor*: the same distance between two independent trajectories of the true system
(:func:`compare_series` does both). Every default below is our choice, documented where it is set.

Regime-level scores: :func:`regime_sequence` / :func:`regime_sequence_score` (single-series mode),
:func:`heldout_accuracy`, :func:`transition_points` (tagged mode) and
:func:`lyapunov_sign_agreement`. Baselines of the knob (tagged mode): :func:`nearest_tag_lookup`,
:func:`nearest_tag_baseline`, :func:`beyond_lookup_recall` (with :func:`points_at`). Definitions:
docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .._core.errors import InputError
from ..embedding.delay import delay_view
from .spikes import spike_times

__all__ = [
    "SPECTRUM_SEGMENTS",
    "SPECTRUM_SMOOTHING",
    "STSP_DIM",
    "STSP_BINS",
    "STSP_ALPHA",
    "isi_wasserstein",
    "power_spectrum_hellinger",
    "state_space_divergence",
    "delay_lag",
    "truth_floor",
    "compare_series",
]

#: Welch segments: the segment length is the largest power of two <= n / SPECTRUM_SEGMENTS (our
#: choice; with 50 % overlap this averages about 2 * SPECTRUM_SEGMENTS - 1 periodograms).
SPECTRUM_SEGMENTS = 8
#: standard deviation, in frequency bins, of the Gaussian kernel applied to the Welch spectrum (our choice)
SPECTRUM_SMOOTHING = 2.0
#: delay-space dimension of D_stsp (our choice)
STSP_DIM = 3
#: bins per delay coordinate inside the reference range (plus one overflow bin at each end; our choice)
STSP_BINS = 16
#: Laplace pseudo-count added to every cell of both histograms (Krichevsky-Trofimov 1/2; our choice)
STSP_ALPHA = 0.5


# ----------------------------------------------------------------------------------- validation


def _series(name: str, x: Any, min_len: int = 1) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a 1-D array of numbers, got {type(x).__name__}") from None
    if a.ndim != 1:
        raise InputError(f"{name} must be 1-D, got shape {a.shape}; pass one scalar series")
    if a.size < min_len:
        raise InputError(f"{name} needs at least {min_len} samples, got {a.size}; use a longer record")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or inf; clean the series or shorten it before the bad part")
    return a


def _positive(name: str, v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a positive number, got {v!r}") from None
    if not (np.isfinite(f) and f > 0):
        raise InputError(f"{name} must be a positive number, got {v!r}")
    return f


# ------------------------------------------------------------------------------ ISI distributions


def isi_wasserstein(isi_a: Any, isi_b: Any) -> float:
    """Wasserstein-1 distance between the empirical distributions of two sets of ISIs.

    Units: those of the ISIs (e.g. s). Each set is a sample of inter-spike intervals; the sets may
    differ in size. Symmetric; 0 for identical samples; equals ``c`` when ``isi_b = isi_a + c``.
    """
    a = _series("isi_a", isi_a)
    b = _series("isi_b", isi_b)
    from scipy import stats  # here, not at import: scipy.signal and scipy.stats are slow to load

    return float(stats.wasserstein_distance(a, b))


# ---------------------------------------------------------------------------------- power spectra


def _spectrum(x: np.ndarray, dt: float, nperseg: int, smoothing: float, fmax: float | None) -> np.ndarray:
    from scipy import signal
    from scipy.ndimage import gaussian_filter1d

    f, pxx = signal.welch(x, fs=1.0 / dt, window="hann", nperseg=nperseg, detrend="constant")
    keep = f > 0  # the mean is removed: the DC bin carries no information
    if fmax is not None:
        keep &= f <= fmax
    pxx = pxx[keep]
    if smoothing > 0:
        pxx = gaussian_filter1d(pxx, smoothing, mode="nearest")
    return pxx


def power_spectrum_hellinger(
    x_a: Any,
    x_b: Any,
    dt: float,
    *,
    smoothing: float = SPECTRUM_SMOOTHING,
    fmax: float | None = None,
    nperseg: int | None = None,
) -> float:
    """Hellinger distance D_H in [0, 1] between the normalised power spectra of two series.

    Both series are sampled at the same step ``dt``. Settings (defaults are our choices):

    * Welch estimate, Hann window, 50 % overlap, mean removed per segment; ``nperseg`` defaults to
      the largest power of two <= min(len) / :data:`SPECTRUM_SEGMENTS` (at least 16, at most
      min(len)); both spectra use the same segment length, so they share one frequency grid;
    * the DC bin is dropped, frequencies above ``fmax`` (in 1 / time unit of ``dt``) too;
    * each spectrum is smoothed by a Gaussian kernel of standard deviation ``smoothing`` frequency
      bins (0 = none), then normalised to unit sum p_k, q_k;
    * D_H = sqrt(1 - sum_k sqrt(p_k q_k)): 0 for equal spectra, 1 for disjoint ones.

    A series without variance (a fixed point) has no spectrum to normalise: D_H is 0 if both are
    constant and 1 if only one is.

    For a periodic signal D_H mostly measures the period: its power sits in narrow lines at the
    harmonics, which a small change of period moves out of each other's smoothing kernel, so a
    slightly wrong period gives a large D_H even with the waveform exactly right.
    """
    dt = _positive("dt", dt)
    a = _series("x_a", x_a, min_len=16)
    b = _series("x_b", x_b, min_len=16)
    if smoothing is None or not (np.isfinite(float(smoothing)) and float(smoothing) >= 0):
        raise InputError(f"smoothing must be >= 0 frequency bins, got {smoothing!r}")
    if fmax is not None:
        fmax = _positive("fmax", fmax)
        if fmax > 0.5 / dt:
            fmax = None  # above Nyquist: keep everything
    n = min(a.size, b.size)
    if nperseg is None:
        nperseg = default_nperseg(n)
    nperseg = int(nperseg)
    if not 16 <= nperseg <= n:
        raise InputError(f"nperseg must be in 16..{n} (the shorter series), got {nperseg}")
    pa = _spectrum(a, dt, nperseg, float(smoothing), fmax)
    pb = _spectrum(b, dt, nperseg, float(smoothing), fmax)
    if pa.size == 0:
        raise InputError(f"fmax={fmax!r} leaves no frequency bin; raise it above {1.0 / (nperseg * dt):g}")
    return spectra_hellinger(pa, pb)


def default_nperseg(n: int) -> int:
    """The Welch segment length of :func:`power_spectrum_hellinger` for series of ``n`` samples."""
    return max(16, 2 ** int(np.floor(np.log2(max(n // SPECTRUM_SEGMENTS, 1)))))


def welch_spectrum(x: np.ndarray, dt: float, nperseg: int) -> np.ndarray:
    """The smoothed spectrum that :func:`power_spectrum_hellinger` compares (default settings), for
    reuse when one series is compared with many (see :func:`spectra_hellinger`)."""
    return _spectrum(np.asarray(x, dtype=np.float64), dt, int(nperseg), SPECTRUM_SMOOTHING, None)


def spectra_hellinger(pa: np.ndarray, pb: np.ndarray) -> float:
    """D_H of two spectra on one frequency grid (the last step of :func:`power_spectrum_hellinger`)."""
    sa, sb = pa.sum(), pb.sum()
    tiny = np.finfo(np.float64).tiny
    if sa <= tiny or sb <= tiny:
        return 0.0 if (sa <= tiny and sb <= tiny) else 1.0
    bc = float(np.sum(np.sqrt((pa / sa) * (pb / sb))))
    return float(np.sqrt(max(0.0, 1.0 - min(bc, 1.0))))


# ------------------------------------------------------------------------------ delay-space KL


def delay_lag(x: Any, *, max_lag: int | None = None) -> int:
    """Delay (in samples) where the autocorrelation of ``x`` first drops below 1/e (at least 1).

    Capped at ``max_lag`` (default len(x) // 20). Our default lag rule for :func:`state_space_divergence`.
    """
    a = _series("x", x, min_len=4)
    a = a - a.mean()
    n = a.size
    max_lag = n // 20 if max_lag is None else int(max_lag)
    max_lag = max(1, max_lag)
    var = float(a @ a)
    if var <= 0:
        return 1
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(a, nfft)
    acf = np.fft.irfft(spec * np.conj(spec), nfft)[: max_lag + 1] / var
    below = np.flatnonzero(acf[1:] < np.exp(-1.0))
    return int(below[0] + 1) if below.size else max_lag


def state_space_divergence(
    x_a: Any,
    x_b: Any,
    *,
    dim: int = STSP_DIM,
    lag: int | None = None,
    bins: int = STSP_BINS,
    alpha: float = STSP_ALPHA,
) -> float:
    """D_stsp = KL(P_a || P_b) in nats between occupation histograms in one fixed delay space.

    ``x_a`` is the reference (the true series): the delay space and its grid come from it alone, so
    every series compared against the same reference lands on the same cells.

    * delay vectors [x(n), x(n - lag), ..., x(n - (dim-1) lag)]; ``lag`` defaults to
      :func:`delay_lag` of ``x_a`` (first drop of its autocorrelation below 1/e);
    * each coordinate is cut into ``bins`` equal bins spanning [min x_a, max x_a], plus one overflow
      bin on each side, so mass of ``x_b`` outside the reference range is kept and penalised;
    * Laplace smoothing: ``alpha`` pseudo-counts are added to every one of the (bins + 2)^dim cells of
      both histograms before normalising, so the divergence is finite (KT estimator, alpha = 1/2);
      identical series give exactly 0.
    """
    a = _series("x_a", x_a, min_len=4)
    b = _series("x_b", x_b, min_len=4)
    dim, bins = int(dim), int(bins)
    if not 1 <= dim <= 6:
        raise InputError(f"dim must be in 1..6 (the histogram has (bins+2)^dim cells), got {dim}")
    if bins < 2:
        raise InputError(f"bins must be >= 2, got {bins}")
    alpha = _positive("alpha", alpha)
    lag = delay_lag(a) if lag is None else int(lag)
    if lag < 1:
        raise InputError(f"lag must be >= 1 sample, got {lag}")
    for name, s in (("x_a", a), ("x_b", b)):
        if s.size <= (dim - 1) * lag:
            raise InputError(
                f"{name} has {s.size} samples, too few for dim={dim}, lag={lag}; use a longer series"
            )
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        hi = lo + 1.0  # a constant reference: one populated bin
    inner = np.linspace(lo, hi, bins + 1)[1:-1]  # interior edges: bins 1..bins, overflow 0 and bins+1

    def hist(s: np.ndarray) -> np.ndarray:
        idx = np.where(s < lo, 0, np.where(s > hi, bins + 1, 1 + np.searchsorted(inner, s, side="right")))
        cells = np.ravel_multi_index(delay_view(idx, dim, lag).T, (bins + 2,) * dim)
        counts = np.bincount(cells, minlength=(bins + 2) ** dim).astype(np.float64) + alpha
        return counts / counts.sum()

    p, q = hist(a), hist(b)
    return float(max(0.0, np.sum(p * (np.log(p) - np.log(q)))))


# ---------------------------------------------------------------------------------- with floors


def truth_floor(metric: Callable[..., float], x_true: Any, x_true2: Any, *args: Any, **kwargs: Any) -> float:
    """The truth-vs-truth floor of ``metric``: ``metric(x_true, x_true2, ...)``.

    ``x_true`` and ``x_true2`` are two independent trajectories of the true system (different initial
    states, same settings and length as the model series); ``x_true`` comes first because it is the
    reference of :func:`state_space_divergence`.
    """
    return float(metric(x_true, x_true2, *args, **kwargs))


def _isi(x: np.ndarray, threshold: float, dt: float, hysteresis: float = 0.0) -> np.ndarray:
    t = spike_times(x, threshold, dt, hysteresis=hysteresis)
    return np.diff(t) if t.size > 1 else np.empty(0)


def compare_series(
    x_model: Any,
    x_true: Any,
    x_true2: Any,
    dt: float,
    threshold: float,
    *,
    spectrum: Mapping[str, Any] | None = None,
    stsp: Mapping[str, Any] | None = None,
    hysteresis: float = 0.0,
) -> dict:
    """All distribution distances of a model series against the truth, each next to its floor.

    ``x_model``, ``x_true``, ``x_true2``: the observed variable of the free-running model and of two
    independent true trajectories, sampled at ``dt`` (same time unit as the ISIs); ``threshold``:
    spike threshold (``hysteresis``: see :func:`spike_times`). ``spectrum`` / ``stsp``: keyword
    settings passed to :func:`power_spectrum_hellinger` / :func:`state_space_divergence` (defaults
    otherwise).

    Returns a JSON-ready dict; ``value`` is model vs ``x_true``, ``floor`` is ``x_true2`` vs ``x_true``:

    * ``isi_w1``: W1 between ISIs (time unit), also divided by the true mean ISI (``value_rel``,
      ``floor_rel``); ``None`` where a series has fewer than 2 ISIs;
    * ``power_hellinger``: D_H in [0, 1];
    * ``state_space_kl``: D_stsp in nats, on the grid of ``x_true``.
    """
    dt = _positive("dt", dt)
    xm = _series("x_model", x_model, min_len=16)
    xt = _series("x_true", x_true, min_len=16)
    xt2 = _series("x_true2", x_true2, min_len=16)
    threshold = float(threshold)
    spectrum = dict(spectrum or {})
    stsp = dict(stsp or {})
    if "lag" not in stsp:
        stsp["lag"] = delay_lag(xt)
    return {
        "isi_w1": _isi_scores(xm, xt, xt2, threshold, dt, hysteresis),
        "power_hellinger": {
            "value": power_spectrum_hellinger(xm, xt, dt, **spectrum),
            "floor": power_spectrum_hellinger(xt2, xt, dt, **spectrum),
        },
        "state_space_kl": {
            "value": state_space_divergence(xt, xm, **stsp),
            "floor": state_space_divergence(xt, xt2, **stsp),
        },
        "settings": {
            "dt": dt,
            "threshold": threshold,
            "spectrum": {"smoothing": SPECTRUM_SMOOTHING, "segments": SPECTRUM_SEGMENTS, **spectrum},
            "stsp": {"dim": STSP_DIM, "bins": STSP_BINS, "alpha": STSP_ALPHA, **stsp},
        },
    }


def _isi_scores(xm: np.ndarray, xt: np.ndarray, xt2: np.ndarray, threshold: float, dt: float,
                hysteresis: float) -> dict:
    """The ``isi_w1`` entry of :func:`compare_series`: W1 of the model's and of the second true
    series' ISIs against the true ISIs, absolute and over the true mean ISI."""
    isi_m, isi_t, isi_t2 = (_isi(s, threshold, dt, hysteresis) for s in (xm, xt, xt2))
    mean_t = float(isi_t.mean()) if isi_t.size else float("nan")

    def w1(other: np.ndarray) -> float | None:
        if isi_t.size < 2 or other.size < 2:
            return None
        return isi_wasserstein(other, isi_t)

    def rel(v: float | None) -> float | None:
        return None if v is None or not np.isfinite(mean_t) or mean_t <= 0 else v / mean_t

    w_val, w_floor = w1(isi_m), w1(isi_t2)
    return {
        "value": w_val,
        "floor": w_floor,
        "value_rel": rel(w_val),
        "floor_rel": rel(w_floor),
        "true_isi_mean": mean_t if np.isfinite(mean_t) else None,
        "n_isi": {"model": int(isi_m.size), "true": int(isi_t.size), "true2": int(isi_t2.size)},
    }


# --------------------------------------------------------------------------------- regime scores
