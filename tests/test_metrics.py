"""Quality measures (definitions: docs/metrics.md): each test states its oracle and tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from dynamap._core.errors import InputError
from dynamap.analysis.metrics import (
    compare_series,
    delay_lag,
    isi_wasserstein,
    power_spectrum_hellinger,
    state_space_divergence,
)
from dynamap.analysis.scores import (
    heldout_accuracy,
    lyapunov_sign_agreement,
    regime_sequence,
    regime_sequence_chance,
    regime_sequence_lcs,
    regime_sequence_score,
    transition_points,
)

DT = 0.01


def _sine(freq: float, n: int = 20_000, phase: float = 0.0, dt: float = DT) -> np.ndarray:
    return np.sin(2 * np.pi * freq * dt * np.arange(n) + phase)


# ------------------------------------------------------------------------------------------- W1


def test_isi_w1_of_shifted_sample_is_the_shift():
    # oracle: W1(X, X + c) = c exactly for any sample X; tolerance: rounding (1e-12)
    isi = np.random.default_rng(1).gamma(3.0, 0.5, size=500)
    assert isi_wasserstein(isi, isi + 0.7) == pytest.approx(0.7, abs=1e-12)
    assert isi_wasserstein(isi, isi) == 0.0


def test_isi_w1_of_point_masses_of_different_size():
    # oracle: W1(delta_1, delta_1.25) = 0.25 whatever the sample sizes
    assert isi_wasserstein(np.ones(7), np.full(3, 1.25)) == pytest.approx(0.25, abs=1e-12)


def test_isi_w1_rejects_empty_and_nan():
    with pytest.raises(InputError, match="isi_b"):
        isi_wasserstein([1.0, 2.0], [])
    with pytest.raises(InputError, match="isi_a"):
        isi_wasserstein([1.0, np.nan], [1.0])


# ------------------------------------------------------------------------------------------ D_H


def test_hellinger_of_identical_series_is_zero():
    # oracle: equal spectra have Bhattacharyya coefficient 1 -> D_H = 0; tolerance: sqrt(rounding)
    x = _sine(1.0) + 0.3 * np.random.default_rng(2).standard_normal(20_000)
    assert power_spectrum_hellinger(x, x.copy(), DT) == pytest.approx(0.0, abs=1e-7)


def test_hellinger_of_distant_sines_is_near_one():
    # oracle: 1 Hz and 20 Hz peaks are ~400 bins apart (Welch bin 0.049 Hz), spectra nearly disjoint
    d = power_spectrum_hellinger(_sine(1.0), _sine(20.0), DT)
    assert 0.99 < d <= 1.0
    # ordering: a slightly detuned sine is closer than a distant one, and a phase shift changes nothing
    assert power_spectrum_hellinger(_sine(1.0), _sine(1.0, phase=1.0), DT) < 1e-3
    assert power_spectrum_hellinger(_sine(1.0), _sine(1.1), DT) < d


def test_hellinger_fmax_and_constant_series():
    x, y = _sine(1.0), _sine(1.0) + _sine(20.0)
    # with fmax = 10 Hz the 20 Hz component is cut: both spectra are the same 1 Hz peak
    assert power_spectrum_hellinger(x, y, DT, fmax=10.0) < 1e-3
    assert power_spectrum_hellinger(x, y, DT) > 0.3
    # a constant series has no spectrum: distance 1 to a sine, 0 to another constant (documented)
    assert power_spectrum_hellinger(np.ones(1000), _sine(1.0, 1000), DT) == 1.0
    assert power_spectrum_hellinger(np.ones(1000), np.full(1000, 2.0), DT) == 0.0


def test_hellinger_input_errors():
    with pytest.raises(InputError, match="dt"):
        power_spectrum_hellinger(_sine(1.0), _sine(1.0), 0.0)
    with pytest.raises(InputError, match="smoothing"):
        power_spectrum_hellinger(_sine(1.0), _sine(1.0), DT, smoothing=-1.0)


# --------------------------------------------------------------------------------------- D_stsp


def test_stsp_of_identical_series_is_zero():
    # oracle: same histogram on the same grid -> KL = 0 exactly (both smoothed alike)
    x = _sine(0.7) + 0.1 * np.random.default_rng(3).standard_normal(20_000)
    assert state_space_divergence(x, x.copy()) == pytest.approx(0.0, abs=1e-12)


def test_stsp_separates_dynamics():
    rng = np.random.default_rng(4)
    x = _sine(0.7)
    same = _sine(0.7, phase=2.0)  # same attractor (a closed curve), other phase
    noise = rng.uniform(-1.0, 1.0, size=x.size)  # same range, no delay structure
    d_same = state_space_divergence(x, same)
    d_noise = state_space_divergence(x, noise)
    # oracle: the reference occupies a curve, i.i.d. noise fills the whole cube -> KL of order ln(cells
    # of the curve / all cells) >> the phase-shift divergence, which only comes from the record ends
    assert d_same < 0.05
    assert d_noise > 1.0
    # mass outside the reference range falls in the overflow bins and is penalised
    assert state_space_divergence(x, x + 5.0) > d_noise


def test_stsp_grid_comes_from_the_reference():
    # the delay lag defaults to the reference's 1/e autocorrelation time: for a sine of period T
    # samples, cos(2 pi k / T) < 1/e first at k = ceil(T * arccos(1/e) / (2 pi))
    x = _sine(1.0)  # period 100 samples
    assert delay_lag(x) == int(np.ceil(100 * np.arccos(np.exp(-1.0)) / (2 * np.pi)))
    with pytest.raises(InputError, match="dim"):
        state_space_divergence(x, x, dim=9)


# ------------------------------------------------------------------------------ compare_series


def test_compare_series_reports_value_and_floor():
    dt = 0.001
    n = 30_000
    t = dt * np.arange(n)
    true = np.sin(2 * np.pi * t / 1.0)
    true2 = np.sin(2 * np.pi * t / 1.0 + 1.3)  # an independent phase of the same orbit
    model = np.sin(2 * np.pi * t / 1.25)
    r = compare_series(model, true, true2, dt, threshold=0.5)
    # oracle: threshold crossings of a sine of period T are exactly T apart (up to the linear
    # interpolation error of the crossing time, < 1e-6 s here) -> W1 = |1.25 - 1.0|, floor 0
    assert r["isi_w1"]["value"] == pytest.approx(0.25, abs=1e-5)
    assert r["isi_w1"]["value_rel"] == pytest.approx(0.25, abs=1e-5)
    assert r["isi_w1"]["floor"] == pytest.approx(0.0, abs=1e-5)
    for key in ("power_hellinger", "state_space_kl"):
        assert r[key]["value"] > 10 * r[key]["floor"]
    silent = compare_series(np.zeros(n), true, true2, dt, threshold=0.5)
    assert silent["isi_w1"]["value"] is None and silent["isi_w1"]["n_isi"]["model"] == 0


# ------------------------------------------------------------------------------- regime scores

B3, B4 = ("bursting", (3,)), ("bursting", (4,))


def test_regime_sequence_collapses_runs():
    labels = ["silent", "silent", B3, B3, B4, "tonic", "tonic", B4]
    assert regime_sequence(labels) == ["silent", B3, B4, "tonic", B4]
    assert regime_sequence([]) == []


def test_regime_sequence_score_by_hand():
    true = ["silent", B3, B4, "tonic"]
    # reversed direction of c: LCS with the reversed model list is the whole true list
    assert regime_sequence_score(true, ["tonic", B4, B3, "silent"]) == 1.0
    # forward LCS = 3 (silent, B3 or B4, tonic); reversed [tonic, B3, B4, silent] gives 2 -> 3/4
    assert regime_sequence_score(true, ["silent", B4, B3, "tonic"]) == 0.75
    # [B3, tonic] is a subsequence of length 2 -> 2/4
    assert regime_sequence_score(true, [B3, "tonic"]) == 0.5
    assert regime_sequence_score(true, []) == 0.0
    with pytest.raises(InputError, match="true_seq"):
        regime_sequence_score([], ["tonic"])
    # the LCS itself, larger of both directions: 3 forward, 2 reversed
    assert regime_sequence_lcs(true, ["silent", B4, B3, "tonic"]) == 3
    assert regime_sequence_lcs(true, ["tonic", B4, B3, "silent"]) == 4
    assert regime_sequence_lcs(true, []) == 0


def test_regime_sequence_chance_closed_forms():
    six = ["silent", "b2", "b3", "b4", "irregular", "tonic"]
    # two runs: both orders score 1 (the score reads c in either direction), so chance explains it
    two = regime_sequence_chance(["b2", "tonic"], ["b2", "tonic"])
    assert two["mean"] == 1.0 and two["p_value"] == 1.0
    # six distinct regimes in the true order: a shuffle scores 1 only as this order or its reverse,
    # probability 2 / 720, so p is about 0.003; the expected LCS of a random permutation is below 6
    r = regime_sequence_chance(six, six, n_shuffles=2000, seed=3)
    assert r["p_value"] < 0.01 and r["mean"] < 0.8
    assert r == regime_sequence_chance(six, six, n_shuffles=2000, seed=3)  # deterministic
    # a fragmented map that cycles through all six regimes three times: score 1, but so do random
    # orders of its 18 runs about a third of the time (0.30 measured), so its order says little
    frag = six * 3
    assert regime_sequence_score(six, frag) == 1.0
    assert regime_sequence_chance(six, frag)["p_value"] > 0.1
    # the same regimes, but each true regime interleaved with tonic: the order is informative
    inter = ["tonic", "silent", "tonic", "b2", "tonic", "b3", "tonic", "b4", "tonic", "irregular", "tonic"]
    assert regime_sequence_chance(six, inter)["p_value"] < 0.05
    assert regime_sequence_chance(six, [])["mean"] == 0.0
    with pytest.raises(InputError, match="n_shuffles"):
        regime_sequence_chance(six, six, n_shuffles=0)


def test_heldout_accuracy_by_hand():
    true = [
        {"regime": "bursting", "spikes_per_burst": [3]},
        {"regime": "bursting", "spikes_per_burst": [3]},
        {"regime": "irregular", "spikes_per_burst": [3, 4]},
        {"regime": "tonic", "spikes_per_burst": [1]},
        {"regime": "silent", "spikes_per_burst": []},
    ]
    model = [
        {"regime": "bursting", "spikes_per_burst": [3]},  # match
        {"regime": "bursting", "spikes_per_burst": [4]},  # spikes-per-burst set differs
        {"regime": "irregular", "spikes_per_burst": [5, 6, 7]},  # irregular: regime only -> match
        {"regime": "bursting", "spikes_per_burst": [1]},  # regime differs
        {"regime": "silent", "spikes_per_burst": []},  # match
    ]
    assert heldout_accuracy(true, model) == pytest.approx(3 / 5)
    with pytest.raises(InputError, match="pair up"):
        heldout_accuracy(true, model[:2])


def test_transition_points_by_hand():
    values = [-44.0, -43.0, -42.0, -41.0, -40.0, -39.0, -38.0]
    labels = ["bursting", "bursting", "irregular", "bursting", "tonic", "tonic", "bursting"]
    # only adjacent grid points count; the grid order is restored from unsorted input
    perm = [3, 0, 6, 2, 5, 1, 4]
    assert transition_points([values[i] for i in perm], [labels[i] for i in perm], "bursting", "tonic") == [
        -40.5
    ]
    assert transition_points(values, labels, "tonic", "bursting") == [-38.5]
    assert transition_points(values, labels, "bursting", "irregular") == [-42.5]
    assert transition_points(values, labels, "silent", "tonic") == []


def test_lyapunov_sign_agreement_with_band():
    true = [0.3, 0.005, -0.5, 0.0, 0.2]
    model = [0.1, -0.009, -0.02, 0.05, np.nan]
    # signs with tol 0.01: true (+, 0, -, 0, +), model (+, 0, -, +, NaN) -> 3 of 5 agree
    assert lyapunov_sign_agreement(true, model, tol=0.01) == pytest.approx(3 / 5)
    # tol 0.1: true (+, 0, -, 0, +), model (0, 0, 0, 0, NaN) -> 2 of 5
    assert lyapunov_sign_agreement(true, model, tol=0.1) == pytest.approx(2 / 5)
    with pytest.raises(InputError, match="le_true"):
        lyapunov_sign_agreement([np.nan], [0.0], tol=0.01)
