"""Ground-truth simulation of the built-in systems."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._core.errors import InputError, NumericalError
from .._core.types import Trajectory
from ._integrate import STATUS_MESSAGES, STATUS_OK, make_flow_kernel
from .base import Flow

__all__ = ["simulate", "flow_run", "FlowRun", "check_times"]

MAX_STEPS = 500_000_000


_KERNELS: dict[int, object] = {}


def _kernel(system: Flow):
    key = id(system.rhs)
    if key not in _KERNELS:
        _KERNELS[key] = make_flow_kernel(system.rhs, system.jac, system.dim)
    return _KERNELS[key]


def check_times(t_end: float, transient: float, dt: float) -> None:
    """Validate the time arguments shared by every simulation entry point."""
    for name, val in (("t_end", t_end), ("transient", transient), ("dt", dt)):
        if not np.isfinite(val):
            raise InputError(f"{name} must be a finite number, got {val!r}")
    if dt <= 0:
        raise InputError(f"dt must be positive, got {dt!r}; pass a sampling step such as 0.01")
    if transient < 0:
        raise InputError(f"transient must be >= 0, got {transient!r}")
    if t_end <= transient:
        raise InputError(
            f"t_end ({t_end!r}) must be beyond transient ({transient!r}); raise t_end or lower transient"
        )
    if (t_end - transient) / dt > 2e8:
        raise InputError(
            f"(t_end - transient) / dt = {(t_end - transient) / dt:.3g} samples is too many; raise dt"
        )


class FlowRun:
    """Raw result of one compiled integration: samples, Lyapunov sums, status."""

    __slots__ = ("samples", "lyapunov", "status", "message", "final_state", "n_steps")

    def __init__(self, samples, lyapunov, status, message, final_state, n_steps):
        self.samples = samples
        self.lyapunov = lyapunov
        self.status = status
        self.message = message
        self.final_state = final_state
        self.n_steps = n_steps


def flow_run(
    system: Flow,
    p: np.ndarray,
    *,
    t_end: float,
    transient: float,
    dt: float,
    y0: Sequence[float] | None = None,
    n_lyapunov: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    renorm_dt: float | None = None,
) -> FlowRun:
    """Integrate ``system`` at the parameter vector ``p``; low-level, no validation of ``p``.

    Samples are recorded every ``dt`` from ``transient`` to ``t_end``; the first ``n_lyapunov``
    Lyapunov exponents (per unit time) are accumulated over the same window.
    """
    y0 = np.asarray(system.initial_state if y0 is None else y0, dtype=np.float64)
    kernel = _kernel(system)
    samples, lsum, ltime, status, yf, nsteps = kernel(
        y0,
        np.asarray(p, dtype=np.float64),
        0.0,
        float(transient),
        float(t_end),
        float(dt),
        int(n_lyapunov),
        float(renorm_dt or system.lyapunov_renorm_dt),
        float(rtol or system.rtol),
        float(atol or system.atol),
        MAX_STEPS,
    )
    lyap = lsum / ltime if (n_lyapunov and ltime > 0) else np.full(n_lyapunov, np.nan)
    return FlowRun(samples, lyap, int(status), STATUS_MESSAGES[int(status)], yf, int(nsteps))


def simulate(
    system,
    params: Mapping[str, float] | None = None,
    *,
    t_end: float | None = None,
    transient: float | None = None,
    dt: float | None = None,
    y0: Sequence[float] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Trajectory:
    """Simulate a system and return its trajectory after the transient.

    For a flow, ``t_end`` and ``transient`` are model time and ``dt`` the sampling step of the output
    (the integrator is adaptive, Dormand-Prince 5(4) with tolerances ``rtol``/``atol``). For a built-in
    map they are iteration counts (``dt`` must be 1). For a learned map (``model.as_system()``) they
    are in the time unit of its training series, ``dt`` a whole multiple of its step, and the
    trajectory holds the decoded observable (variable ``system.observable``). Raises
    :class:`NumericalError` if the orbit diverges.
    """
    p = system.param_vector(params)
    t_end = float(system.default_t_end if t_end is None else t_end)
    transient = float(system.default_transient if transient is None else transient)
    dt = float(system.default_dt if dt is None else dt)
    check_times(t_end, transient, dt)
    if y0 is not None and len(y0) != system.dim:
        raise InputError(f"y0 must have {system.dim} entries {system.variables}, got {len(y0)}")
    variables = system.variables
    if isinstance(system, Flow):
        run = flow_run(system, p, t_end=t_end, transient=transient, dt=dt, y0=y0, rtol=rtol, atol=atol)
        if run.status != STATUS_OK:
            raise NumericalError(f"integration of {system.name!r} failed: {run.message}")
        states = run.samples
        t = transient + dt * np.arange(states.shape[0])
    else:
        stride = dt / system.dt
        if int(round(stride)) < 1 or abs(stride - round(stride)) > 1e-6 * max(1.0, stride):
            raise InputError(f"dt {dt:g} must be a whole multiple of the map's step {system.dt:g}")
        stride = int(round(stride))
        n_total, n_skip = int(round(t_end / system.dt)), int(round(transient / system.dt))
        if n_total - n_skip > 5e7:
            raise InputError(f"{n_total - n_skip} steps is too many; lower t_end")
        states, variables = system.record(p, n_total, n_skip, y0)
        states = states[::stride]
        t = system.dt * (n_skip + stride * np.arange(states.shape[0], dtype=np.float64))
    if not np.all(np.isfinite(states)):
        raise NumericalError(f"the orbit of {system.name!r} diverged at {dict(params or {})}")
    return Trajectory(t, states, variables, dt)
