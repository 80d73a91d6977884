"""The estimator end to end with tiny configurations; slow quality checks behind the marker."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from dynamap import InputError, Series, get_system, simulate
from dynamap._core.protocols import MapLike
from dynamap.pipeline.config import FitConfig
from dynamap.pipeline.estimator import DynamapModel, round_seed
from dynamap.training.config import MLPConfig, SelectionConfig


@pytest.fixture(scope="module")
def hh_series():
    hh = get_system("hh-burster")
    out = []
    for vs in (-40.0, -37.0):
        tr = simulate(hh, {"V_S": vs}, t_end=460.0, transient=400.0, dt=0.005)
        out.append(tr.series("V", param_value=vs))
    return out


@pytest.fixture(scope="module")
def tiny_model(hh_series, tiny_config):
    return DynamapModel(tiny_config, seed=0).fit([hh_series[0]], progress=False)


def test_fit_attributes_and_data_rules(tiny_model, tiny_config):
    m = tiny_model
    assert m.mode_ == "single" and m.param_values_ == [-40.0]
    assert m.state_dim_ == 16  # the default reconstruction: the newest 16 samples
    # HH rule outcomes: threshold near the textbook -30 mV, 0.01 s map step
    assert -36.0 < m.spike_threshold_ < -28.0
    assert m.dt_ == pytest.approx(0.01)
    json.dumps(m.history_)  # JSON-able
    assert m.history_["latent_dim"] == {"state": "delay", "taps": 6, "lag": 3, "chosen": 16}
    # c = 1 at the training value, plus the calibration shift: from the grid (0 included), or one
    # of the refined values around the grid's pick
    (shift,) = m.c_shift_
    grid = np.r_[0.0, tiny_config.selection.c_shifts]
    sel = tiny_config.selection
    assert np.isclose(grid[:, None] + np.r_[0.0, sel.c_refine][None, :], shift, rtol=0, atol=1e-12).any()
    assert m.normalise_c(np.array([-40.0]))[0] == pytest.approx(1.0 + shift)


def test_calibration_keeps_the_best_shift_per_segment(tiny_model, hh_series, tiny_config):
    cand = tiny_model.history_["map"]["candidates"][0]
    cal = cand["calibration"]
    grid = np.asarray(cal["shifts"])
    assert 0.0 in grid and set(tiny_config.selection.c_shifts) <= set(grid)
    (scores,) = cal["scores"]  # one segment: its score for each shift
    pick = grid[int(np.argmin(scores))]
    # the refinement tries the pick plus each c_refine offset and keeps the best if it beats the pick
    (fine,), (fscores,) = cal["refine"]["shifts"], cal["refine"]["scores"]
    np.testing.assert_allclose(fine, pick + np.asarray(tiny_config.selection.c_refine), atol=1e-12)
    if min(fscores) < min(scores):
        assert cand["c_shift"] == [fine[int(np.argmin(fscores))]]
        assert cand["selected_score"] == pytest.approx(min(fscores))
    else:
        assert cand["c_shift"] == [pick]
        assert cand["selected_score"] == pytest.approx(min(scores))
    assert cand["selected_score"] <= cal["unshifted_score"]
    # off: no shift, no calibration record
    off = FitConfig.from_dict({**tiny_config.to_dict(), "selection": {**tiny_config.selection.to_dict(), "c_shifts": []}})
    m = DynamapModel(off, seed=0).fit([hh_series[0]], progress=False)
    assert m.c_shift_ == [0.0] and "calibration" not in m.history_["map"]["candidates"][0]


def test_calibration_shifts_interpolate_between_training_values():
    from dynamap.pipeline.fitted import Control

    m = Control("tagged", (-37.0, -40.0, -43.0), -40.0, 3.0, 0.0, (0.01, -0.02, 0.0))
    got = m.normalise(np.array([-45.0, -43.0, -41.5, -40.0, -38.5, -37.0, -30.0]))
    base = (np.array([-45.0, -43.0, -41.5, -40.0, -38.5, -37.0, -30.0]) + 40.0) / 3.0
    np.testing.assert_allclose(got - base, [0.0, 0.0, -0.01, -0.02, -0.005, 0.01, 0.01], atol=1e-12)


@pytest.mark.parametrize("bad", [(0.0, "x"), (2.0,), (float("nan"),), [0.01]])
@pytest.mark.parametrize("field", ["c_shifts", "c_refine"])
def test_bad_c_shifts_are_config_errors(bad, field):
    from dynamap import ConfigError

    with pytest.raises(ConfigError, match=field):
        SelectionConfig(**{field: bad})


@pytest.mark.parametrize("cls,field,bad", [(MLPConfig, "tagged_steps_factor", 0.0), (MLPConfig, "candidates", 0),
                                           (FitConfig, "restart_score", -0.1)])
def test_bad_control_and_restart_fields_are_config_errors(cls, field, bad):
    from dynamap import ConfigError

    with pytest.raises(ConfigError, match=field):
        cls(**{field: bad})


def test_same_seed_same_model(hh_series, tiny_model, tiny_config):
    other = DynamapModel(tiny_config, seed=0).fit([hh_series[0]], progress=False)
    np.testing.assert_array_equal(other.transform(hh_series[0]), tiny_model.transform(hh_series[0]))
    np.testing.assert_array_equal(other.simulate_batch([-40.0], 200, 10), tiny_model.simulate_batch([-40.0], 200, 10))


def test_learned_map_protocol_and_exact_jacobian(tiny_model):
    m = tiny_model.as_system()
    assert isinstance(m, MapLike)
    x = m.initial_states(np.array([-40.0, -39.0, -41.0]))
    p = np.array([[-40.0], [-39.0], [-41.0]])
    assert x.shape == (3, m.dim)
    y = m.step(x, p)
    assert y.shape == (3, m.dim)
    jac = m.jacobian(x, p)
    eps = 1e-6
    fd = np.stack([(m.step(x + eps * e, p) - m.step(x - eps * e, p)) / (2 * eps) for e in np.eye(m.dim)], -1)
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-7)
    assert m.decode(x).shape == (3,)


def test_simulate_batch_matches_simulate(tiny_model):
    """dynamap.simulate of the learned map (the system path) is the batch's row, bit for bit."""
    xb = tiny_model.simulate_batch(np.array([-40.0, -38.0]), 300, 50)
    assert xb.shape == (2, 300)
    learned = tiny_model.as_system()
    dt = tiny_model.dt_
    traj = simulate(learned, {"c": -38.0}, t_end=350 * dt, transient=50 * dt)
    s = traj.series(learned.observable, param_value=-38.0)
    np.testing.assert_array_equal(s.values, xb[1])
    assert s.dt == dt and s.param_value == -38.0 and s.t0 == pytest.approx(50 * dt)


def test_save_load_round_trip(tmp_path, tiny_model, hh_series):
    d = tmp_path / "bundle"
    tiny_model.save(d)
    for f in ("weights.pt", "config.json", "versions.json", "fit_report.json", "latent_dim.png"):
        assert (d / f).is_file()
    torch.load(d / "weights.pt", weights_only=True)
    back = DynamapModel.load(d)
    assert back.config == tiny_model.config
    assert back.c_shift_ == tiny_model.c_shift_
    assert back.spike_hysteresis_ == tiny_model.spike_hysteresis_ > 0  # 5 sigma of the data's noise
    # a bundle saved before the hysteresis existed loads with none
    cfg = json.loads((d / "config.json").read_text())
    del cfg["fitted"]["sampling"]["spike_hysteresis"]
    (d / "config.json").write_text(json.dumps(cfg))
    assert DynamapModel.load(d).spike_hysteresis_ == 0.0
    np.testing.assert_array_equal(back.transform(hh_series[0]), tiny_model.transform(hh_series[0]))
    np.testing.assert_array_equal(back.simulate_batch(np.array([-40.0]), 200, 5),
                                  tiny_model.simulate_batch(np.array([-40.0]), 200, 5))
    with pytest.raises(InputError, match="not a dynamap model bundle"):
        DynamapModel.load(tmp_path)


def test_tagged_mode_and_free_running_check(hh_series, tiny_config):
    m = DynamapModel(tiny_config, seed=1).fit(hh_series, param_values=[-40.0, -37.0], progress=False)
    assert m.mode_ == "tagged"
    np.testing.assert_allclose(m.normalise_c(np.array([-40.0, -37.0])), np.array([-1.0, 1.0]) + m.c_shift_)
    # start states come from the segment nearest in c
    st = m.as_system().initial_states(np.array([-36.0]))
    assert np.any(np.all(np.isclose(m.anchors_[m.anchor_c_ == -37.0], st[0]), axis=1))
    chk = m.free_running_check(hh_series)
    assert [e["param_value"] for e in chk["series"]] == [-40.0, -37.0]
    # the check's map series: the free run at each tag, a quarter of its length dropped as transient;
    # the check's map labels and D_H are those of that series, whatever the (tiny) map does
    from dynamap.analysis.metrics import power_spectrum_hellinger
    from dynamap.analysis.regimes import classify
    from dynamap.training.freerun import CHECK_TRANSIENT_FRACTION

    n = chk["series"][0]["n_samples"]
    sims = m.simulate_batch(np.array([-40.0, -37.0]), n, int(CHECK_TRANSIENT_FRACTION * n))
    truth = {-40.0: ("bursting", [4]), -37.0: ("tonic", [1])}  # the HH reference at these V_S
    for e, s, xm in zip(chk["series"], hh_series, sims):
        x = m.resample(s)
        assert e["n_samples"] == n == x.shape[0] // 2
        assert (e["data"]["regime"], e["data"]["spikes_per_burst"]) == truth[e["param_value"]]
        rm = classify(xm, m.dt_, m.spike_threshold_, hysteresis=m.spike_hysteresis_)
        assert (e["map"]["regime"], e["map"]["spikes_per_burst"]) == (rm.regime, rm.spikes_per_burst)
        assert e["match"] == ((rm.regime, rm.spikes_per_burst) == truth[e["param_value"]])
        assert e["power_hellinger"]["value"] == pytest.approx(power_spectrum_hellinger(xm, x[:n], m.dt_),
                                                              rel=1e-12)
        assert e["power_hellinger"]["floor"] < 0.01  # two halves of one periodic orbit: near zero
    assert chk["all_match"] == all(e["match"] for e in chk["series"])


def test_candidates_side_by_side_equal_one_by_one(hh_series, tiny_config):
    cfg = FitConfig.from_dict({**tiny_config.to_dict(), "ridge": {**tiny_config.ridge.to_dict(), "candidates": 3},
                               "good_score": 0.0, "n_jobs": 1})
    one = DynamapModel(cfg, seed=2).fit([hh_series[0]], progress=False)
    two = DynamapModel(FitConfig.from_dict({**cfg.to_dict(), "n_jobs": 2}), seed=2).fit([hh_series[0]],
                                                                                       progress=False)
    h1, h2 = one.history_["map"], two.history_["map"]
    assert len(h1["candidates"]) == len(h2["candidates"]) == 3
    for a, b in zip(h1["candidates"], h2["candidates"]):  # candidate k: the same map in any process
        assert a["loss"] == b["loss"] and a["selected_score"] == b["selected_score"]
    assert h1["selected_candidate"] == h2["selected_candidate"]
    for k, v in one.map_.state_dict().items():
        torch.testing.assert_close(two.map_.state_dict()[k], v, rtol=0, atol=0)


def test_restart_rounds_keep_the_best_round(hh_series, tiny_model, tiny_config):
    series = hh_series[0]
    cfg = FitConfig.from_dict({**tiny_config.to_dict(), "restarts": 2, "good_score": 0.0, "restart_score": 0.0})
    m = DynamapModel(cfg, seed=0).fit([series], progress=False)
    rounds = m.history_["map"]["rounds"]
    assert [r["seed"] for r in rounds] == [0, round_seed(0, 1), round_seed(0, 2)]
    assert len({r["seed"] for r in rounds}) == 3
    # round 0 is the fit without restarts (same random streams)
    assert rounds[0]["selected_score"] == tiny_model.history_["map"]["selected_score"]
    scores = [r["selected_score"] for r in rounds]
    best = int(np.argmin(scores))
    assert m.history_["map"]["round"] == best
    assert m.history_["map"]["selected_score"] == min(scores)
    assert m.state_dim_ == rounds[best]["latent_dim"]
    # the encoder and anchors are the chosen round's: the anchors are among the training series' states
    z = m.transform(series)
    pos = np.linspace(0, z.shape[0] - 1, m.anchors_.shape[0]).astype(int)
    np.testing.assert_allclose(m.anchors_, z[pos], atol=1e-5)
    # a round whose best map scores restart_score or better ends the fit; good_score only ends the
    # round's candidates; tagged mode has its own count (0)
    once = DynamapModel(FitConfig.from_dict({**cfg.to_dict(), "restart_score": 1e9}), seed=0).fit(
        [series], progress=False)
    assert len(once.history_["map"]["rounds"]) == 1
    assert once.history_["map"]["selected_score"] == rounds[0]["selected_score"]
    lax = DynamapModel(FitConfig.from_dict({**cfg.to_dict(), "good_score": 1e9}), seed=0).fit(
        [series], progress=False)
    assert [r["selected_score"] for r in lax.history_["map"]["rounds"]] == scores
    tagged = DynamapModel(cfg, seed=0).fit(hh_series, param_values=[-40.0, -37.0], progress=False)
    assert len(tagged.history_["map"]["rounds"]) == 1


def test_tagged_mode_trains_longer(hh_series, tiny_vae_config):
    tiny_config = tiny_vae_config  # the MLP family's curriculum
    cfg = FitConfig.from_dict({**tiny_config.to_dict(), "mlp": {**tiny_config.mlp.to_dict(), "tagged_steps_factor": 2.0}})
    m = DynamapModel(cfg, seed=1).fit(hh_series, param_values=[-40.0, -37.0], progress=False)
    (cand,) = m.history_["map"]["candidates"]
    assert cand["select"][-1]["step"] == 2 * sum(tiny_config.mlp.stage_steps)
    single = DynamapModel(cfg, seed=1).fit([hh_series[0]], progress=False)  # single mode: as configured
    assert single.history_["map"]["candidates"][0]["select"][-1]["step"] == sum(tiny_config.mlp.stage_steps)


def test_input_errors(hh_series, tiny_config):
    with pytest.raises(InputError, match="param_values"):
        DynamapModel(tiny_config).fit(hh_series, param_values=[1.0], progress=False)
    bad = Series(np.r_[hh_series[0].values[:100], np.nan], 0.005)
    with pytest.raises(InputError, match="finite"):
        DynamapModel(tiny_config).fit([bad], progress=False)
    with pytest.raises(InputError, match="too short"):
        DynamapModel(tiny_config).fit([Series(np.sin(np.arange(30.0)), 0.005)], progress=False)
    short = Series(hh_series[0].values[:1000], 0.005)  # 5 s: about 14 fast time scales
    with pytest.raises(InputError, match="too short"):
        DynamapModel(tiny_config).fit([short], progress=False)
    with pytest.raises(InputError, match="not fitted"):
        DynamapModel(tiny_config).simulate_batch([-40.0], 10, 0)


# ----------------------------------------------------------------------------- quality (slow)


def _hh(vs, t_end=1600.0):
    tr = simulate(get_system("hh-burster"), {"V_S": vs}, t_end=t_end, transient=400.0, dt=0.005)
    return tr.series("V", param_value=vs)


@pytest.mark.slow
@pytest.mark.parametrize("vs,regime,spb", [(-42.0, "bursting", [3]), (-40.0, "bursting", [4]),
                                           (-36.0, "tonic", [1])])
def test_default_fit_reproduces_the_regime(vs, regime, spb):
    s = _hh(vs)
    m = DynamapModel(FitConfig(), seed=0).fit([s], progress=False)
    chk = m.free_running_check([s])["series"][0]
    assert chk["map"]["regime"] == regime and chk["map"]["spikes_per_burst"] == spb
    assert chk["isi_w1"]["value_rel"] <= 0.10
    assert chk["power_hellinger"]["value"] <= 0.15


@pytest.mark.slow
def test_default_tagged_fit_reproduces_each_segment():
    tags = [-42.0, -40.0, -38.5]
    series = [_hh(v) for v in tags]
    m = DynamapModel(FitConfig(), seed=0).fit(series, param_values=tags, progress=False)
    for e in m.free_running_check(series)["series"]:
        assert e["match"], (e["param_value"], e["data"], e["map"])
        assert e["isi_w1"]["value_rel"] <= 0.10
        assert e["power_hellinger"]["value"] <= 0.15


def _fake_evaluator(s_true, slope):
    """evaluate_shifts for a fake map whose mean-ISI ratio is 1 + slope * (shift - s_true[segment]) and
    whose score is |ratio - 1|: the best shift of segment i is s_true[i] exactly."""
    s_true = np.asarray(s_true, dtype=np.float64)
    calls = []

    def evaluate_shifts(n_steps, n_transient, shifts):
        shifts = np.asarray(shifts, dtype=np.float64)
        if shifts.ndim == 1:
            shifts = np.repeat(shifts[:, None], s_true.size, axis=1)
        calls.append(shifts.copy())
        ratio = 1.0 + slope * (shifts - s_true[None, :])
        details = [[{"score": float(abs(r - 1)), "isi_ratio": float(r)} for r in row] for row in ratio]
        return np.abs(ratio - 1.0), details

    return evaluate_shifts, calls


def test_calibration_picks_from_the_grid_then_refines_around_the_pick():
    from dynamap.training.selection import calibrate_shifts

    s_true = [0.00712, -0.0137, 0.00712]  # segments 0 and 2 share one control value
    c_norm = [-1.0, 0.0, -1.0]
    ev, calls = _fake_evaluator(s_true, slope=20.0)
    cfg = SelectionConfig()
    shift0, chosen0, cal0 = calibrate_shifts(ev, c_norm, cfg, (100, 10))
    assert len(calls) == 2  # grid, then refine
    assert shift0[0] == shift0[2]  # shared control, shared shift
    grid_points = np.r_[0.0, cfg.c_shifts]
    assert np.min(np.abs(shift0[1] - (grid_points[:, None] + np.r_[0.0, cfg.c_refine]))) < 1e-12
    assert abs(shift0[1] - s_true[1]) > 1e-5  # the true shift is not on the grid
    # the nearest candidate of grid and refinement to the true shift wins (score |ratio - 1|)
    pick = grid_points[np.argmin(np.abs(grid_points - s_true[1]))]
    cands = np.r_[grid_points, pick + np.asarray(cfg.c_refine)]
    assert shift0[1] == pytest.approx(cands[np.argmin(np.abs(cands - s_true[1]))], abs=1e-12)


def test_config_dt_sets_the_map_step_and_keeps_the_other_data_rules(tiny_model, hh_series, tiny_config):
    import dataclasses

    m = DynamapModel(dataclasses.replace(tiny_config, dt=0.02), seed=0).fit([hh_series[0]], progress=False)
    got, auto = m.sampling_, tiny_model.sampling_
    assert (got.stride, got.dt_map) == (4, pytest.approx(0.02))
    assert got.window == round(tiny_config.window_fast * auto.fast_time / 0.02)
    assert (got.spike_threshold, got.fast_time, got.spike_hysteresis) == \
        (auto.spike_threshold, auto.fast_time, auto.spike_hysteresis)


@pytest.mark.slow
def test_a_tagged_fit_on_noisy_segments_keeps_each_clean_regime():
    """1 mV of white noise on every training segment (2.5 % of the spike height): with the leaky
    averages the noise switches on (``FitConfig.noisy_slow``) the map keeps each tag's clean regime and
    spike count within ISI W1 10 % of the clean recording (docs/experiments.md, "The slow variable in
    the state": without them such maps were tonic or silent at half the demo's tags)."""
    tags = [-42.0, -40.0, -36.0]  # bursting 3, bursting 4, tonic
    clean = [_hh(v) for v in tags]
    rng = np.random.default_rng(5)
    noisy = [dataclasses.replace(s, values=np.asarray(s.values) + rng.standard_normal(len(s.values))) for s in clean]
    m = DynamapModel(FitConfig(), seed=0).fit(noisy, param_values=tags, progress=False)
    assert m.history_["noise"]["slow"] == list(FitConfig().noisy_slow)
    for e in m.free_running_check(clean)["series"]:
        assert e["data"]["regime"] == e["map"]["regime"], (e["param_value"], e["data"], e["map"])
        assert e["data"]["spikes_per_burst"] == e["map"]["spikes_per_burst"], (e["param_value"], e["map"])
        assert e["isi_w1"]["value_rel"] <= 0.10
