"""check_system: run the system protocol (:mod:`dynamap._core.protocols`) over one system, as
scikit-learn's estimator checks do for an estimator. Each check raises ``AssertionError`` with what
failed; the test suite runs it over every built-in system and every learned encoder x map family, and
a user's own system can be checked the same way before it goes through the analyses."""

from __future__ import annotations

import numpy as np

from .._core.protocols import FlowSystem, MapSystem, SystemLike
from .tangent import lyapunov_map, random_basis

__all__ = ["check_system"]


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise AssertionError(what)


def check_system(system, n_steps: int = 200) -> None:
    """The protocol's members of ``system`` exist and behave: parameters round-trip by name, states,
    decoding and (for a map) steps, Jacobians, orbits, exponents and spectra have the declared shapes
    and agree with one another over ``n_steps`` steps."""
    _require(isinstance(system, SystemLike), f"{type(system).__name__}: misses members of SystemLike")
    name = system.name
    _require(system.kind in ("flow", "map"), f"{name}: kind {system.kind!r} is neither flow nor map")
    _require(system.control in system.param_names, f"{name}: control {system.control!r} is not a parameter")
    p0 = system.param_vector()
    _require(p0.shape == (len(system.param_names),), f"{name}: param_vector shape {p0.shape}")
    _require(np.array_equal(system.param_vector(system.defaults()), p0), f"{name}: defaults do not round-trip")
    _require(system.parameter(system.control).name == system.control, f"{name}: parameter() by name")
    p = np.tile(p0, (2, 1))
    x0 = system.initial_states(p)
    _require(x0.shape == (2, system.dim) and np.isfinite(x0).all(), f"{name}: initial_states {x0.shape}")
    _require(np.shape(system.decode(x0)) == (2,), f"{name}: decode of (2, dim) states is not (2,)")
    _require(isinstance(system.info(), dict) and isinstance(system.provenance, dict), f"{name}: info/provenance")
    if system.kind == "flow":
        _require(isinstance(system, FlowSystem), f"{name}: a flow misses members of FlowSystem")
        return
    _require(isinstance(system, MapSystem), f"{name}: a map misses members of MapSystem")
    _check_map(system, name, p, x0, n_steps)


def _check_map(system, name: str, p: np.ndarray, x0: np.ndarray, n_steps: int) -> None:
    """The map members: step and Jacobian shapes, the orbits' final states one step from the last
    decoded sample's state, the exponent and the spectrum's sums against the generic QR loop."""
    d = system.dim
    x1 = system.step(x0, p)
    _require(x1.shape == (2, d), f"{name}: step shape {x1.shape}")
    jac = system.jacobian(x0, p)
    _require(jac.shape == (2, d, d) and np.isfinite(jac).all(), f"{name}: jacobian shape {jac.shape}")
    xs, finals = system.orbits(p, n_steps, 10, x0=x0)
    _require(xs.shape == (2, n_steps) and finals.shape == (2, d), f"{name}: orbits shapes {xs.shape}")
    _require(np.allclose(xs[0], xs[1], equal_nan=True), f"{name}: equal rows give different orbits")
    values, variables = system.record(p[0], n_steps + 10, 10, x0[0])
    _require(values.shape == (n_steps, len(variables)), f"{name}: record shape {values.shape}")
    if not np.isfinite(finals).all():
        return
    lam = system.largest_lyapunov(finals, p, n_steps)
    _require(lam.shape == (2,), f"{name}: largest_lyapunov shape {lam.shape}")
    q = np.tile(random_basis(d)[:, :1], (1, 1, 1))
    sums = system.spectrum_sums(finals[:1], p[:1], q, 0, n_steps)
    ref = lyapunov_map(system, finals[:1], p[:1], n_steps=n_steps, n_transient=0, k=1)
    _require(sums.shape == (1, 1), f"{name}: spectrum_sums shape {sums.shape}")
    _require(np.allclose(sums / n_steps, ref, rtol=1e-6, atol=1e-6),
             f"{name}: spectrum_sums {sums[0, 0] / n_steps} against the QR loop's {ref[0, 0]}")
    _require(isinstance(system.spectrum_method, str) and system.spectrum_method, f"{name}: spectrum_method")
