"""Delay windows, data rules and lag/dimension helpers."""

from pathlib import Path

import numpy as np
import pytest

import dynamap
from dynamap import ConfigError, InputError
from dynamap.embedding import (
    DelayWindows,
    cao_e1,
    choose_sampling,
    delay_view,
    fnn_dimension,
    mi_lag,
    spike_threshold,
)
from dynamap.pipeline.config import FitConfig
from dynamap.training.config import MLPConfig, RidgeConfig, SelectionConfig, VAEConfig


def test_delay_view_equals_explicit_construction():
    x = np.arange(20.0) ** 1.5
    w = 5
    v = delay_view(x, w)
    explicit = np.array([[x[n - k] for k in range(w)] for n in range(w - 1, x.size)])
    np.testing.assert_array_equal(v, explicit)
    assert not v.flags.owndata  # a view, no N x D_e copy


def test_delay_windows_gather_equals_explicit_and_respects_segments():
    a = np.arange(10.0)
    b = 100 + np.arange(7.0)
    w = DelayWindows([a, b], 3)
    assert len(w) == (10 - 2) + (7 - 2)
    got = w.gather(np.arange(len(w)))
    explicit = np.concatenate([delay_view(a, 3), delay_view(b, 3)])
    np.testing.assert_array_equal(got, explicit.astype(np.float32))
    # no window mixes the two segments
    assert np.all((got < 50).all(1) | (got >= 100).all(1))
    ok = w.successor_ok(2)
    # last 2 windows of each segment have no successor 2 steps ahead in the same segment
    assert ok.sum() == (8 - 2) + (5 - 2)
    assert not ok[6] and not ok[7] and ok[8]


def test_delay_windows_rejects_short_segment():
    with pytest.raises(InputError, match="segment 1"):
        DelayWindows([np.zeros(10), np.zeros(3)], 4)


def _pulse_train(period=0.5, dt=0.005, t_end=30.0, width=0.02):
    t = np.arange(0, t_end, dt)
    phase = np.mod(t, period)
    return -60 + 40 * np.exp(-0.5 * ((phase - period / 2) / width) ** 2)


def test_spike_threshold_and_sampling_rules_follow_the_data():
    x = _pulse_train()
    th = spike_threshold(x, 0.75)
    assert -35 < th < -20
    ch = choose_sampling([x], 0.005, threshold=None, threshold_level=0.75, samples_per_fast=10,
                         window_fast=2.0, min_window=4, max_window=500)
    assert ch.fast_time_source == "isi"
    assert ch.fast_time == pytest.approx(0.5, rel=1e-3)
    assert ch.stride == 10 and ch.dt_map == pytest.approx(0.05)
    assert ch.window == 20
    # the same rule on a series in other units and time scale gives the same counts
    ch2 = choose_sampling([x / 40.0], 0.5, threshold=None, threshold_level=0.75, samples_per_fast=10,
                          window_fast=2.0, min_window=4, max_window=500)
    assert ch2.stride == ch.stride and ch2.window == ch.window


def test_mi_lag_of_a_noisy_sine_is_near_a_quarter_period():
    t = np.arange(20000) * 0.01
    rng = np.random.default_rng(0)
    x = np.sin(2 * np.pi * t / 2.0) + 0.3 * rng.standard_normal(t.size)  # period 200 samples
    lag = mi_lag(x, 120)
    assert 35 <= lag <= 65


def test_fnn_and_cao_find_dimension_two_for_henon():
    x, y = 0.1, 0.1
    xs = []
    for _ in range(3000):
        x, y = 1 - 1.4 * x * x + y, 0.3 * x
        xs.append(x)
    xs = np.array(xs[100:])
    assert fnn_dimension(xs, max_dim=5) == 2
    e1 = cao_e1(xs, 5)
    assert e1[0] < 0.9 and abs(e1[1] - 1) < 0.1  # E1 saturates from d = 2 on


@pytest.mark.parametrize(
    "cls,field,value",
    [(VAEConfig, "recon_sigma", -1.0), (VAEConfig, "latent_max", 0), (MLPConfig, "c_noise", -1.0),
     (MLPConfig, "activation", "relu6"), (RidgeConfig, "draws", 0), (SelectionConfig, "select_starts", 0),
     (FitConfig, "samples_per_fast", 0.0), (FitConfig, "map_family", "lstm")],
)
def test_configs_name_the_bad_field(cls, field, value):
    with pytest.raises(ConfigError, match=field):
        cls(**{field: value})


def test_config_json_round_trip():
    cfg = FitConfig(vae=VAEConfig(latent_max=4), mlp=MLPConfig(horizons=(1, 5), stage_steps=(10, 20)),
                    ridge=RidgeConfig(noise=(0.0, 1e-3)), spike_threshold=-30.0)
    back = FitConfig.from_json(cfg.to_json())
    assert back == cfg
    with pytest.raises(ConfigError, match="unknown field"):
        FitConfig.from_dict({"bogus": 1})


def test_noise_estimate_and_hysteresis_keep_the_sampling_of_a_noisy_train():
    from dynamap.embedding.rules import noise_sigma

    # broader pulses than above: noise re-crosses the threshold on their flanks
    x = _pulse_train(period=1.0, width=0.04, t_end=60.0)
    rng = np.random.default_rng(0)
    # a smooth series: almost no noise estimated
    assert noise_sigma(x) < 0.05
    noisy = x + 2.0 * rng.standard_normal(x.size)
    assert noise_sigma(noisy) == pytest.approx(2.0, rel=0.1)
    assert noise_sigma(2.0 * rng.standard_normal(x.size)) == pytest.approx(2.0, rel=0.05)
    kw = dict(threshold=None, threshold_level=0.75, samples_per_fast=10, window_fast=2.0, min_window=4,
              max_window=500)
    clean = choose_sampling([x], 0.005, **kw, hysteresis_noise=5.0)
    plain = choose_sampling([noisy], 0.005, **kw, hysteresis_noise=0.0)
    hyst = choose_sampling([noisy], 0.005, **kw, hysteresis_noise=5.0)
    # without hysteresis the noise makes spurious crossings: a far shorter "fast time scale"
    assert plain.fast_time < 0.2 * clean.fast_time
    # with it, the noisy series gets the clean series' choices
    assert hyst.spike_hysteresis == pytest.approx(5.0 * noise_sigma(noisy))
    assert hyst.fast_time == pytest.approx(clean.fast_time, rel=0.02)
    # (crossing times jitter with the noise: the 10th-percentile ISI is 0.5 % short, stride 19 not 20)
    assert abs(hyst.stride - clean.stride) <= 1 and abs(hyst.window - clean.window) <= 1


def test_a_brief_spike_bounds_the_map_step_by_its_rise_time():
    """A 1.7 Hz train of sawtooth spikes that rise from -60 to +40 in 1.5 ms and decay over 20 ms (the
    pacemaker's shape, shared/real/sanpy_19114001.csv): the rise time is the threshold-to-peak time
    (closed form: the part of the 1.5 ms ramp above the threshold), and the map step is at most that
    where T_f / samples_per_fast would be 9x longer."""
    from dynamap.embedding.rules import spike_rise_time

    dt, period = 0.0005, 1 / 1.7
    t = np.arange(0, 30.0, dt)
    ph = np.mod(t, period)
    x = np.where(ph < 0.0015, -60 + 100 * ph / 0.0015, -60 + 100 * np.exp(-(ph - 0.0015) / 0.01))
    th = -10.0  # half-way up the ramp: the peak is 0.75 ms later, to within a sample
    assert spike_rise_time(x, dt, th) == pytest.approx(0.00075, abs=dt)
    kw = dict(threshold=th, threshold_level=0.75, samples_per_fast=32.0, window_fast=2.5, min_window=8,
              max_window=128)
    assert choose_sampling([x], dt, **kw).stride == int(period / 32 / dt)  # 36: the peak is lost
    rise = spike_rise_time(x, dt, th)
    assert choose_sampling([x], dt, **kw, step_per_rise=1.5).stride == int(1.5 * rise / dt + 1e-9) <= 3
    assert spike_rise_time(np.full(100, -60.0), dt, th) is None


def test_noise_on_a_slow_upstroke_does_not_shorten_the_rise_time():
    """A slow spike (linear rise over 100 ms from -40 to 0 mV, threshold -20 mV: closed-form rise 50 ms;
    the HH burster's upstroke is this slow) sampled at 20 kHz with 0.1 mV noise dips back under the
    threshold right after crossing it; the spike ends only below the re-arm level (threshold -
    hysteresis), so the rise stays 50 ms (it was read as one sample, 0.016 ms: a 10-minute 20 kHz HH
    recording got stride 1, 12 M map samples)."""
    from dynamap.embedding.rules import spike_rise_time

    dt, period = 5e-5, 0.5
    t = np.arange(0, 10.0, dt)
    ph = np.mod(t, period)
    x = np.where(ph < 0.1, -40 + 40 * ph / 0.1, -40 + 40 * np.exp(-(ph - 0.1) / 0.02))
    x = x + 0.1 * np.random.default_rng(0).standard_normal(t.size)
    assert spike_rise_time(x, dt, -20.0, hysteresis=0.5) == pytest.approx(0.050, abs=0.002)


@pytest.mark.skipif(not (Path(__file__).resolve().parents[2] / "shared" / "real").is_dir(),
                    reason="needs shared/real beside the checkout")
def test_the_pacemakers_map_step_keeps_its_action_potentials():
    """The pacemaker (2 kHz, 1.72 Hz): T_f / 32 alone gives 14.5 ms, where its action potentials peak
    19 mV low (28 for 47 mV); its rise (1 ms from -20 mV, interpolated) bounds the step to 1.5 ms."""
    from dynamap.pipeline._inputs import sampling_for

    s = dynamap.read_series(Path(__file__).resolve().parents[2] / "shared" / "real" / "sanpy_19114001.csv")
    x = np.asarray(s.values, dtype=np.float64)
    samp = sampling_for([x], s.dt, dynamap.FitConfig(spike_threshold=-20.0))
    old = sampling_for([x], s.dt, dynamap.FitConfig(spike_threshold=-20.0, step_per_rise=None))
    assert (old.stride, samp.stride) == (29, 3)
