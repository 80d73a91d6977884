"""The Morris-Lecar and Plant bursters: right-hand sides against independent evaluations, analytic
Jacobians against finite differences, and the default regime against scipy's LSODA."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import dynamap
from dynamap import get_system
from dynamap.analysis.regimes import classify
from dynamap.analysis.spikes import spike_times, split_bursts

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "morris_lecar_burster.py"


def _example():
    """examples/morris_lecar_burster.py as a module (it is standalone, not part of the package)."""
    spec = importlib.util.spec_from_file_location("morris_lecar_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plant_oracle(y, g_kca=0.03):
    """Plant's model in the form of Rinzel & Lee (1987), (w_inf - w) / tau_w with tau_w = 12.5 / (a + b),
    the published constants written out; plain exp, so not at u = 50 or u = 55."""
    v, h, n, x, ca = y
    u = (127.0 * v + 8265.0) / 105.0
    am = 0.1 * (50.0 - u) / (np.exp((50.0 - u) / 10.0) - 1.0)
    bm = 4.0 * np.exp((25.0 - u) / 18.0)
    ah = 0.07 * np.exp((25.0 - u) / 20.0)
    bh = 1.0 / (1.0 + np.exp((55.0 - u) / 10.0))
    an = 0.01 * (55.0 - u) / (np.exp((55.0 - u) / 10.0) - 1.0)
    bn = 0.125 * np.exp((45.0 - u) / 80.0)
    m_inf, h_inf, n_inf = am / (am + bm), ah / (ah + bh), an / (an + bn)
    tau_h, tau_n = 12.5 / (ah + bh), 12.5 / (an + bn)
    x_inf = 1.0 / (np.exp(0.15 * (-50.0 - v)) + 1.0)
    dv = (4.0 * m_inf**3 * h * (30.0 - v) + 0.01 * x * (30.0 - v)
          + (0.3 * n**4 + g_kca * ca / (0.5 + ca)) * (-75.0 - v) + 0.003 * (-40.0 - v))
    return np.array([dv, (h_inf - h) / tau_h, (n_inf - n) / tau_n, (x_inf - x) / 235.0,
                     0.0003 * (0.0085 * x * (140.0 - v) - ca)])


def _orbit_states(name, n=10):
    """States of one burst cycle of the default orbit: ``n`` spread over it, and five across one spike
    (upstroke, peak, downstroke)."""
    s = get_system(name)
    period = {"morris-lecar-burster": 932.0, "plant-burster": 10_480.0}[name]
    traj = dynamap.simulate(s, t_end=s.default_transient + period, transient=s.default_transient)
    v = traj.variable("V")
    peak = int(np.clip(np.argmax(v), 20, len(v) - 21))
    picks = np.r_[np.linspace(0, len(v) - 1, n).astype(int), peak + np.array([-20, -5, 0, 5, 20])]
    return s, traj.states[picks]


def test_morris_lecar_rhs_matches_the_example():
    example = _example()
    s = get_system("morris-lecar-burster")
    _, states = _orbit_states("morris-lecar-burster")
    for current in (40.0, 45.0, 50.0):
        for y in states:
            ours = s.rhs_numpy(y, {"I": current})
            np.testing.assert_allclose(ours, example.rhs(0.0, y, current), rtol=1e-12, atol=1e-15)


def test_plant_rhs_matches_the_published_form():
    s = get_system("plant-burster")
    _, states = _orbit_states("plant-burster")
    for g_kca in (0.0225, 0.03, 0.0375):
        for y in states:
            np.testing.assert_allclose(s.rhs_numpy(y, {"g_KCa": g_kca}), _plant_oracle(y, g_kca),
                                       rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("u", [50.0, 55.0])
def test_plant_rhs_is_continuous_where_the_rates_are_0_over_0(u):
    """a_m and a_n are x / (exp(x / 10) - 1) at x = 50 - u and 55 - u: finite, and the rhs there is
    the mean of its neighbours (it is smooth), its Jacobian finite."""
    s = get_system("plant-burster")
    y = np.array([(105.0 * u - 8265.0) / 127.0, 0.3, 0.4, 0.8, 0.9])
    e = np.array([1e-4, 0, 0, 0, 0])
    mid = s.rhs_numpy(y)
    assert np.all(np.isfinite(mid)) and np.all(np.isfinite(s.jac_numpy(y)))
    np.testing.assert_allclose(mid, 0.5 * (s.rhs_numpy(y + e) + s.rhs_numpy(y - e)), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", ["morris-lecar-burster", "plant-burster"])
def test_jacobian_matches_central_differences_along_the_orbit(name):
    s, states = _orbit_states(name)
    for y in states:
        jac = s.jac_numpy(y)
        fd = np.empty_like(jac)
        for j in range(s.dim):
            h = 1e-6 * max(1.0, abs(y[j]))
            e = np.zeros(s.dim)
            e[j] = h
            fd[:, j] = (s.rhs_numpy(y + e) - s.rhs_numpy(y - e)) / (2 * h)
        # central differences: O(h^2) truncation, and rounding of order 1e-10 of each row's scale
        tol = 1e-6 * np.abs(jac) + 1e-8 * np.abs(jac).max(axis=1, keepdims=True)
        bad = np.abs(jac - fd) > tol
        assert not bad.any(), f"state {y}: entries {np.argwhere(bad).tolist()} {jac[bad]} vs {fd[bad]}"


def _bursts(v, dt, threshold):
    """(spikes per complete burst, mean burst period) of the sampled voltage ``v``."""
    info = classify(v, dt, threshold)
    bursts, _ = split_bursts(spike_times(v, threshold, dt))
    starts = np.array([b[0] for b in bursts[1:-1]])
    return info, float(np.diff(starts).mean())


def _check_against_lsoda(s, params, oracle, t_end, transient, dt, spb, period_ref):
    """The compiled system at ``params`` and LSODA on ``oracle(t, y)`` (rtol 1e-8) burst alike: the
    same regime and spikes per burst ``spb``, burst periods within 1 % of each other and of
    ``period_ref``."""
    traj = dynamap.simulate(s, params, t_end=t_end, transient=transient, dt=dt)
    ours, period = _bursts(traj.variable("V"), dt, s.spike_threshold)
    t = np.arange(0.0, t_end, dt)
    sol = solve_ivp(oracle, (0.0, t_end), s.initial_state, t_eval=t, method="LSODA", rtol=1e-8, atol=1e-10)
    ref, ref_period = _bursts(sol.y[0][t >= transient], dt, s.spike_threshold)
    assert ours.regime == ref.regime == "bursting"
    assert ours.spikes_per_burst == ref.spikes_per_burst == spb
    assert abs(period - ref_period) < 0.01 * ref_period
    assert abs(period - period_ref) < 0.01 * period_ref


def test_morris_lecar_default_bursts_like_the_example_under_lsoda():
    """At I = 45: 4 spikes per burst, period 931.8 ms. Provenance: the example's docstring (4 spikes,
    932 ms); our LSODA run of the example's rhs (rtol 1e-8, 250 s) gives 931.82 ms, sd 0.004 ms."""
    rhs = _example().rhs
    _check_against_lsoda(get_system("morris-lecar-burster"), {"I": 45.0}, lambda t, y: rhs(t, y, 45.0),
                         25_000.0, 5_000.0, 0.5, [4], 931.8)


def test_plant_default_bursts_like_the_oracle_under_lsoda():
    """At g_KCa = 0.03: 6 spikes per burst, period 10.48 s. Provenance: our LSODA run of
    :func:`_plant_oracle` (rtol 1e-8, 240 s, transient 60 s) gives 10479.2 ms, sd 0.1 ms; no published
    spike count for these exact settings was found."""
    _check_against_lsoda(get_system("plant-burster"), {}, lambda t, y: _plant_oracle(y),
                         120_000.0, 30_000.0, 1.0, [6], 10_479.2)


@pytest.mark.parametrize(
    "name, value, regime",
    [
        # provenance: our 201-point sweeps over the control's +-25 % (dynamap sweep, default settings)
        ("morris-lecar-burster", 40.0, "silent"),
        ("morris-lecar-burster", 50.0, "tonic"),
        ("plant-burster", 0.0225, "tonic"),
        ("plant-burster", 0.0375, "silent"),
    ],
)
def test_the_control_range_holds_other_regimes(name, value, regime):
    s = get_system(name)
    traj = dynamap.simulate(s, {s.control: value})
    assert classify(traj.variable("V"), s.default_dt, s.spike_threshold).regime == regime
