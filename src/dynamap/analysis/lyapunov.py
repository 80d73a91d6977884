"""Lyapunov spectra: flows by variational equations + QR, maps by Jacobian products + QR.

Maps go through the :class:`~dynamap._core.protocols.MapLike` protocol, batched over rows, so the
built-in maps and learned neural-network maps use the same code. Exponents of a map are per step;
pass ``dt`` to convert them to per unit time (``lambda / dt``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from .._core.errors import InputError, NumericalError
from ..systems.base import Flow
from ..systems.simulate import check_times, flow_run
from ..systems.tangent import lyapunov_map, random_basis

__all__ = ["LyapunovResult", "flow_terms", "lyapunov_flow", "lyapunov_map", "lyapunov_spectrum"]


@dataclasses.dataclass(frozen=True)
class LyapunovResult:
    """A Lyapunov spectrum (descending) with its units."""

    spectrum: np.ndarray
    units: str  # "per unit time" or "per step"
    time_unit: str = ""
    n_steps: int = 0
    duration: float = 0.0
    method: str = ""
    #: a map with a physical step (a learned map): the exponents per step, ``spectrum * dt``
    spectrum_per_step: np.ndarray | None = None
    dt: float | None = None

    def to_dict(self) -> dict:
        out = {
            "spectrum": [float(v) for v in self.spectrum],
            "units": self.units,
            "time_unit": self.time_unit,
            "n_steps": int(self.n_steps),
            "duration": float(self.duration),
            "method": self.method,
        }
        if self.spectrum_per_step is not None:
            out.update(spectrum_per_step=[float(v) for v in self.spectrum_per_step], dt=float(self.dt))
        return out


def lyapunov_flow(
    system: Flow,
    params: Mapping[str, float] | None = None,
    *,
    t_end: float | None = None,
    transient: float | None = None,
    k: int | None = None,
    renorm_dt: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    y0=None,
) -> LyapunovResult:
    """First ``k`` exponents of a flow (per unit time), averaged over [transient, t_end]."""
    k = system.dim if k is None else int(k)
    if not 1 <= k <= system.dim:
        raise InputError(f"k must be in 1..{system.dim}, got {k}")
    t_end = float(system.default_t_end if t_end is None else t_end)
    transient = float(system.default_transient if transient is None else transient)
    check_times(t_end, transient, 1.0)
    run = flow_run(
        system,
        system.param_vector(params),
        t_end=t_end,
        transient=transient,
        dt=0.0,
        y0=y0,
        n_lyapunov=k,
        rtol=rtol,
        atol=atol,
        renorm_dt=renorm_dt,
    )
    if run.status != 0:
        raise NumericalError(f"Lyapunov integration of {system.name!r} failed: {run.message}")
    return LyapunovResult(
        np.sort(run.lyapunov)[::-1],
        "per unit time",
        system.time_unit,
        run.n_steps,
        t_end - transient,
        "variational equations + Gram-Schmidt (Dormand-Prince 5(4))",
    )


def lyapunov_spectrum(
    system,
    params: Mapping[str, float] | None = None,
    *,
    t_end: float | None = None,
    transient: float | None = None,
    k: int | None = None,
) -> LyapunovResult:
    """Lyapunov spectrum of any system: a flow by its variational equations (per unit time), a map by
    Jacobian products + QR from its initial state (a built-in map: per step, times in steps; a learned
    map: per unit time of its training series, times in that unit)."""
    if isinstance(system, Flow):
        return lyapunov_flow(system, params, t_end=t_end, transient=transient, k=k)
    dt = float(system.dt)
    t_end = float(system.default_lyapunov_t_end if t_end is None else t_end)
    transient = float(system.default_transient if transient is None else transient)
    n_total, n_tr = int(round(t_end / dt)), int(round(transient / dt))
    if n_total <= n_tr:
        raise InputError(f"t_end ({t_end:g}) must be beyond transient ({transient:g})")
    if k is not None and not 1 <= k <= system.dim:
        raise InputError(f"k must be in 1..{system.dim}, got {k}")
    p = system.param_vector(params)[None, :]
    x0 = system.initial_states(p)
    k = system.dim if k is None else int(k)
    q = np.tile(random_basis(system.dim)[:, :k], (1, 1, 1))
    per_step = system.spectrum_sums(x0, p, q, n_tr, n_total - n_tr) / (n_total - n_tr)
    per_step[~np.all(np.isfinite(x0), axis=1)] = np.nan
    per_step = -np.sort(-per_step, axis=1)[0]
    # -inf is an exponent (a direction the map annihilates: a clamped sample's row of the Jacobian is 0)
    if np.any(np.isnan(per_step) | (per_step == np.inf)):
        raise NumericalError(f"the orbit of {system.name!r} diverged at {dict(params or {})}; "
                             "choose parameter values nearer the training values or the defaults")
    method = system.spectrum_method
    if system.time_unit == "step":
        return LyapunovResult(per_step, "per step", "step", n_total - n_tr, float(n_total - n_tr), method)
    return LyapunovResult(per_step / dt, "per unit time", system.time_unit, n_total - n_tr,
                          (n_total - n_tr) * dt, method, spectrum_per_step=per_step, dt=dt)


def flow_terms(system, params: Mapping[str, float] | None = None, *, t_end: float | None = None,
               transient: float | None = None) -> dict | None:
    """A learned map's largest exponent in a flow's terms (docs/metrics.md section 6), per unit time,
    over as many steps after the same transient as :func:`lyapunov_spectrum` (the transient iterated
    by the map's float32 fast path, the exponents in float64): the growth of the direction of motion (0 where
    the orbit keeps moving: the flow's zero exponent), the largest exponent transverse to it, and the
    flow's largest exponent from them; None for a system without ``flow_lyapunov`` (a flow's own
    spectrum already is in these terms)."""
    if not hasattr(system, "flow_lyapunov"):
        return None
    from .sweep import flow_parts

    dt = float(system.dt)
    t_end = float(system.default_lyapunov_t_end if t_end is None else t_end)
    transient = float(system.default_transient if transient is None else transient)
    n_total, n_tr = int(round(t_end / dt)), int(round(transient / dt))
    p = system.param_vector(params)[None, :]
    _, final = system.orbits(p, 1, max(0, n_tr - 1), x0=system.initial_states(p))
    n = n_total - n_tr
    raw = float(system.largest_lyapunov(final, p, n)[0])
    return {**flow_parts(raw, system.flow_lyapunov(final, p, n)[0], n, dt), "units": "per unit time"}
