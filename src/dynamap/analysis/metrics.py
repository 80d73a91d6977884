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

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import signal, stats
from scipy.ndimage import gaussian_filter1d

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
    "regime_sequence",
    "regime_sequence_score",
    "regime_sequence_lcs",
    "regime_sequence_chance",
    "heldout_accuracy",
    "transition_points",
    "lyapunov_sign_agreement",
    "points_at",
    "nearest_tag_lookup",
    "nearest_tag_baseline",
    "beyond_lookup_recall",
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
    return float(stats.wasserstein_distance(a, b))


# ---------------------------------------------------------------------------------- power spectra


def _spectrum(x: np.ndarray, dt: float, nperseg: int, smoothing: float, fmax: float | None) -> np.ndarray:
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
    harmonics, which a small change of period moves out of each other's smoothing kernel. Measured on
    the HH burster (V, 600 s at 0.01 s, against the next 600 s of the same orbit; truth-vs-truth 1.5e-4
    at V_S = -40 mV): the true series slowed down by 0.2, 0.5, 1, 2, 5 % gives D_H 0.054, 0.12, 0.20,
    0.28, 0.36 at -40 mV and 0.043, 0.093, 0.15, 0.20, 0.27 at -42 mV, with the waveform exactly right.
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
        nperseg = max(16, 2 ** int(np.floor(np.log2(max(n // SPECTRUM_SEGMENTS, 1)))))
    nperseg = int(nperseg)
    if not 16 <= nperseg <= n:
        raise InputError(f"nperseg must be in 16..{n} (the shorter series), got {nperseg}")
    pa = _spectrum(a, dt, nperseg, float(smoothing), fmax)
    pb = _spectrum(b, dt, nperseg, float(smoothing), fmax)
    if pa.size == 0:
        raise InputError(f"fmax={fmax!r} leaves no frequency bin; raise it above {1.0 / (nperseg * dt):g}")
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
        "isi_w1": {
            "value": w_val,
            "floor": w_floor,
            "value_rel": rel(w_val),
            "floor_rel": rel(w_floor),
            "true_isi_mean": mean_t if np.isfinite(mean_t) else None,
            "n_isi": {"model": int(isi_m.size), "true": int(isi_t.size), "true2": int(isi_t2.size)},
        },
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


# --------------------------------------------------------------------------------- regime scores


def regime_sequence(labels: Sequence[Hashable]) -> list:
    """The ordered list of distinct consecutive regimes: runs of equal labels collapse to one entry.

    A label is any hashable compared with ``==``, e.g. ``"tonic"`` or ``("bursting", (3,))``.
    ``["b", "b", "t", "b"] -> ["b", "t", "b"]``.
    """
    out: list = []
    for lab in labels:
        if not out or out[-1] != lab:
            out.append(lab)
    return out


def _lcs_length(a: Sequence, b: Sequence) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def regime_sequence_score(true_seq: Sequence[Hashable], model_seq: Sequence[Hashable]) -> float:
    """Regime-sequence agreement in [0, 1] (single-series mode; docs/metrics.md section 4).

    LCS(true, model) / len(true), maximised over both directions of the model sequence (the map's
    control c may run opposite to the true parameter). Pass the outputs of :func:`regime_sequence`.
    """
    t = list(true_seq)
    if not t:
        raise InputError(
            "true_seq is empty; pass the regime sequence of the true sweep (at least one regime)"
        )
    return regime_sequence_lcs(t, model_seq) / len(t)


def regime_sequence_lcs(true_seq: Sequence[Hashable], model_seq: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence of the two regime sequences, the larger over both
    directions of the model sequence (as in :func:`regime_sequence_score`).

    Divided by ``len(model_seq)`` it is the sequence's *precision*: the share of the map's regime
    runs that belong to the matched order. The score alone rewards a fragmented map sequence, which
    contains more subsequences; the precision exposes it.
    """
    t, m = list(true_seq), list(model_seq)
    return max(_lcs_length(t, m), _lcs_length(t, m[::-1]))


def regime_sequence_chance(true_seq: Sequence[Hashable], model_seq: Sequence[Hashable], *,
                           n_shuffles: int = 500, seed: int = 0) -> dict:
    """What :func:`regime_sequence_score` gives by chance for a map with the same regimes in no
    particular order: the model's regime runs are shuffled ``n_shuffles`` times (random order along
    c; adjacent equal runs then merge, as in :func:`regime_sequence`) and scored.

    Returns ``{"mean", "p95", "p_value", "n_shuffles", "seed"}``: the mean and 95th percentile of the
    shuffled scores, and the share of shuffles scoring at least as high as the model's own order
    (small: the order along c carries information; near 1: the score only reflects which regimes the
    map has). Deterministic for a given ``seed``.
    """
    t, m = list(true_seq), list(model_seq)
    if not isinstance(n_shuffles, (int, np.integer)) or isinstance(n_shuffles, bool) or n_shuffles < 1:
        raise InputError(f"n_shuffles must be a positive integer, got {n_shuffles!r}")
    actual = regime_sequence_score(t, m)
    rng = np.random.default_rng(seed)
    scores = np.array([regime_sequence_score(t, regime_sequence([m[i] for i in rng.permutation(len(m))]))
                       for _ in range(int(n_shuffles))]) if m else np.zeros(int(n_shuffles))
    return {"mean": float(scores.mean()), "p95": float(np.quantile(scores, 0.95)),
            "p_value": float(np.mean(scores >= actual - 1e-12)), "n_shuffles": int(n_shuffles),
            "seed": int(seed)}


def _point_field(point: Any, key: str, name: str, i: int) -> Any:
    try:
        return point[key]
    except (KeyError, TypeError, IndexError):
        raise InputError(
            f"{name}[{i}] must be a mapping with a {key!r} entry (a sweep point), got {point!r}"
        ) from None


def heldout_accuracy(true_points: Sequence[Mapping], model_points: Sequence[Mapping]) -> float:
    """Fraction of held-out parameter values where the model matches the truth (tagged mode).

    Points are sweep points (dicts with ``"regime"`` and ``"spikes_per_burst"``), paired by position.
    A point matches when the regimes are equal and the *sets* of spikes-per-burst values are equal;
    for ``"irregular"`` points only the regime is compared (the set of values seen in a chaotic
    window depends on the record length, so it is not a stable target).
    """
    t, m = list(true_points), list(model_points)
    if not t:
        raise InputError("true_points is empty; pass at least one held-out point")
    if len(t) != len(m):
        raise InputError(
            f"true_points and model_points must pair up by position, got {len(t)} and {len(m)} points"
        )
    hits = 0
    for i, (pt, pm) in enumerate(zip(t, m)):
        rt = _point_field(pt, "regime", "true_points", i)
        rm = _point_field(pm, "regime", "model_points", i)
        if rt != rm:
            continue
        if rt == "irregular":
            hits += 1
            continue
        st = {int(v) for v in (_point_field(pt, "spikes_per_burst", "true_points", i) or [])}
        sm = {int(v) for v in (_point_field(pm, "spikes_per_burst", "model_points", i) or [])}
        hits += st == sm
    return hits / len(t)


def transition_points(
    values: Sequence[float], labels: Sequence[Hashable], from_label: Hashable, to_label: Hashable
) -> list[float]:
    """Parameter values where the label changes from ``from_label`` to ``to_label``.

    The grid is scanned in order of increasing value; each transition is placed at the midpoint of
    the two neighbouring grid values (error at most half a grid step). Only adjacent grid points
    count: ``bursting, irregular, tonic`` has no direct bursting -> tonic transition.
    """
    v = _series("values", values)
    labs = list(labels)
    if len(labs) != v.size:
        raise InputError(f"values and labels must have the same length, got {v.size} and {len(labs)}")
    order = np.argsort(v, kind="stable")
    vs = v[order]
    ls = [labs[i] for i in order]
    return [
        float(0.5 * (vs[i] + vs[i + 1]))
        for i in range(vs.size - 1)
        if ls[i] == from_label and ls[i + 1] == to_label
    ]


def lyapunov_sign_agreement(le_true: Any, le_model: Any, tol: float) -> float:
    """Fraction of entries whose Lyapunov exponents have the same sign with a zero band.

    sign_tol(le) = 0 if |le| <= ``tol`` else sign(le); entries are paired by position (e.g. the
    largest exponent at each parameter value, or a whole spectrum), in the same units as ``tol``.
    A NaN in ``le_model`` (a diverged orbit) counts as disagreement; NaN in ``le_true`` is an error.
    """
    t = np.asarray(le_true, dtype=np.float64).ravel()
    m = np.asarray(le_model, dtype=np.float64).ravel()
    if t.size == 0 or t.size != m.size:
        raise InputError(
            f"le_true and le_model must be non-empty and equally long, got {t.size} and {m.size}"
        )
    if not np.all(np.isfinite(t)):
        raise InputError("le_true contains NaN or inf; drop the failed true points first")
    tol = float(tol)
    if not (np.isfinite(tol) and tol >= 0):
        raise InputError(f"tol must be a number >= 0, got {tol!r}")

    def sgn(x: np.ndarray) -> np.ndarray:
        return np.where(np.abs(x) <= tol, 0.0, np.sign(x))

    with np.errstate(invalid="ignore"):
        ok = np.isfinite(m) & (sgn(t) == sgn(np.nan_to_num(m)))
    return float(ok.mean())


# ------------------------------------------------------------------ baselines of the knob (tagged)


def _point_value(point: Any, name: str, i: int) -> float:
    v = _point_field(point, "value", name, i)
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name}[{i}]['value'] must be a number, got {v!r}") from None
    if not np.isfinite(f):
        raise InputError(f"{name}[{i}]['value'] must be finite, got {v!r}")
    return f


def points_at(points: Sequence[Mapping], values: Sequence[float], *, value_tol: float = 1e-6) -> list[dict]:
    """The sweep points at ``values``, in the order of ``values`` (e.g. the true sweep's points at the
    training tags, the input of :func:`nearest_tag_lookup`).

    A point is at value v when |point value - v| <= ``value_tol`` (1 + |v|); the nearest such point is
    taken. A value with no point there is an error (sweep the truth at the tags, or pass the tag
    points yourself).
    """
    pts = list(points)
    pv = np.array([_point_value(p, "points", i) for i, p in enumerate(pts)])
    want = _series("values", values)
    out = []
    for v in want:
        if pv.size == 0:
            raise InputError("points is empty; pass the sweep that contains the values")
        d = np.abs(pv - v)
        j = int(np.argmin(d))
        if d[j] > value_tol * (1.0 + abs(v)):
            raise InputError(
                f"no point at value {v:g} (nearest {pv[j]:g}); "
                "sweep the truth at that value or pass its point"
            )
        out.append(dict(pts[j]))
    return out


def nearest_tag_lookup(values: Sequence[float], tag_points: Sequence[Mapping]) -> list[dict]:
    """The nearest-tag lookup (docs/metrics.md section 3): at each of ``values``, the label of the
    nearest tag.

    ``tag_points``: one sweep point per training tag (a mapping with ``"value"``, the tag, and its
    true ``"regime"`` and ``"spikes_per_burst"``; :func:`points_at` picks them from a true sweep).
    Tags must be distinct. Distances are |v - tag| in the parameter's units; when two tags are equally
    near (to 1e-9 (1 + |v|), e.g. v = -37 between tags -38 and -36) the lower tag is taken, so the
    lookup is deterministic.

    Returns one point per value: ``{"value": v, "regime", "spikes_per_burst": sorted list, "tag"}``,
    ready for :func:`heldout_accuracy` against the true points at ``values``.
    """
    v = _series("values", values)
    tp = list(tag_points)
    if not tp:
        raise InputError("tag_points is empty; pass the true point of at least one training tag")
    tags = np.array([_point_value(p, "tag_points", i) for i, p in enumerate(tp)])
    for i, p in enumerate(tp):
        _point_field(p, "regime", "tag_points", i)
    order = np.argsort(tags, kind="stable")
    tags_s = tags[order]
    if np.any(np.diff(tags_s) <= 0):
        dup = float(tags_s[np.flatnonzero(np.diff(tags_s) <= 0)[0]])
        raise InputError(f"tag_points has two points at value {dup:g}; pass one point per tag")
    out = []
    for x in v:
        d = np.abs(tags_s - x)
        # the first (lowest) tag within the tie band of the smallest distance
        k = int(np.flatnonzero(d <= d.min() + 1e-9 * (1.0 + abs(x)))[0])
        p = tp[int(order[k])]
        spb = sorted({int(s) for s in (p.get("spikes_per_burst") or [])})
        out.append({"value": float(x), "regime": str(p["regime"]), "spikes_per_burst": spb,
                    "tag": float(tags_s[k])})
    return out


def nearest_tag_baseline(true_points: Sequence[Mapping], tag_points: Sequence[Mapping]) -> float:
    """Held-out accuracy of the nearest-tag lookup: :func:`heldout_accuracy` of
    :func:`nearest_tag_lookup` at the values of ``true_points`` (the true held-out points) against
    those points. The score a tagged model must beat to have learned anything between its tags."""
    t = list(true_points)
    if not t:
        raise InputError("true_points is empty; pass at least one held-out point")
    values = [_point_value(p, "true_points", i) for i, p in enumerate(t)]
    return heldout_accuracy(t, nearest_tag_lookup(values, tag_points))


def _matches(t: Sequence[Mapping], m: Sequence[Mapping], name: str) -> list[bool]:
    if len(t) != len(m):
        raise InputError(
            f"true_points and {name} must pair up by position, got {len(t)} and {len(m)} points"
        )
    return [heldout_accuracy([a], [b]) == 1.0 for a, b in zip(t, m)]


def beyond_lookup_recall(
    true_points: Sequence[Mapping], model_points: Sequence[Mapping], lookup_points: Sequence[Mapping]
) -> float | None:
    """Share of the held-out values where the lookup is wrong that the model gets right.

    All three are point lists paired by position (the true held-out points, the model's points at the
    same values, :func:`nearest_tag_lookup` there); right and wrong follow :func:`heldout_accuracy`'s
    rule. Returns None when the lookup is never wrong (the ratio is 0/0: those values tell nothing
    about learning beyond the lookup), otherwise a number in [0, 1].
    """
    t = list(true_points)
    if not t:
        raise InputError("true_points is empty; pass at least one held-out point")
    model_ok = _matches(t, list(model_points), "model_points")
    lookup_ok = _matches(t, list(lookup_points), "lookup_points")
    wrong = [i for i, ok in enumerate(lookup_ok) if not ok]
    if not wrong:
        return None
    return sum(model_ok[i] for i in wrong) / len(wrong)
