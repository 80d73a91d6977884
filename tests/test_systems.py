"""Built-in systems: Jacobians vs finite differences, integrator vs an independent solver."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import dynamap
from dynamap import DiscreteMap, Flow, get_system, list_systems


def _states_for(system, rng, n=5):
    base = np.asarray(system.initial_state, dtype=float)
    scale = np.maximum(np.abs(base), 0.1) * 0.2
    return [base + scale * rng.standard_normal(base.size) for _ in range(n)]


@pytest.mark.parametrize("name", list_systems())
def test_jacobian_matches_finite_differences(name, rng):
    system = get_system(name)
    p = system.param_vector()
    for y in _states_for(system, rng):
        if isinstance(system, Flow):
            jac = system.jac_numpy(y)
            f = system.rhs_numpy
        else:
            jac = system.jacobian(y[None, :], p[None, :])[0]

            def f(z):
                return system.step(z[None, :], p[None, :])[0]

        fd = np.empty_like(jac)
        for j in range(system.dim):
            h = 1e-6 * max(1.0, abs(y[j]))
            e = np.zeros(system.dim)
            e[j] = h
            fd[:, j] = (f(y + e) - f(y - e)) / (2 * h)
        # central differences: error O(h^2) relative to the entries' scale
        scale = np.abs(jac).max()
        np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("name", ["lorenz", "rossler", "hh-burster", "hindmarsh-rose"])
def test_flow_matches_scipy_dop853(name):
    """Our compiled DOPRI5 (rtol 1e-10) against scipy's DOP853 (rtol 1e-12) over a short horizon."""
    system = get_system(name)
    t_end = {"lorenz": 2.0, "rossler": 10.0, "hh-burster": 5.0, "hindmarsh-rose": 50.0}[name]
    dt = t_end / 200
    traj = dynamap.simulate(system, t_end=t_end, transient=0.0, dt=dt, rtol=1e-10, atol=1e-10)
    p = system.param_vector()

    def f(t, y):
        return system.rhs_numpy(y)

    sol = solve_ivp(f, (0, t_end), system.initial_state, method="DOP853", t_eval=traj.t, rtol=1e-12, atol=1e-12)
    assert p.size == len(system.parameters)
    err = np.abs(sol.y.T - traj.states).max() / np.abs(sol.y).max()
    # the Hermite dense output is third order: 1e-6 relative on this sampling is the tolerance
    assert err < 1e-6, err


def test_systems_carry_their_facts():
    for name in list_systems():
        s = get_system(name)
        assert s.citation and s.control in s.param_names and s.observable in s.variables
        assert len(s.initial_state) == s.dim
        info = s.info()
        assert info["name"] == name


def test_map_orbit_and_unknown_parameter():
    henon = get_system("henon")
    assert isinstance(henon, DiscreteMap)
    traj = dynamap.simulate(henon, t_end=10, transient=0)
    x, y = traj.states[0]
    np.testing.assert_allclose(traj.states[1], [1 - 1.4 * x * x + y, 0.3 * x])
    with pytest.raises(dynamap.InputError, match="no parameter 'q'"):
        dynamap.simulate(henon, {"q": 1.0}, t_end=10, transient=0)


def test_hh_default_regime_is_bursting():
    """At V_S = -40 mV the burster fires 4 spikes per burst (our reference sweep; see hh_reference.py)."""
    from dynamap.analysis.regimes import classify

    s = get_system("hh-burster")
    traj = dynamap.simulate(s, {"V_S": -40.0}, t_end=700, transient=400, dt=0.005)
    info = classify(traj.variable("V"), 0.005, s.spike_threshold)
    assert info.regime == "bursting" and info.spikes_per_burst == [4]


def test_kernel_loads_once_when_threads_race(tmp_path, monkeypatch):
    """Sweeps run points in threads: while one thread executes a new kernel module, another must wait
    for it rather than take the half-built module (that raised AttributeError: no flow_kernel).
    The module's execution is slowed down so that the threads overlap for certain."""
    import importlib.util
    import sys
    import threading
    import time

    from dynamap.systems import _integrate

    monkeypatch.setenv("DYNAMAP_CACHE_DIR", str(tmp_path))
    for name in [k for k in sys.modules if k.startswith("dynamap_kernel_")]:
        monkeypatch.delitem(sys.modules, name)  # restored after the test
    real_spec = importlib.util.spec_from_file_location
    executed = []

    def slow_spec(*args, **kwargs):
        spec = real_spec(*args, **kwargs)
        real_exec = spec.loader.exec_module

        def slow_exec(module):
            time.sleep(0.3)
            executed.append(module.__name__)
            real_exec(module)

        spec.loader.exec_module = slow_exec
        return spec

    monkeypatch.setattr(importlib.util, "spec_from_file_location", slow_spec)
    system = dynamap.get_system("hh-burster")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def load():
        barrier.wait()
        try:
            results.append(_integrate.make_flow_kernel(system.rhs, system.jac, system.dim))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(executed) == 1  # one module executed, the other threads reused it
    assert len(results) == 4 and all(r is results[0] for r in results)
    assert callable(results[0])


def test_an_edited_system_module_gets_a_kernel_of_its_own(tmp_path, monkeypatch):
    """numba's disk cache does not see edits of the rhs a cached kernel imports; the kernel's name and
    source carry the digest of the system's module, so an edited module compiles anew and integrates
    its new equations (dy/dt = -y, then -2y)."""
    import importlib
    import sys

    from dynamap.systems import _integrate

    monkeypatch.setenv("DYNAMAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(tmp_path))
    src = ("from numba import njit\n\n@njit(cache=True)\ndef rhs(t, y, p, out):\n    out[0] = -K * y[0]\n\n"
           "@njit(cache=True)\ndef jac(t, y, p, out):\n    out[0, 0] = -K\n\nK = {k}\n")
    path = tmp_path / "dynamap_test_decay.py"
    ends = []
    for k in (1.0, 2.0):
        path.write_text(src.format(k=k))
        monkeypatch.delitem(sys.modules, "dynamap_test_decay", raising=False)
        mod = importlib.import_module("dynamap_test_decay")
        kernel = _integrate.make_flow_kernel(mod.rhs, mod.jac, 1)
        out = kernel(np.array([1.0]), np.zeros(1), 0.0, 0.0, 1.0, 1.0, 0, 1.0, 1e-10, 1e-12, 100000)
        ends.append(float(out[4][0]))
    np.testing.assert_allclose(ends, [np.exp(-1.0), np.exp(-2.0)], rtol=1e-6)
