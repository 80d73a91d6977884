"""Spike detection, bursts and regime labels on signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from dynamap.analysis.regimes import classify
from dynamap.analysis.spikes import burst_stats, spike_times


def test_spike_times_of_a_sine_are_exact_to_interpolation_error():
    dt = 1e-3
    t = np.arange(0, 10, dt)
    x = np.sin(2 * np.pi * 0.5 * t)  # upward zero crossings at t = 0 (excluded: starts at 0), 2, 4, 6, 8
    times = spike_times(x, 0.0, dt)
    np.testing.assert_allclose(times, [2.0, 4.0, 6.0, 8.0], atol=1e-6)


def _train(pattern, ibi, isi, n_bursts):
    times, t = [], 0.0
    for b in range(n_bursts):
        k = pattern[b % len(pattern)]
        for i in range(k):
            times.append(t + i * isi)
        t += (k - 1) * isi + ibi
    return np.array(times)


def test_burst_stats_counts_complete_bursts():
    st = burst_stats(_train([3], ibi=3.0, isi=0.4, n_bursts=10))
    assert not st.tonic
    assert st.spb_values == [3]
    assert st.spikes_per_burst.size == 8  # first and last dropped as possibly incomplete


def test_tonic_train():
    st = burst_stats(np.arange(50) * 0.5)
    assert st.tonic and st.spb_values == [1]


def _signal_from_train(times, dt=0.005, t_end=None):
    t_end = t_end or times[-1] + 1.0
    t = np.arange(0, t_end, dt)
    x = np.full(t.size, -60.0)
    for s in times:
        x += 40.0 * np.exp(-(((t - s) / 0.01) ** 2))
    return x


@pytest.mark.parametrize(
    "pattern,lyap,label,spb",
    [
        ([4], None, "bursting", [4]),
        ([3, 4], 0.0, "mixed", [3, 4]),
        ([3, 4, 6, 3, 5], 0.3, "irregular", [3, 4, 5, 6]),
    ],
)
def test_classify_bursting_patterns(pattern, lyap, label, spb):
    x = _signal_from_train(_train(pattern, ibi=3.0, isi=0.4, n_bursts=25))
    info = classify(x, 0.005, -30.0, lyapunov_max=lyap)
    assert info.regime == label
    assert info.spikes_per_burst == spb


def test_the_zero_band_of_the_exponent_is_per_mean_isi():
    """The same alternating 3-4 train in seconds and in a time unit 100x longer: an exponent of 0.01
    per unit time is inside the band (0.02 per mean ISI) when the mean ISI is about 0.8 units, and
    outside it when the mean ISI is about 80 (0.8 per mean ISI); the rule scales with time."""
    train = _train([3, 4], ibi=3.0, isi=0.4, n_bursts=25)
    fast = classify(_signal_from_train(train), 0.005, -30.0, lyapunov_max=0.01)
    assert fast.regime == "mixed" and 0.5 < fast.isi_mean < 1.2
    slow = classify(_signal_from_train(train), 0.5, -30.0, lyapunov_max=0.01)  # the same samples, dt 100x
    assert slow.regime == "irregular" and slow.isi_mean == pytest.approx(100 * fast.isi_mean)
    assert classify(_signal_from_train(train), 0.5, -30.0, lyapunov_max=0.01 / 100).regime == "mixed"


def test_classify_silent_and_tonic():
    assert classify(np.full(1000, -60.0) + 1e-3 * np.arange(1000), 0.01, -30.0).regime == "silent"
    tonic = classify(_signal_from_train(np.arange(1, 60) * 0.5), 0.005, -30.0)
    assert tonic.regime == "tonic" and tonic.spikes_per_burst == [1]
    assert tonic.isi_mean == pytest.approx(0.5, abs=1e-3)


def test_hysteresis_counts_a_noisy_spike_once():
    dt = 1e-3
    t = np.arange(0, 10, dt)
    x = np.sin(2 * np.pi * 0.5 * t)
    # a dip of 0.05 below the threshold just after each crossing, then up again
    for c in (2.0, 4.0, 6.0, 8.0):
        i = int(round((c + 0.01) / dt))
        x[i] = -0.05
    plain = spike_times(x, 0.0, dt)
    assert plain.size == 8  # each dip adds a crossing
    once = spike_times(x, 0.0, dt, hysteresis=0.1)
    np.testing.assert_allclose(once, [2.0, 4.0, 6.0, 8.0], atol=1e-6)
    # a hysteresis below the dip's depth keeps the extra crossings; 0 is the plain rule
    assert spike_times(x, 0.0, dt, hysteresis=0.04).size == 8
    np.testing.assert_array_equal(spike_times(x, 0.0, dt, hysteresis=0.0), plain)
    # the signal re-arms only below threshold - h: the troughs of the sine (-1) are deep enough
    assert spike_times(np.sin(2 * np.pi * 0.5 * t), 0.0, dt, hysteresis=0.99).size == 4
    assert spike_times(np.sin(2 * np.pi * 0.5 * t), 0.0, dt, hysteresis=1.01).size == 1
    with pytest.raises(ValueError, match="hysteresis"):
        spike_times(x, 0.0, dt, hysteresis=-1.0)
