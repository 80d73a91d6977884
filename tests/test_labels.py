"""Regime labels of spike trains that real neurons produce: spike-frequency adaptation and jitter are
tonic spiking, bursts are bursts (the rules: docs/metrics.md section 1)."""

from pathlib import Path

import numpy as np
import pytest

import dynamap
from dynamap.analysis.regimes import classify
from dynamap.analysis.spikes import BURST_LV, adaptation_index, local_variation
from dynamap.pipeline.check import check_summary

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def _train(isi: np.ndarray, dt: float = 1e-4, width: int = 5) -> np.ndarray:
    """A sampled trace with a spike (height 1, ``width`` samples) after each ISI."""
    t = np.concatenate([[0.05], 0.05 + np.cumsum(isi)])
    x = np.zeros(int((t[-1] + 0.05) / dt))
    for ti in t:
        k = int(round(ti / dt))
        x[k : k + width] = 1.0
    return x


def test_local_variation_and_adaptation_index_closed_forms():
    assert local_variation(np.full(10, 0.1)) == 0.0 and adaptation_index(np.full(10, 0.1)) == 0.0
    a, b = 0.1, 0.5  # alternating ISIs: every pair contributes ((a - b) / (a + b))^2
    assert local_variation(np.tile([a, b], 20)) == pytest.approx(3 * ((a - b) / (a + b)) ** 2)
    geo = 0.01 * 1.05 ** np.arange(30)  # each ISI 5 % longer than the one before
    assert adaptation_index(geo) == pytest.approx(0.05 / 2.05)
    assert np.isnan(local_variation(np.array([0.1])))


@pytest.mark.parametrize("kind,regime,spb", [("adapting", "tonic", [1]), ("jittered", "tonic", [1]),
                                             ("bursts", "bursting", [4]), ("poisson", "irregular", None)])
def test_synthetic_trains_have_the_known_labels(kind, regime, spb):
    """Adaptation (ISIs from 10 to 30 ms, smoothly), jitter (CV 0.15 around 50 ms), 4-spike bursts (5 ms
    within, 200 ms between) and a Poisson train (mean 50 ms)."""
    rng = np.random.default_rng(0)
    isi = {"adapting": 0.01 + 0.02 * (1 - np.exp(-np.arange(60) / 10.0)),
           "jittered": 0.05 * (1 + 0.15 * rng.standard_normal(80)),
           "bursts": np.tile([0.005, 0.005, 0.005, 0.2], 15),
           "poisson": rng.exponential(0.05, 200) + 0.002}[kind]
    r = classify(_train(isi), 1e-4, 0.5)
    assert r.regime == regime
    if spb is not None:
        assert r.spikes_per_burst == spb
    if kind == "adapting":
        assert r.adaptation_index > 0.005 and r.to_dict()["adaptation_index"] == pytest.approx(r.adaptation_index)
    if kind in ("adapting", "jittered"):
        assert r.isi_lv < BURST_LV and r.to_dict()["isi_lv"] < BURST_LV


@pytest.mark.skipif(not REAL.is_dir(), reason="the real recordings (shared/real) are not beside this checkout")
@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.csv")) if REAL.is_dir() else [])
def test_every_real_trace_is_tonic(name):
    """The real recordings (shared/real/README.md: regular spiking with adaptation, a pacemaker with ISI
    CV 0.15) are tonic with the spike rule their README gives (up through -20 mV, re-armed below -40)
    and with the one a fit derives from them."""
    from dynamap.embedding.rules import choose_sampling

    s = dynamap.read_series(REAL / name)
    x = np.asarray(s.values, dtype=np.float64)
    r = classify(x, s.dt, -20.0, hysteresis=20.0)
    assert (r.regime, r.spikes_per_burst) == ("tonic", [1]) and r.n_spikes >= 20
    cfg = dynamap.FitConfig()
    samp = choose_sampling([x], s.dt, threshold=None, threshold_level=cfg.threshold_level,
                           samples_per_fast=cfg.samples_per_fast, window_fast=cfg.window_fast,
                           min_window=cfg.min_window, max_window=cfg.max_window,
                           hysteresis_noise=cfg.hysteresis_noise)
    derived = classify(x, s.dt, samp.spike_threshold, hysteresis=samp.spike_hysteresis)
    assert (derived.regime, derived.n_spikes) == ("tonic", r.n_spikes)
    # each half too, as the free-running check's floor reads them (the first second of a 2 s step
    # holds its fastest ISIs)
    half = x.size // 2
    for part in (x[:half], x[half : 2 * half]):
        assert classify(part, s.dt, -20.0, hysteresis=samp.spike_hysteresis).regime == "tonic"


def test_a_train_split_into_no_complete_burst_is_tonic():
    """ISIs that vary enough to be split (LV >= BURST_LV, max > 1.5 min) but whose split leaves no
    complete burst, or only one-spike ones: single spikes, not "bursting" without a spike count."""
    isi = np.array([0.02, 0.05, 0.08, 0.06, 0.09, 0.065, 0.09, 0.07, 0.09, 0.07, 0.09])
    assert local_variation(isi) >= BURST_LV
    r = classify(_train(isi), 1e-4, 0.5)
    assert (r.regime, r.spikes_per_burst) == ("tonic", [1])


def test_the_check_summary_prints_a_missing_floor():
    """A segment too short for the truth-vs-truth floor (fewer than 2 ISIs in a half) prints "n/a"."""
    entry = {"param_value": 106.0, "data": {"regime": "tonic", "spikes_per_burst": [1]},
             "map": {"regime": "tonic", "spikes_per_burst": [1]}, "match": True,
             "isi_w1": {"value_rel": 0.2, "floor_rel": None}}
    (line,) = check_summary({"series": [entry]})
    assert "ISI W1 20.0 % of the mean ISI (floor n/a" in line


def test_measurement_noise_is_read_off_the_second_differences():
    """White noise of known sigma on a smooth, finely sampled signal (a sine of period 1000 samples):
    the estimate is within 3 % of sigma; on the clean signal it is near 0; the report warns from
    NOISE_WARN_REL of the spike height on, and says not to trust the map beyond NOISE_LIMIT_REL."""
    from dynamap.embedding.rules import NOISE_LIMIT_REL, NOISE_WARN_REL, SamplingChoice, measurement_noise

    rng = np.random.default_rng(3)
    x = 20.0 * np.sin(2 * np.pi * np.arange(200_000) / 1000.0)
    assert measurement_noise(x) < 1e-3
    for sigma in (0.05, 0.5, 2.0):
        assert measurement_noise(x + sigma * rng.standard_normal(x.size)) == pytest.approx(sigma, rel=0.03)
    base = SamplingChoice(-30.0, 0.3, "isi", 2, 0.01, 90, 0.5, noise_sd=0.05, spike_height=40.0)
    assert not base.noise_report()["too_large"]
    loud = SamplingChoice(-30.0, 0.3, "isi", 2, 0.01, 90, 0.5, noise_sd=NOISE_WARN_REL * 40.0, spike_height=40.0)
    rep = loud.noise_report()
    assert rep["too_large"] and rep["rel"] == pytest.approx(NOISE_WARN_REL) and "lose the bursts" in rep["message"]
    assert not rep["beyond_measured"]
    louder = SamplingChoice(-30.0, 0.3, "isi", 2, 0.01, 90, 0.5, noise_sd=1.01 * NOISE_LIMIT_REL * 40.0,
                            spike_height=40.0).noise_report()
    assert louder["too_large"] and louder["beyond_measured"] and "do not trust the map" in louder["message"]
    assert SamplingChoice(-30.0, 0.3, "isi", 2, 0.01, 90).noise_report()["rel"] is None  # an old bundle's


def test_a_fit_reports_the_noise_of_its_series(make_tiny_config):
    """The fit's history holds the noise report; 0.5 mV of white noise on the HH burster reads as about
    0.5 mV and is flagged (1.3 % of its spike height)."""
    hh = dynamap.get_system("hh-burster")
    v = dynamap.simulate(hh, {"V_S": -40.0}, t_end=200.0, transient=100.0, dt=0.005).series("V", param_value=-40.0)
    noisy = dynamap.Series(np.asarray(v.values) + 0.5 * np.random.default_rng(0).standard_normal(len(v.values)),
                           v.dt, name="V", param_value=-40.0)
    m = dynamap.fit(noisy, config=make_tiny_config(), seed=0, progress=False)
    rep = m.history_["noise"]
    assert rep["sd"] == pytest.approx(0.5, rel=0.05) and rep["too_large"]
