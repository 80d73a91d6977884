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
from .._core.protocols import MapLike
from ..systems.base import Flow
from ..systems.simulate import check_times, flow_run

__all__ = ["LyapunovResult", "lyapunov_flow", "lyapunov_map", "lyapunov_spectrum"]


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


#: steps of :func:`lyapunov_map` whose Jacobians are computed in one call
JACOBIAN_BLOCK = 1024


def lyapunov_map(
    m: MapLike,
    x0: np.ndarray,
    p: np.ndarray,
    *,
    n_steps: int = 100_000,
    n_transient: int = 1_000,
    k: int | None = None,
    renorm_every: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Lyapunov exponents per step of a map, batched: ``x0`` (B, d), ``p`` (B, n_p) -> (B, k).

    Tangent vectors start from a random orthonormal basis (``seed``; a coordinate basis could sit in an
    invariant subspace and miss the leading exponents when ``k < d``), are propagated by the Jacobian
    and re-orthonormalised by QR every ``renorm_every`` steps; rows whose orbit diverges get NaN. A map
    with a compiled loop for this (``m.spectrum_sums``, a learned delay map) runs it instead when
    ``renorm_every`` is 1.
    """
    x = np.array(x0, dtype=np.float64, ndmin=2)
    p = np.array(p, dtype=np.float64, ndmin=2)
    b, d = x.shape
    k = d if k is None else int(k)
    if not 1 <= k <= d:
        raise InputError(f"k must be in 1..{d}, got {k}")
    if n_steps < 1:
        raise InputError(f"n_steps must be >= 1, got {n_steps}")
    q0, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    q = np.tile(q0[:, :k], (b, 1, 1))
    fast = getattr(m, "spectrum_sums", None)
    sums = fast(x, p, q, n_transient, n_steps) if fast is not None and renorm_every == 1 else None
    if sums is not None:  # a compiled loop of the map's own (a learned delay map)
        out = sums / n_steps
        out[~np.all(np.isfinite(x), axis=1)] = np.nan
        return -np.sort(-out, axis=1)
    acc = np.zeros((b, k))
    alive = np.ones(b, dtype=bool)
    n_total = n_transient + n_steps
    # in blocks: the orbit first, then the Jacobians of the whole block in one batched call (a learned
    # map's Jacobian costs about as much for a thousand states as for one), then the QR steps
    for first in range(0, n_total, JACOBIAN_BLOCK):
        n_blk = min(JACOBIAN_BLOCK, n_total - first)
        xs = np.empty((n_blk, b, d))
        bads = np.zeros((n_blk, b), dtype=bool)
        for j in range(n_blk):
            xs[j] = x
            x = m.step(x, p)
            bad = ~np.all(np.isfinite(x), axis=1)
            if bad.any():
                bads[j] = bad
                x[bad] = 0.0
        jacs = m.jacobian(xs.reshape(n_blk * b, d), np.tile(p, (n_blk, 1))).reshape(n_blk, b, d, d)
        for j in range(n_blk):
            i = first + j
            q = jacs[j] @ q
            if (i + 1) % renorm_every == 0 or i == n_total - 1:
                q, r = np.linalg.qr(q)
                diag = np.abs(np.diagonal(r, axis1=1, axis2=2))
                sign = np.sign(np.diagonal(r, axis1=1, axis2=2))
                q = q * np.where(sign == 0, 1.0, sign)[:, None, :]
                if i >= n_transient:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        acc += np.log(diag)
            if bads[j].any():
                alive &= ~bads[j]
                q[bads[j]] = q0[:, :k]
    out = acc / n_steps
    out[~alive] = np.nan
    return -np.sort(-out, axis=1)


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
    per_step = lyapunov_map(system, x0, p, n_steps=n_total - n_tr, n_transient=n_tr, k=k)[0]
    # -inf is an exponent (a direction the map annihilates: a clamped sample's row of the Jacobian is 0)
    if np.any(np.isnan(per_step) | (per_step == np.inf)):
        raise NumericalError(f"the orbit of {system.name!r} diverged at {dict(params or {})}; "
                             "choose parameter values nearer the training values or the defaults")
    method = "Jacobian products + QR"
    if system.time_unit == "step":
        return LyapunovResult(per_step, "per step", "step", n_total - n_tr, float(n_total - n_tr), method)
    method = getattr(system, "spectrum_method", "exact Jacobian (autograd) products + QR")
    return LyapunovResult(per_step / dt, "per unit time", system.time_unit, n_total - n_tr,
                          (n_total - n_tr) * dt, method, spectrum_per_step=per_step, dt=dt)
