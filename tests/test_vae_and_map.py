"""VAE, latent-dimension rule, parametric map and its training."""

import numpy as np
import pytest
import torch

from dynamap.embedding import DelayWindows
from dynamap.models import ParametricMap
from dynamap.training import (
    MLPConfig,
    SelectionConfig,
    VAEConfig,
    choose_latent_dim,
    encode_windows,
    fit_map,
    fit_vae,
    search_latent_dim,
    train_stats,
)
from dynamap.training.freerun import DIVERGED, SILENT, score


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks: one torch thread (two threads contend badly on a shared 2-core machine)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_choose_latent_dim_rule():
    # plateau at D=1,2, saturation from D=3 on
    losses = {1: 700.0, 2: 55.0, 3: 42.5, 4: 39.6, 5: 39.9, 6: 42.3}
    assert choose_latent_dim(losses, 0.01) == 3
    assert choose_latent_dim(losses, 0.05) == 2
    assert choose_latent_dim({1: 5.0, 2: 5.0}, 0.01) == 1


def test_dimension_search_finds_two_units_for_a_circle():
    """Windows of a sine lie on a closed curve: one unit cannot embed it, two can."""
    t = np.arange(6000)
    x = np.sin(2 * np.pi * t / 37.0)
    w = DelayWindows([x], 12)
    cfg = VAEConfig(hidden=32, latent_min=1, latent_max=3, steps_per_dim=600, refine_steps=0,
                    recon_sigma=0.05, eval_windows=1024, dim_tol=0.05)
    d, vae, ev = search_latent_dim(w, cfg, seed=0)
    losses = {int(k): v["final_loss"] for k, v in ev["per_dim"].items()}
    assert d == 2, losses
    assert losses[1] > 2 * losses[2]
    assert ev["per_dim"]["2"]["active_units"] == 2


def test_fit_vae_same_seed_same_model_and_no_global_rng_use():
    x = np.sin(np.arange(500) / 5.0)
    w = DelayWindows([x], 6)
    cfg = VAEConfig(hidden=8, steps_per_dim=20, batch_size=16)
    state = torch.random.get_rng_state()
    a, _ = fit_vae(w, 2, cfg, seed=3, steps=20)
    b, _ = fit_vae(w, 2, cfg, seed=3, steps=20)
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(encode_windows(a, w), encode_windows(b, w))
    c, _ = fit_vae(w, 2, cfg, seed=4, steps=20)
    assert not np.array_equal(encode_windows(a, w), encode_windows(c, w))


def test_parametric_map_is_residual():
    m = ParametricMap(3, 8, 1, "tanh", residual=True)
    with torch.no_grad():
        for p in m.net.parameters():
            p.zero_()
    u = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(m(u, torch.ones(4, 1)), u)


def _circle_latents(n=3000):
    t = np.arange(n) * 2 * np.pi / 40.0
    return np.stack([np.cos(t), np.sin(t)], 1).astype(np.float32)


def _decode_circle(z):
    return z[:, 0] * 40.0 - 20.0  # "spikes" above 10 once per turn


_decode_circle.columns = 2  # a decoder says how many leading coordinates it reads


def _circle_problem():
    """Latents on a circle (period 40 steps), their decoder and the data statistics with the trace."""
    lat = _circle_latents()
    return lat, _decode_circle, train_stats(_decode_circle(torch.from_numpy(lat)).numpy(), 1.0, 10.0,
                                            keep_trace=True)


def test_fit_map_learns_a_rotation_and_is_deterministic():
    lat = _circle_latents()

    def decode(z):
        return z[:, 0] * 40.0 - 20.0  # "spikes" above 10 once per turn

    decode.columns = 2
    ref = train_stats(decode(torch.from_numpy(lat)).numpy(), 1.0, 10.0)
    cfg = MLPConfig(hidden=16, horizons=(1, 4), stage_steps=(300, 100), batch_size=64, states_per_batch=64,
                    select_every=50, noise=0.0)
    sel = SelectionConfig(select_starts=2, select_steps=400, select_transient=100, final_steps=800,
                          final_transient=200)
    kw = dict(seed=0, decode=decode, refs=[ref], dt=1.0, threshold=10.0)
    m1, h1 = fit_map([lat], [1.0], cfg, sel, **kw)
    m2, _ = fit_map([lat], [1.0], cfg, sel, **kw)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)
    with torch.no_grad():
        pred = m1(torch.from_numpy(lat[:-1]), torch.ones(len(lat) - 1, 1)).numpy()
    err = np.sqrt(np.mean((pred - lat[1:]) ** 2))
    step = np.sqrt(np.mean((lat[1:] - lat[:-1]) ** 2))
    assert err < 0.1 * step
    assert h1["selected_score"] < 0.5  # the free run keeps the period (ISI ~ 40 steps)


def test_selection_score_statuses():
    x = np.tile(np.r_[np.full(9, -1.0), 1.0], 20)
    ref = train_stats(x, 1.0, 0.0)
    assert score(ref, train_stats(x, 1.0, 0.0))[0] == pytest.approx(0.0)
    assert score(ref, train_stats(np.full(200, -1.0), 1.0, 0.0))[0] == SILENT
    bad = x.copy()
    bad[5] = np.nan
    assert score(ref, train_stats(bad, 1.0, 0.0))[0] == DIVERGED


def test_selection_score_spectral_term_sees_a_wrong_period():
    """Same spike statistics at the level of ISIs can hide a different period; the D_H term sees it."""
    x = np.tile(np.r_[np.full(9, -1.0), 1.0], 600)  # period 10
    y = np.tile(np.r_[np.full(11, -1.0), 1.0], 500)  # period 12
    ref = train_stats(x, 1.0, 0.0, keep_trace=True)
    same, info = score(ref, train_stats(x, 1.0, 0.0, keep_trace=True), 1.0, 1.0)
    assert same == pytest.approx(0.0, abs=1e-6) and info["power_hellinger"] == pytest.approx(0.0, abs=1e-6)
    other = train_stats(y, 1.0, 0.0, keep_trace=True)
    plain, _ = score(ref, other)  # no spectral term: W1 only (0.2 of the mean ISI)
    with_dh, info = score(ref, other, 1.0, 1.0)
    assert plain == pytest.approx(0.2, rel=1e-6)
    assert with_dh == pytest.approx(plain + info["power_hellinger"]) and info["power_hellinger"] > 0.5


def test_selection_config_validates_its_fields():
    from dynamap import ConfigError

    with pytest.raises(ConfigError, match="final_transient"):
        SelectionConfig(final_steps=100, final_transient=100)
    cfg = SelectionConfig(c_shifts=(0.01,), final_steps=200, final_transient=20)
    assert SelectionConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize("field,old,other", [("rollout_noise", 0.0, 0.01), ("noise_mode", "isotropic", "speed"),
                                             ("output_scaling", False, True), ("c_secant", 0, 3),
                                             ("stage_noise", None, [0.01, 0.0])])
def test_removed_map_options_load_only_at_their_old_default(field, old, other):
    """A bundle written before an option was removed loads when it holds the old default (same
    behaviour); any other value is refused, naming the option."""
    from dynamap import ConfigError, FitConfig

    assert FitConfig.from_dict({"map": {field: old}}) == FitConfig()
    with pytest.raises(ConfigError, match=f"{field} was removed"):
        FitConfig.from_dict({"map": {field: other}})
    assert FitConfig.from_dict({"tagged_c_degree": None}) == FitConfig()
    with pytest.raises(ConfigError, match="tagged_c_degree was removed"):
        FitConfig.from_dict({"tagged_c_degree": 2})


def test_final_runs_default_to_the_check_length():
    """Unset, the final selection runs are as long as the fit's free-running check: the compared
    samples plus the check's transient; set, both lengths are taken as given (both or neither)."""
    from dynamap import ConfigError, Series
    from dynamap.pipeline.check import free_running_check

    class Recorder:  # a fitted model as the check sees it; records the length of the check's free run
        mode_, param_values_, spike_threshold_, dt_, spike_hysteresis_ = "single", [0.0], 0.0, 1.0, 0.0

        def resample(self, s):
            return s.values

        def simulate_batch(self, c, n, transient):
            self.run = (n + transient, transient)
            return np.full((len(c), n), np.nan)

    for n_check in (60000, 4999):
        model = Recorder()
        free_running_check(model, Series(np.sin(np.arange(2 * n_check) / 7.0), 1.0))
        assert SelectionConfig().final_run(n_check) == model.run
    assert SelectionConfig(final_steps=800, final_transient=200).final_run(60000) == (800, 200)
    for bad in (dict(final_steps=800), dict(final_transient=200)):
        with pytest.raises(ConfigError, match="both"):
            SelectionConfig(**bad)


def test_shift_calibration_in_chunks_equals_one_batch(monkeypatch):
    """The calibration runs go through in batches of at most MAX_COLUMNS free runs; the chunking
    changes neither the scores nor the chosen shift. Unset final lengths follow the data (check)."""
    import dynamap.training.selection as tm

    lat, decode, ref = _circle_problem()
    cfg = MLPConfig(hidden=16, horizons=(1, 4), stage_steps=(200, 50), batch_size=64, states_per_batch=64,
                    select_every=50)
    sel = SelectionConfig(select_starts=2, select_steps=400, select_transient=100, c_shifts=(-0.01, 0.01, 0.02))
    kw = dict(seed=0, decode=decode, refs=[ref], dt=1.0, threshold=10.0)
    _, whole = fit_map([lat], [1.0], cfg, sel, **kw)
    monkeypatch.setattr(tm, "MAX_COLUMNS", 3)  # 2 starts per shift: one shift per batch
    _, parts = fit_map([lat], [1.0], cfg, sel, **kw)
    half = lat.shape[0] // 2
    assert whole["final_run"] == [half + half // 4, half // 4]
    np.testing.assert_allclose(parts["calibration"]["scores"], whole["calibration"]["scores"], atol=1e-6)
    assert parts["c_shift"] == whole["c_shift"]
    # the orbit-memory bound: runs of half + half // 4 steps in 2 dimensions, 2 runs (one shift) a batch
    monkeypatch.setattr(tm, "MAX_COLUMNS", 256)
    monkeypatch.setattr(tm, "ORBIT_VALUES", 2 * 2 * whole["final_run"][0])
    _, bounded = fit_map([lat], [1.0], cfg, sel, **kw)
    np.testing.assert_allclose(bounded["calibration"]["scores"], whole["calibration"]["scores"], atol=1e-6)
    assert bounded["c_shift"] == whole["c_shift"]


@pytest.mark.parametrize("extra", [dict(), dict(noise=0.01), dict(c_noise=0.2)])
def test_fit_map_options_learn_the_rotation(extra):
    """The map fits a clean rotation well with each noise setting (noise is small vs the radius)."""
    lat, decode, ref = _circle_problem()
    cfg = MLPConfig(hidden=16, horizons=(1, 4), stage_steps=(300, 100), batch_size=64, states_per_batch=64,
                    select_every=50, **extra)
    sel = SelectionConfig(select_starts=2, select_steps=400, select_transient=100, final_steps=800,
                          final_transient=200)
    m, hist = fit_map([lat], [1.0], cfg, sel, seed=0, decode=decode, refs=[ref], dt=1.0, threshold=10.0)
    with torch.no_grad():
        pred = m(torch.from_numpy(lat[:-1]), torch.ones(len(lat) - 1, 1)).numpy()
    step = np.sqrt(np.mean((lat[1:] - lat[:-1]) ** 2))
    assert np.sqrt(np.mean((pred - lat[1:]) ** 2)) < 0.2 * step
    best = min(hist["final"], key=lambda f: f["long_score"])
    assert hist["selected_step"] == best["step"]  # the long runs pick the checkpoint
    # then the control's calibration: the best of the shifted long runs (and of the refined shifts
    # around the grid's pick), never worse than no shift
    (scores,) = hist["calibration"]["scores"]
    (fine,) = hist["calibration"]["refine"]["scores"]
    assert hist["selected_score"] == pytest.approx(min(min(scores), min(fine)))
    assert hist["selected_score"] <= hist["calibration"]["unshifted_score"]
    assert best["isi_ratios"][0] == pytest.approx(1.0, abs=0.05)  # the free run keeps the period of 40 steps


