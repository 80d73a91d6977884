"""Compiled integrators for the built-in flows.

One adaptive Dormand-Prince 5(4) kernel (Hairer, Norsett & Wanner, *Solving ODEs I*, sec. II.5) is
compiled per system with numba. It integrates the state together with ``k`` tangent vectors of the
variational equations ``dQ/dt = J(y) Q``, records the state on a uniform output grid by cubic Hermite
interpolation between accepted steps, and re-orthonormalises the tangent vectors by QR on a fixed
time grid to accumulate Lyapunov exponents (Benettin et al. 1980). With ``k = 0`` it is a plain
integrator.

The kernels release the GIL, so a sweep runs parameter values on several threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["make_flow_kernel", "STATUS_MESSAGES"]

# Dormand-Prince 5(4) tableau.
_C2, _C3, _C4, _C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = (
    19372.0 / 6561.0,
    -25360.0 / 2187.0,
    64448.0 / 6561.0,
    -212.0 / 729.0,
)
_A61, _A62, _A63, _A64, _A65 = (
    9017.0 / 3168.0,
    -355.0 / 33.0,
    46732.0 / 5247.0,
    49.0 / 176.0,
    -5103.0 / 18656.0,
)
_B1, _B3, _B4, _B5, _B6 = (
    35.0 / 384.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
)
# error coefficients: b - b_hat
_E1 = 71.0 / 57600.0
_E3 = -71.0 / 16695.0
_E4 = 71.0 / 1920.0
_E5 = -17253.0 / 339200.0
_E6 = 22.0 / 525.0
_E7 = -1.0 / 40.0

STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_NONFINITE = 2
STATUS_STEP_UNDERFLOW = 3
STATUS_MESSAGES = {
    STATUS_OK: "ok",
    STATUS_MAX_STEPS: "maximum number of steps reached",
    STATUS_NONFINITE: "state became non-finite (diverged)",
    STATUS_STEP_UNDERFLOW: "step size underflow",
}


@njit(cache=True, nogil=True)
def _aug_rhs(rhs, jac, d, t, z, p, k, jbuf, out):
    rhs(t, z[:d], p, out[:d])
    if k > 0:
        jac(t, z[:d], p, jbuf)
        for j in range(k):
            off = d + j * d
            for r in range(d):
                s = 0.0
                for c in range(d):
                    s += jbuf[r, c] * z[off + c]
                out[off + r] = s


@njit(cache=True, nogil=True)
def _renormalise(d, z, k, acc, accumulate):
    # modified Gram-Schmidt on the k tangent vectors; accumulate log of norms
    for j in range(k):
        off = d + j * d
        for i in range(j):
            offi = d + i * d
            dot = 0.0
            for r in range(d):
                dot += z[off + r] * z[offi + r]
            for r in range(d):
                z[off + r] -= dot * z[offi + r]
        nrm = 0.0
        for r in range(d):
            nrm += z[off + r] * z[off + r]
        nrm = np.sqrt(nrm)
        if accumulate:
            acc[j] += np.log(nrm)
        for r in range(d):
            z[off + r] /= nrm


@njit(cache=True, nogil=True)
def flow_kernel(
    rhs, jac, d, y0, p, t0, t_record, t_end, dt_out, k, renorm_dt, rtol, atol, max_steps
):
    n = d + d * k
    z = np.zeros(n)
    z[:d] = y0
    for j in range(k):
        z[d + j * d + j] = 1.0
    jbuf = np.zeros((d, d))
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    k5 = np.empty(n)
    k6 = np.empty(n)
    k7 = np.empty(n)
    ztmp = np.empty(n)
    znew = np.empty(n)
    if dt_out > 0.0:
        n_out = int(np.floor((t_end - t_record) / dt_out + 1e-9)) + 1
    else:
        n_out = 0
    samples = np.empty((n_out, d))
    lyap = np.zeros(max(k, 1))
    lyap_time = 0.0
    status = STATUS_OK

    t = t0
    _aug_rhs(rhs, jac, d, t, z, p, k, jbuf, k1)
    # initial step (Hairer's heuristic, simplified)
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol + rtol * abs(z[i])
        d0 += (z[i] / sc) ** 2
        d1 += (k1[i] / sc) ** 2
    d0 = np.sqrt(d0 / n)
    d1 = np.sqrt(d1 / n)
    if d0 < 1e-5 or d1 < 1e-5:
        h = 1e-6
    else:
        h = 0.01 * d0 / d1
    h = min(h, t_end - t0)
    if h <= 0.0:
        h = 1e-6
    i_out = 0
    next_out = t_record
    next_renorm = t0 + renorm_dt if k > 0 else np.inf
    steps = 0
    err_prev = 1e-4
    while t < t_end and steps < max_steps:
        # do not step across a renormalisation time or the end
        h_try = h
        if k > 0 and t + h_try > next_renorm:
            h_try = next_renorm - t
        if t + h_try > t_end:
            h_try = t_end - t
        for i in range(n):
            ztmp[i] = z[i] + h_try * _A21 * k1[i]
        _aug_rhs(rhs, jac, d, t + _C2 * h_try, ztmp, p, k, jbuf, k2)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (_A31 * k1[i] + _A32 * k2[i])
        _aug_rhs(rhs, jac, d, t + _C3 * h_try, ztmp, p, k, jbuf, k3)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (_A41 * k1[i] + _A42 * k2[i] + _A43 * k3[i])
        _aug_rhs(rhs, jac, d, t + _C4 * h_try, ztmp, p, k, jbuf, k4)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (
                _A51 * k1[i] + _A52 * k2[i] + _A53 * k3[i] + _A54 * k4[i]
            )
        _aug_rhs(rhs, jac, d, t + _C5 * h_try, ztmp, p, k, jbuf, k5)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (
                _A61 * k1[i] + _A62 * k2[i] + _A63 * k3[i] + _A64 * k4[i] + _A65 * k5[i]
            )
        _aug_rhs(rhs, jac, d, t + h_try, ztmp, p, k, jbuf, k6)
        for i in range(n):
            znew[i] = z[i] + h_try * (
                _B1 * k1[i] + _B3 * k3[i] + _B4 * k4[i] + _B5 * k5[i] + _B6 * k6[i]
            )
        _aug_rhs(rhs, jac, d, t + h_try, znew, p, k, jbuf, k7)
        err = 0.0
        finite = True
        for i in range(n):
            e = h_try * (
                _E1 * k1[i]
                + _E3 * k3[i]
                + _E4 * k4[i]
                + _E5 * k5[i]
                + _E6 * k6[i]
                + _E7 * k7[i]
            )
            sc = atol + rtol * max(abs(z[i]), abs(znew[i]))
            err += (e / sc) ** 2
            if not np.isfinite(znew[i]):
                finite = False
        err = np.sqrt(err / n)
        steps += 1
        if not finite or not np.isfinite(err):
            if h_try < 1e-14 * max(1.0, abs(t)):
                status = STATUS_NONFINITE
                break
            h = 0.1 * h_try
            continue
        if err <= 1.0:
            t_new = t + h_try
            # dense output on the recording grid (cubic Hermite on the state only)
            while i_out < n_out and next_out <= t_new + 1e-12 * max(1.0, abs(t_new)):
                th = (next_out - t) / h_try
                if th < 0.0:
                    th = 0.0
                if th > 1.0:
                    th = 1.0
                h00 = (1.0 + 2.0 * th) * (1.0 - th) ** 2
                h10 = th * (1.0 - th) ** 2
                h01 = th * th * (3.0 - 2.0 * th)
                h11 = th * th * (th - 1.0)
                for r in range(d):
                    samples[i_out, r] = (
                        h00 * z[r]
                        + h10 * h_try * k1[r]
                        + h01 * znew[r]
                        + h11 * h_try * k7[r]
                    )
                i_out += 1
                next_out = t_record + i_out * dt_out
            t = t_new
            for i in range(n):
                z[i] = znew[i]
                k1[i] = k7[i]
            if k > 0 and t >= next_renorm - 1e-12 * max(1.0, abs(t)):
                if t > t_record:
                    _renormalise(d, z, k, lyap, True)
                    lyap_time += renorm_dt
                else:
                    _renormalise(d, z, k, lyap, False)
                next_renorm = next_renorm + renorm_dt
                _aug_rhs(rhs, jac, d, t, z, p, k, jbuf, k1)
            # PI step-size control (Hairer's dopri5 defaults: beta = 0.04)
            fac = 0.9 * err ** (-0.7 / 5.0) * err_prev**0.04 if err > 0.0 else 10.0
            fac = min(10.0, max(0.2, fac))
            err_prev = max(err, 1e-4)
            if h_try == h:
                h = h_try * fac
            else:
                # a truncated step says nothing about the unconstrained step size
                h = max(h, h_try * fac)
        else:
            fac = max(0.2, 0.9 * err ** (-0.2))
            h = h_try * fac
        if h < 1e-14 * max(1.0, abs(t)):
            status = STATUS_STEP_UNDERFLOW
            break
    if status == STATUS_OK and t < t_end:
        status = STATUS_MAX_STEPS
    # fill any unfilled samples (only on failure) with NaN
    for i in range(i_out, n_out):
        for r in range(d):
            samples[i, r] = np.nan
    return samples, lyap[:k], lyap_time, status, z[:d].copy(), steps


def make_flow_kernel(rhs, jac, dim):
    """Bind :func:`flow_kernel` to one system's compiled ``rhs`` and ``jac``.

    The returned function has the signature
    ``kernel(y0, p, t0, t_record, t_end, dt_out, k, renorm_dt, rtol, atol, max_steps)`` and returns
    ``(samples, lyap_sum, lyap_time, status, y_final, n_steps)``: ``samples`` is (n_out, dim) on the grid
    ``t_record + i*dt_out``; ``lyap_sum / lyap_time`` are the first ``k`` Lyapunov exponents
    accumulated after ``t_record``.
    """

    def kernel(y0, p, t0, t_record, t_end, dt_out, k, renorm_dt, rtol, atol, max_steps):
        return flow_kernel(
            rhs,
            jac,
            dim,
            y0,
            p,
            t0,
            t_record,
            t_end,
            dt_out,
            k,
            renorm_dt,
            rtol,
            atol,
            max_steps,
        )

    return kernel
