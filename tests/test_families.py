"""Encoder x map: every encoder under every map family fits, runs and round-trips; the linear encoder and
the feature map against closed forms."""

import numpy as np
import pytest
import torch

import dynamap
from dynamap.embedding import DelayWindows
from dynamap.models import DelayEncoder, DelayMap, FeatureMap, LinearEncoder, ParametricMap, VAEEncoder
from dynamap.models.base import StateMap
from dynamap.systems.conformance import check_system
from dynamap.training._ridge import ridge_readouts
from dynamap.training.encoders import fit_encoder

PAIRS = [(e, m) for e in ("delay", "linear", "vae") for m in ("ridge", "mlp")]
#: the module each pair builds
MODULES = {("delay", "ridge"): DelayMap, ("delay", "mlp"): ParametricMap}
ENCODER_CLASSES = {"delay": DelayEncoder, "linear": LinearEncoder, "vae": VAEEncoder}


@pytest.fixture(scope="module")
def series():
    hh = dynamap.get_system("hh-burster")
    return dynamap.simulate(hh, {"V_S": -40.0}, t_end=200.0, transient=100.0, dt=0.005).series(
        "V", param_value=-40.0)


@pytest.mark.parametrize("encoder,family", PAIRS)
def test_every_encoder_under_every_map_fits_runs_and_round_trips(encoder, family, series, tmp_path,
                                                                  make_tiny_config):
    """A tiny fit of each pair (mechanics, not quality): the families it was asked for, states of the
    encoder's dimension, a learned system that passes the system protocol's checks, sweeps, has a spectrum of its dimension, decodes its
    states into the series' range, and a saved bundle that iterates the same orbits."""
    cfg = make_tiny_config(encoder=encoder, map_family=family, ridge=dynamap.RidgeConfig(candidates=1))
    model = dynamap.fit(series, config=cfg, seed=0, progress=False)
    assert isinstance(model.encoder_, ENCODER_CLASSES[encoder])
    assert isinstance(model.map_, MODULES.get((encoder, family), FeatureMap if family == "ridge" else ParametricMap))
    assert model.map_.family == family and model.map_.dim == model.state_dim_
    z = model.transform(series)
    assert z.shape[1] == model.state_dim_ and np.isfinite(z).all()
    x = model.decode(torch.from_numpy(z[:500].astype(np.float32))).numpy()
    v = np.asarray(series.values)
    assert v.min() - 10.0 < x.min() and x.max() < v.max() + 10.0  # the observable, in mV
    learned = model.as_system()
    check_system(learned)  # the system protocol, as every built-in system
    sw = dynamap.sweep(learned, "c", [-40.5, -39.5], dynamap.SweepSettings(t_end=40.0, transient=10.0))
    assert [p["status"] for p in sw.to_dict()["points"]] == ["ok", "ok"]
    spec = dynamap.lyapunov_spectrum(learned, {"c": -40.0}, t_end=40.0, transient=20.0, k=2)
    assert spec.spectrum.shape == (2,) and spec.spectrum[0] >= spec.spectrum[1]
    assert spec.method == model.map_.spectrum_method
    model.save(tmp_path / "m")
    back = dynamap.load_model(tmp_path / "m")
    assert type(back.encoder_) is type(model.encoder_) and type(back.map_) is type(model.map_)
    np.testing.assert_array_equal(back.transform(series), z)
    np.testing.assert_array_equal(back.simulate_batch([-40.0, -39.0], 300, 50),
                                  model.simulate_batch([-40.0, -39.0], 300, 50))


def test_the_linear_encoder_is_the_windows_principal_components():
    """Closed forms: its states are uncorrelated with unit variance over the training windows, its
    basis is orthonormal, and with every component kept the decoder gives back the newest sample."""
    rng = np.random.default_rng(0)
    t = np.arange(3000) * 0.05
    x = (np.sin(t) + 0.3 * np.sin(3.1 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    w = DelayWindows([x], 10)
    cfg = dynamap.FitConfig(encoder="linear", linear=dynamap.LinearConfig(dim=10))
    enc, evidence, states = fit_encoder("linear", w, cfg, seed=0, x_mean=2.0, x_std=3.0)
    assert evidence["chosen"] == 10 and evidence["explained"] == pytest.approx(1.0)
    z = enc.encode(w)
    np.testing.assert_array_equal(states, z)  # the fit returns them, computed once
    np.testing.assert_allclose(np.cov(z.T, bias=True), np.eye(10), atol=2e-4)
    np.testing.assert_allclose(enc.basis.T @ enc.basis, np.eye(10), atol=1e-10)
    newest = w.gather(np.arange(len(w)))[:, 0]
    got = enc.decoder()(torch.from_numpy(z.astype(np.float32))).numpy()
    np.testing.assert_allclose(got, 2.0 + 3.0 * newest, atol=2e-4)
    # fewer components: the leading ones, the same states in those coordinates
    small, ev2, _ = fit_encoder("linear", w, dynamap.FitConfig(linear=dynamap.LinearConfig(dim=3)), seed=0,
                             x_mean=2.0, x_std=3.0)
    np.testing.assert_allclose(small.encode(w), z[:, :3], atol=1e-4)
    assert 0.9 < ev2["explained"] < 1.0


def test_the_feature_maps_ridge_readout_recovers_a_linear_map():
    """Closed form: states of a linear map u' = u + B u + c g (B a small rotation-contraction, g a
    drive direction) in two segments at two controls; the ridge readouts of the feature map (no
    noise, a tiny penalty) predict the next state to round-off, every coordinate."""
    rng = np.random.default_rng(1)
    th = 0.1
    b = np.array([[np.cos(th) - 1, -np.sin(th), 0.0], [np.sin(th), np.cos(th) - 1, 0.0], [0.0, 0.0, -0.05]]) * 0.9
    g = np.array([0.0, 0.02, 0.01])
    segs, cs = [], [-1.0, 1.0]
    for c in cs:
        u = np.empty((400, 3))
        u[0] = rng.standard_normal(3)
        for n in range(399):
            u[n + 1] = u[n] + b @ u[n] + c * g
        segs.append(u.astype(np.float32))
    fm = FeatureMap(3, 20)
    fm.init_features(torch.Generator().manual_seed(0))
    (state,) = ridge_readouts(fm, segs, cs, 0.0, [1e-12], rng)
    fm.load_state_dict(state)
    assert state["readout"].shape == (2, 3, 1 + 3 + 20)
    with torch.no_grad():
        for seg, c in zip(segs, cs):
            pred = fm(torch.from_numpy(seg[:-1]), torch.full((399, 1), c)).numpy()
            np.testing.assert_allclose(pred, seg[1:], atol=2e-3)


def test_a_map_family_gets_the_base_members_it_does_not_override():
    """The base's defaults: a forward-only family steps by its forward, and its exponents come from
    forward-mode tangents and from the QR loop on its exact Jacobian: for the linear map u' = a u,
    log|a| per step."""

    class Scale(StateMap):
        family = "scale"

        def __init__(self):
            super().__init__()
            self.dim = 2

        def forward(self, u, c):
            return u * (0.5 + 0.1 * c)

    m = Scale()
    assert not m.releases_gil and not m.shift_register
    z = torch.randn(2, 4)
    out = m.stepper(torch.ones(4, 1))(z, torch.empty(2, 4))
    torch.testing.assert_close(out, 0.6 * z)
    sums = m.log_growth(np.ones((3, 2)), np.eye(2)[[0, 1, 0]], np.array([0.0, 1.0, 2.0]), 50)
    np.testing.assert_allclose(sums / 50, np.log([0.5, 0.6, 0.7]), rtol=1e-12)
    q = np.tile(np.eye(2), (3, 1, 1))
    spec = m.spectrum_sums(np.ones((3, 2)), q, np.array([0.0, 1.0, 2.0]), 5, 50) / 50
    np.testing.assert_allclose(spec, np.log([[0.5, 0.5], [0.6, 0.6], [0.7, 0.7]]), rtol=1e-12)


def test_noise_beyond_the_warning_level_switches_to_the_noisy_encoder(series, make_tiny_config, tmp_path):
    """``FitConfig.noisy_encoder`` (default "vae"): a single series whose measured noise reaches the
    noise report's warning level is encoded by it (and the report says so); a clean one by ``encoder``;
    tagged fits keep the delay encoder, with the leaky averages of ``FitConfig.noisy_slow`` in its state
    (decays exp(-dt_map / (tau T_f))), and the report says so; with none they are told not to trust the
    map beyond its check."""
    cfg = make_tiny_config()
    assert cfg.noisy_encoder == dynamap.FitConfig().noisy_encoder == "vae"
    clean = dynamap.fit(series, config=cfg, seed=0, progress=False)
    assert isinstance(clean.encoder_, DelayEncoder) and clean.history_["noise"]["encoder"] == "delay"
    v = np.asarray(series.values) + 0.5 * np.random.default_rng(0).standard_normal(len(series.values))
    noisy = dynamap.fit(dynamap.Series(v, series.dt, name="V", param_value=-40.0), config=cfg, seed=0,
                        progress=False)
    assert noisy.history_["noise"]["too_large"] and noisy.history_["noise"]["encoder"] == "vae"
    assert isinstance(noisy.encoder_, VAEEncoder) and "vae encoder's" in noisy.history_["noise"]["message"]
    plain = dynamap.fit(dynamap.Series(v, series.dt, name="V"), config=make_tiny_config(noisy_encoder=None), seed=0,
                        progress=False)
    assert isinstance(plain.encoder_, DelayEncoder)
    half = len(v) // 2
    tagged = dynamap.fit([dynamap.Series(v[:half], series.dt, name="V"), dynamap.Series(v[half:], series.dt, name="V")],
                         [-40.0, -39.0], config=cfg, seed=0, progress=False)
    assert isinstance(tagged.encoder_, DelayEncoder) and "leaky averages" in tagged.history_["noise"]["message"]
    samp = tagged.sampling_
    assert tagged.encoder_.decay == pytest.approx(
        [np.exp(-samp.dt_map / (t * samp.fast_time)) for t in dynamap.FitConfig().noisy_slow], rel=1e-12)
    assert tagged.map_.dim == tagged.encoder_.dim == tagged.encoder_.span + 2
    tagged.save(tmp_path / "m")
    back = dynamap.DynamapModel.load(tmp_path / "m")
    assert back.encoder_.decay == tagged.encoder_.decay
    np.testing.assert_array_equal(back.simulate_batch([-39.5], 300), tagged.simulate_batch([-39.5], 300))
    none = dynamap.fit([dynamap.Series(v[:half], series.dt, name="V"), dynamap.Series(v[half:], series.dt, name="V")],
                       [-40.0, -39.0], config=make_tiny_config(noisy_slow=()), seed=0, progress=False)
    assert none.encoder_.decay == () and "do not trust" in none.history_["noise"]["message"]
    with pytest.raises(dynamap.ConfigError, match="noisy_encoder"):
        dynamap.FitConfig(noisy_encoder="pca")
    with pytest.raises(dynamap.ConfigError, match="slow"):
        dynamap.FitConfig(noisy_slow=(0.0,))
