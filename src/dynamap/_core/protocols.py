"""The system protocol: every member the analyses use, declared once.

Built-in flows (:class:`~dynamap.systems.base.Flow`), built-in maps
(:class:`~dynamap.systems.base.DiscreteMap`) and learned maps
(:class:`~dynamap.models.learned_map.LearnedMap`) implement it, so :func:`~dynamap.sweep`,
:func:`~dynamap.simulate`, :func:`~dynamap.lyapunov_spectrum`, the fixed points and the comparisons
take any of them through the same code (as DynamicalSystems.jl keeps its interface in one file).
Everything is batched: states ``x`` have shape (B, dim), parameter rows ``p`` (B, n_params); row b of
a result belongs to row b of both. ``tests/test_protocol.py`` checks every built-in system and every
encoder x map family against it.

* :class:`SystemLike`: what every system has (names, parameters, default times, labelling facts).
* :class:`MapLike`: the minimum of the tangent and fixed-point analyses (``dim``, ``step``,
  ``jacobian``); test maps need only this.
* :class:`MapSystem`: a map as the analyses use it (``SystemLike`` + ``MapLike`` + the batched orbits,
  exponents and spectra).
* :class:`FlowSystem`: a flow (``SystemLike`` + the compiled right-hand side and Jacobian).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["FlowSystem", "MapLike", "MapSystem", "SystemLike"]


@runtime_checkable
class MapLike(Protocol):
    """A parameterised map x_{n+1} = F(x_n, p), batched over rows."""

    @property
    def dim(self) -> int: ...

    def step(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """(B, dim), (B, n_params) -> (B, dim)."""
        ...

    def jacobian(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """(B, dim), (B, n_params) -> (B, dim, dim), dF/dx."""
        ...


@runtime_checkable
class SystemLike(Protocol):
    """What every system has."""

    name: str
    #: "flow" or "map"
    kind: str
    #: state variable names (dim of them) and the one the observable is (a learned map: its series)
    variables: tuple[str, ...]
    observable: str
    #: the control parameter a sweep turns by default; all parameters, with defaults and ranges
    control: str
    parameters: tuple
    #: the unit of times and of exponents per unit time ("step" for a built-in map)
    time_unit: str
    #: default sampling step, transient and end time of a simulation or sweep (in ``time_unit``)
    default_dt: float
    default_transient: float
    default_t_end: float
    #: the observable's spike threshold (None: a sweep needs one given) and its hysteresis
    spike_threshold: float | None
    spike_hysteresis: float

    @property
    def dim(self) -> int: ...

    @property
    def param_names(self) -> tuple[str, ...]: ...

    @property
    def provenance(self) -> dict[str, Any]:
        """What a sweep records about where the system came from, besides its name."""
        ...

    def defaults(self) -> dict[str, float]: ...

    def parameter(self, name: str) -> Any:
        """The parameter ``name``; an :class:`~dynamap.InputError` naming the valid ones otherwise."""
        ...

    def param_vector(self, params: Mapping[str, float] | None = None) -> np.ndarray:
        """Defaults overridden by ``params`` (by name), as a float64 vector in declared order."""
        ...

    def initial_states(self, p: np.ndarray, start: int = 0) -> np.ndarray:
        """Start states (B, dim) for parameter rows ``p`` (B, n_params)."""
        ...

    def decode(self, states: np.ndarray) -> np.ndarray:
        """The observable of states (..., dim)."""
        ...

    def info(self) -> dict[str, Any]:
        """JSON-ready description of the system."""
        ...


@runtime_checkable
class MapSystem(SystemLike, MapLike, Protocol):
    """A map as the analyses use it."""

    #: time advanced by one step, in ``time_unit`` (1 for a built-in map)
    dt: float
    #: steps of the largest exponent at each sweep point; time of a spectrum by default
    default_lyapunov_steps: int
    default_lyapunov_t_end: float
    #: how :func:`~dynamap.lyapunov_spectrum` computes the spectrum, in words
    spectrum_method: str

    def orbits(self, p: np.ndarray, n_steps: int, n_transient: int, *, x0: np.ndarray | None = None,
               progress: bool = False, processes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Decoded orbits (B, n_steps) after ``n_transient`` steps and final states (B, dim) of the
        rows ``p`` (B, n_params) from ``x0`` (default :meth:`initial_states`); diverged rows NaN."""
        ...

    def largest_lyapunov(self, x0: np.ndarray, p: np.ndarray, n_steps: int) -> np.ndarray:
        """Largest exponent per step (B,) of each row over ``n_steps`` steps from ``x0`` (B, dim)."""
        ...

    def spectrum_sums(self, x0: np.ndarray, p: np.ndarray, q: np.ndarray, n_transient: int,
                      n_steps: int) -> np.ndarray:
        """Sums (B, k) of the log stretches of the tangent bases ``q`` (B, dim, k), re-orthonormalised
        every step, over the last ``n_steps`` of ``n_transient + n_steps`` steps; NaN rows diverged."""
        ...

    def record(self, p: np.ndarray, n_total: int, n_skip: int, x0=None) -> tuple[np.ndarray, tuple[str, ...]]:
        """What :func:`~dynamap.simulate` records of one orbit at the parameter vector ``p``: values
        (n_total - n_skip, n_vars) and their variable names."""
        ...


@runtime_checkable
class FlowSystem(SystemLike, Protocol):
    """A flow dy/dt = f(y; p) with numba-compiled ``rhs(t, y, p, out)`` and ``jac(t, y, p, out)``."""

    rhs: Any
    jac: Any
    #: the integrator's tolerances and the variational equations' renormalisation interval
    rtol: float
    atol: float
    lyapunov_renorm_dt: float
    initial_state: tuple[float, ...]
