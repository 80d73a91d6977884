"""System descriptions: flows (ODEs) and maps, with their own facts (parameters, units, Jacobians).

A :class:`Flow` wraps numba-compiled ``rhs(t, y, p, out)`` and ``jac(t, y, p, out)``; a
:class:`DiscreteMap` wraps vectorised numpy ``step(x, p)`` and ``jacobian(x, p)`` batched over
rows. Parameters are always passed by name (a mapping) at the public surface and converted to a
vector in the declared order inside.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .._core.errors import InputError
from .tangent import lyapunov_map, tangent_sums

__all__ = ["Parameter", "Flow", "DiscreteMap", "System"]


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A named parameter with its default, unit and the range users typically sweep."""

    name: str
    default: float
    unit: str = ""
    range: tuple[float, float] | None = None
    description: str = ""


@dataclasses.dataclass(frozen=True)
class _SystemBase:
    name: str
    variables: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    observable: str
    initial_state: tuple[float, ...]
    control: str
    citation: str
    description: str = ""
    units: Mapping[str, str] = dataclasses.field(default_factory=dict)
    spike_threshold: float | None = None

    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def observable_index(self) -> int:
        return self.variables.index(self.observable)

    def defaults(self) -> dict[str, float]:
        return {p.name: float(p.default) for p in self.parameters}

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise InputError(
            f"system {self.name!r} has no parameter {name!r}; valid parameters: "
            + ", ".join(self.param_names)
        )

    def param_vector(self, params: Mapping[str, float] | None = None) -> np.ndarray:
        """Defaults overridden by ``params`` (by name), as a float64 vector in declared order."""
        values = self.defaults()
        for key, val in (params or {}).items():
            self.parameter(key)  # raises with the valid names
            try:
                fval = float(val)
            except (TypeError, ValueError):
                raise InputError(
                    f"parameter {key!r} of {self.name!r} must be a number, got {val!r}"
                ) from None
            if not np.isfinite(fval):
                raise InputError(f"parameter {key!r} of {self.name!r} must be finite, got {val!r}")
            values[key] = fval
        return np.array([values[n] for n in self.param_names], dtype=np.float64)

    #: spike hysteresis used when labelling regimes (a fitted model's comes from its data's noise)
    spike_hysteresis = 0.0

    @property
    def provenance(self) -> dict[str, Any]:
        """What a sweep records about where the system came from, besides its name."""
        return {}

    def initial_states(self, p: np.ndarray, start: int = 0) -> np.ndarray:
        """Start states (B, dim) for parameter rows ``p`` (B, n_params): the system's initial state."""
        n = np.atleast_2d(np.asarray(p, dtype=np.float64)).shape[0]
        return np.tile(np.asarray(self.initial_state, dtype=np.float64), (n, 1))

    def decode(self, states: np.ndarray) -> np.ndarray:
        """The observable of states (..., dim)."""
        return np.asarray(states)[..., self.observable_index]

    def info(self) -> dict[str, Any]:
        """JSON-ready description of the system."""
        return {
            "name": self.name,
            "kind": self.kind,
            "variables": list(self.variables),
            "observable": self.observable,
            "control": self.control,
            "parameters": [dataclasses.asdict(p) for p in self.parameters],
            "units": dict(self.units),
            "citation": self.citation,
        }


@dataclasses.dataclass(frozen=True)
class Flow(_SystemBase):
    """A continuous-time system dy/dt = f(y; p)."""

    rhs: Callable = None  # numba njit: rhs(t, y, p, out)
    jac: Callable = None  # numba njit: jac(t, y, p, out)
    time_unit: str = "s"
    default_dt: float = 0.01
    default_transient: float = 100.0
    default_t_end: float = 1000.0
    rtol: float = 1e-8
    atol: float = 1e-10
    lyapunov_renorm_dt: float = 0.5
    kind: str = "flow"

    def rhs_numpy(self, y: np.ndarray, params: Mapping[str, float] | None = None) -> np.ndarray:
        out = np.empty(self.dim)
        self.rhs(0.0, np.asarray(y, dtype=np.float64), self.param_vector(params), out)
        return out

    def jac_numpy(self, y: np.ndarray, params: Mapping[str, float] | None = None) -> np.ndarray:
        out = np.empty((self.dim, self.dim))
        self.jac(0.0, np.asarray(y, dtype=np.float64), self.param_vector(params), out)
        return out


@dataclasses.dataclass(frozen=True)
class DiscreteMap(_SystemBase):
    """A discrete-time system x_{n+1} = F(x_n; p), vectorised over rows of ``x`` and ``p``."""

    step_fn: Callable = None  # step_fn(x (B, d), p (B, n_p)) -> (B, d)
    jac_fn: Callable = None  # jac_fn(x (B, d), p (B, n_p)) -> (B, d, d)
    default_transient: float = 1000
    default_t_end: float = 10000
    kind: str = "map"
    time_unit: str = "step"
    default_dt: float = 1.0
    #: time advanced by one step (time is counted in steps)
    dt = 1.0
    #: steps of the largest exponent at each sweep point
    default_lyapunov_steps = 20_000

    @property
    def default_lyapunov_t_end(self) -> float:
        """Iterations of a spectrum by :func:`~dynamap.lyapunov_spectrum` (10 orbit lengths)."""
        return 10 * float(self.default_t_end)

    def step(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.step_fn(np.asarray(x, dtype=np.float64), np.asarray(p, dtype=np.float64))

    def jacobian(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.jac_fn(np.asarray(x, dtype=np.float64), np.asarray(p, dtype=np.float64))

    #: how :func:`~dynamap.lyapunov_spectrum` computes this map's spectrum
    spectrum_method = "Jacobian products + QR"

    def iterate(self, p: np.ndarray, n_total: int, n_skip: int, x0=None) -> np.ndarray:
        """States (n_total - n_skip, dim) after ``n_skip`` of ``n_total`` steps from ``x0`` (default
        the initial state) at the parameter vector ``p``; NaN from the step where the orbit diverged."""
        x = np.asarray(self.initial_state if x0 is None else x0, dtype=np.float64)[None, :]
        pp = np.asarray(p, dtype=np.float64)[None, :]
        out = np.empty((n_total - n_skip, self.dim))
        for i in range(n_total):
            if i >= n_skip:
                out[i - n_skip] = x[0]
            x = self.step(x, pp)
            if not np.all(np.isfinite(x)):
                out[max(i + 1 - n_skip, 0) :] = np.nan
                break
        return out

    def record(self, p: np.ndarray, n_total: int, n_skip: int, x0=None) -> tuple[np.ndarray, tuple[str, ...]]:
        """What :func:`~dynamap.simulate` records: the states (:meth:`iterate`) and their variables."""
        return self.iterate(p, n_total, n_skip, x0), self.variables

    def orbits(self, p: np.ndarray, n_steps: int, n_transient: int, *, x0: np.ndarray | None = None,
               progress: bool = False, processes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Decoded orbits (B, n_steps) after ``n_transient`` steps and final states (B, dim) of the
        parameter rows ``p`` (B, n_p), one row after the other from ``x0`` (B, dim; default the initial
        states); diverged rows are NaN. ``progress`` and ``processes`` are accepted for the protocol."""
        x0 = self.initial_states(p) if x0 is None else np.asarray(x0, dtype=np.float64)
        xs, finals = [], []
        for i, pv in enumerate(np.asarray(p, dtype=np.float64)):
            states = self.iterate(pv, n_steps + n_transient, n_transient, x0[i])
            xs.append(self.decode(states))
            finals.append(states[-1])
        return np.array(xs).reshape(len(xs), n_steps), np.array(finals).reshape(len(finals), self.dim)

    def largest_lyapunov(self, x0: np.ndarray, p: np.ndarray, n_steps: int) -> np.ndarray:
        """Largest exponent per step of each row (B,) from the states ``x0`` (B, dim), by the full QR
        spectrum of :func:`~dynamap.systems.tangent.lyapunov_map` row by row."""
        return np.array([lyapunov_map(self, x0[i][None, :], p[i][None, :], n_steps=n_steps, n_transient=0)[0, 0]
                         for i in range(len(x0))])

    def spectrum_sums(self, x0: np.ndarray, p: np.ndarray, q: np.ndarray, n_transient: int,
                      n_steps: int) -> np.ndarray:
        """The spectrum's sums (B, k) from ``x0`` (B, dim) with tangent bases ``q`` (B, dim, k)
        (:func:`~dynamap.systems.tangent.tangent_sums`)."""
        return tangent_sums(self, x0, p, q, n_transient, n_steps)


System = Flow | DiscreteMap
