"""Data-derived choices: spike threshold, sampling step of the map, delay-window length.

Every rule reads only the series (no model-specific constants), so the same defaults serve the HH
burster and a user's bursting recording (e.g. Hindmarsh-Rose). All constants are OUR choices (the
paper's settings are not available) and are exposed as configuration fields by the caller.

* spike threshold = q_lo + ``level`` * (q_hi - q_lo), with q_lo, q_hi the 1st and 99.9th percentiles
  (level 0.75 gives -32 mV on the HH burster, whose textbook threshold is -30 mV);
* spike hysteresis = ``hysteresis_noise`` * sigma, at most a quarter of q_hi - q_lo, with sigma the
  measurement noise estimated from the sample-to-sample differences (1.4826 * median |x[n+1] - x[n]|
  / sqrt(2); a smooth series gives nearly 0): a crossing of the threshold counts as a new spike only
  after the series was that far below it, so noise on a spike does not count as more spikes;
* fast time scale T_f = 10th percentile of the inter-spike intervals (the fastest repeated motion);
  without enough spikes, the first zero crossing of the autocorrelation;
* sampling step = T_f / ``samples_per_fast``, rounded down to an integer multiple (stride) of the data step,
  and at most ``step_per_rise`` times the spikes' median rise time (threshold to peak): a brief spike of
  a slowly firing cell (the 1.5 ms upstroke of a pacemaker at 1.7 Hz) keeps its peak at the map step;
* window D_e = round(``window_fast`` * T_f / sampling step) samples.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._core.errors import InputError
from .._core.signal import upcrossings

__all__ = ["spike_threshold", "spike_rise_time", "noise_sigma", "measurement_noise", "fast_time_scale", "SamplingChoice",
           "choose_sampling", "NOISE_LIMIT_REL", "NOISE_WARN_REL"]

#: measurement noise, relative to the spike height, from which a fit warns that its map may not be
#: faithful: the default reconstruction of the HH burster at V_S = -40 mV turned tonic with white noise of
#: 0.1 mV, 0.25 % of its 39 mV spike height (docs/experiments.md, "Labels of real trains and the noise
#: report")
NOISE_WARN_REL = 0.002
#: ... and beyond which no measured fit kept the knob: the demo's tagged protocol held out 0.71 at 2 mV
#: white noise (5.1 % of the spike height) and 0.35, below the nearest-tag lookup's 0.61, at 4 mV
#: (docs/experiments.md, "The slow variable in the state")
NOISE_LIMIT_REL = 0.05


def _span(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(np.asarray(x, dtype=np.float64), [1.0, 99.9])
    if not hi > lo:
        raise InputError("the series is constant; it has no spikes or oscillations to reconstruct")
    return float(lo), float(hi)


def noise_sigma(x: np.ndarray) -> float:
    """Standard deviation of white measurement noise on ``x``, estimated from its sample-to-sample
    differences (robust: median absolute difference); close to 0 for a smooth, finely sampled series."""
    d = np.diff(np.asarray(x, dtype=np.float64))
    return float(1.4826 * np.median(np.abs(d)) / np.sqrt(2.0)) if d.size else 0.0


def measurement_noise(x: np.ndarray) -> float:
    """Standard deviation of white measurement noise on ``x`` from its second differences
    x[n+1] - 2 x[n] + x[n-1] (robust: their median absolute value; a smooth signal's own curvature
    hardly counts where it is finely sampled): 1.4826 median |d2| / sqrt(6)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 3:
        return 0.0
    d2 = x[2:] - 2.0 * x[1:-1] + x[:-2]
    return float(1.4826 * np.median(np.abs(d2)) / np.sqrt(6.0))


def spike_threshold(x: np.ndarray, level: float = 0.75) -> float:
    """Threshold at ``level`` of the way from the 1st to the 99.9th percentile of ``x``."""
    lo, hi = _span(x)
    return lo + level * (hi - lo)


def spike_rise_time(x: np.ndarray, dt: float, threshold: float, hysteresis: float = 0.0) -> float | None:
    """The median time from a spike's up-crossing of ``threshold`` (interpolated, counted with
    ``hysteresis``) to its peak (the largest sample before it falls below ``threshold - hysteresis``,
    the level that re-arms the next spike, so that noise dipping under the threshold on the upstroke
    does not end the spike); None without a whole spike."""
    x = np.asarray(x, dtype=np.float64)
    t = upcrossings(x, threshold, dt, hysteresis=hysteresis)
    k = np.floor(t / dt + 1e-9).astype(int)  # the sample at or before each crossing
    below = np.flatnonzero(x < threshold - hysteresis)
    ends = np.searchsorted(below, k, side="right")
    rise = [(a + int(np.argmax(x[a : below[j]]))) * dt - tc for tc, a, j in zip(t, k, ends) if j < below.size]
    return float(np.median(rise)) if rise else None


def _acf_zero(x: np.ndarray, dt: float) -> float:
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    n = x.shape[0]
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n]
    acf /= acf[0]
    neg = np.flatnonzero(acf < 0)
    return float((neg[0] if neg.size else n // 10) * dt * 4)


def fast_time_scale(x: np.ndarray, dt: float, threshold: float, min_spikes: int = 8, hysteresis: float = 0.0
                    ) -> tuple[float, str]:
    """The fast time scale T_f of the series and how it was obtained ("isi" or "acf")."""
    t = upcrossings(np.asarray(x, dtype=np.float64), threshold, dt, hysteresis=hysteresis)
    if t.size >= min_spikes:
        return float(np.percentile(np.diff(t), 10.0)), "isi"
    return _acf_zero(x, dt), "acf"


@dataclasses.dataclass(frozen=True)
class SamplingChoice:
    """What the rules chose for one set of series (stored in the model config/history)."""

    spike_threshold: float
    fast_time: float
    fast_time_source: str
    stride: int
    dt_map: float
    window: int
    spike_hysteresis: float = 0.0  # 0 in bundles saved before it existed
    #: the series' measurement noise (:func:`measurement_noise`, the largest over the series) and the
    #: spike height it is measured against (99.9th minus 1st percentile); 0 in older bundles
    noise_sd: float = 0.0
    spike_height: float = 0.0

    def noise_report(self) -> dict:
        """The noise level, absolute and relative to the spike height, and whether it reaches
        :data:`NOISE_WARN_REL` (``too_large``, with the ``message`` a fit prints)."""
        rel = self.noise_sd / self.spike_height if self.spike_height > 0 else None
        large = rel is not None and rel >= NOISE_WARN_REL
        msg = (f"measurement noise {self.noise_sd:.3g} ({100 * rel:.2g} % of the spike height)" if rel is not None
               else "measurement noise unknown")
        beyond = rel is not None and rel > NOISE_LIMIT_REL
        if beyond:
            msg += (f": above {100 * NOISE_LIMIT_REL:g} %, beyond any level at which a fit was measured to keep "
                    "a burster's regimes; do not trust the map")
        elif large:
            msg += (f": at or above {100 * NOISE_WARN_REL:g} %, where the map of the newest samples alone was "
                    "measured to lose the bursts of a clean burster")
        return {"sd": float(self.noise_sd), "rel": rel, "warn_rel": NOISE_WARN_REL, "limit_rel": NOISE_LIMIT_REL,
                "too_large": bool(large), "beyond_measured": bool(beyond), "message": msg}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def choose_sampling(
    xs: list[np.ndarray],
    dt: float,
    *,
    threshold: float | None,
    threshold_level: float,
    samples_per_fast: float,
    window_fast: float,
    min_window: int,
    max_window: int,
    hysteresis_noise: float = 0.0,
    step_per_rise: float | None = None,
) -> SamplingChoice:
    """Apply the rules to the training series (pooled; the shortest fast time scale wins)."""
    pooled = np.concatenate([np.asarray(x, dtype=np.float64) for x in xs])
    lo, hi = _span(pooled)
    th = lo + threshold_level * (hi - lo) if threshold is None else float(threshold)
    noise = max(noise_sigma(x) for x in xs)
    hyst = min(float(hysteresis_noise) * noise, 0.25 * (hi - lo))
    scales = [fast_time_scale(x, dt, th, hysteresis=hyst) for x in xs]
    tf, src = min(scales, key=lambda s: s[0])
    stride = max(1, int(np.floor(tf / samples_per_fast / dt)))
    if step_per_rise:  # the fastest rising spikes of any series
        rises = [r for r in (spike_rise_time(x, dt, th, hyst) for x in xs) if r is not None]
        if rises:
            stride = max(1, min(stride, int(np.floor(step_per_rise * min(rises) / dt + 1e-9))))
    dt_map = stride * dt
    window = int(np.clip(round(window_fast * tf / dt_map), min_window, max_window))
    noise_sd = max(measurement_noise(x) for x in xs)
    return SamplingChoice(th, tf, src, stride, dt_map, window, hyst, noise_sd, float(hi - lo))
