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
* sampling step = T_f / ``samples_per_fast``, rounded down to an integer multiple (stride) of the data step;
* window D_e = round(``window_fast`` * T_f / sampling step) samples.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._core.errors import InputError
from .._core.signal import upcrossings

__all__ = ["spike_threshold", "noise_sigma", "fast_time_scale", "SamplingChoice", "choose_sampling"]


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


def spike_threshold(x: np.ndarray, level: float = 0.75) -> float:
    """Threshold at ``level`` of the way from the 1st to the 99.9th percentile of ``x``."""
    lo, hi = _span(x)
    return lo + level * (hi - lo)


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
    dt_map = stride * dt
    window = int(np.clip(round(window_fast * tf / dt_map), min_window, max_window))
    return SamplingChoice(th, tf, src, stride, dt_map, window, hyst)
