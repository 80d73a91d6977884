"""Template of the compiled flow kernel (never imported itself).

dynamap copies this file once per system into a cache folder, with the BINDING block replaced by an
import of that system's ``rhs`` and ``jac`` and its dimension, so numba can cache the machine code on
disk (a kernel that received the system's functions as arguments could not be cached). See
:func:`dynamap.systems._integrate.make_flow_kernel`.
"""

import numpy as np
from numba import njit

from dynamap.systems._integrate import (  # noqa: F401
    _A21,
    _A31,
    _A32,
    _A41,
    _A42,
    _A43,
    _A51,
    _A52,
    _A53,
    _A54,
    _A61,
    _A62,
    _A63,
    _A64,
    _A65,
    _B1,
    _B3,
    _B4,
    _B5,
    _B6,
    _C2,
    _C3,
    _C4,
    _C5,
    _E1,
    _E3,
    _E4,
    _E5,
    _E6,
    _E7,
    STATUS_MAX_STEPS,
    STATUS_NONFINITE,
    STATUS_OK,
    STATUS_STEP_UNDERFLOW,
)  # fmt: skip

# BINDING-START
RHS = JAC = None  # replaced: the system's rhs(t, y, p, out) and jac(t, y, p, out)
DIM = 0  # replaced: the state dimension
# BINDING-END


@njit(cache=True, nogil=True, error_model="numpy")
def _aug_rhs(t, z, p, k, jbuf, out):
    d = DIM
    RHS(t, z[:d], p, out[:d])
    if k > 0:
        JAC(t, z[:d], p, jbuf)
        for j in range(k):
            off = d + j * d
            for r in range(d):
                s = 0.0
                for c in range(d):
                    s += jbuf[r, c] * z[off + c]
                out[off + r] = s


@njit(cache=True, nogil=True, error_model="numpy")
def _renormalise(z, k, acc, accumulate):
    d = DIM
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


@njit(cache=True, nogil=True, error_model="numpy")
def flow_kernel( y0, p, t0, t_record, t_end, dt_out, k, renorm_dt, rtol, atol, max_steps
):
    d = DIM
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
    _aug_rhs(t, z, p, k, jbuf, k1)
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
        _aug_rhs(t + _C2 * h_try, ztmp, p, k, jbuf, k2)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (_A31 * k1[i] + _A32 * k2[i])
        _aug_rhs(t + _C3 * h_try, ztmp, p, k, jbuf, k3)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (_A41 * k1[i] + _A42 * k2[i] + _A43 * k3[i])
        _aug_rhs(t + _C4 * h_try, ztmp, p, k, jbuf, k4)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (
                _A51 * k1[i] + _A52 * k2[i] + _A53 * k3[i] + _A54 * k4[i]
            )
        _aug_rhs(t + _C5 * h_try, ztmp, p, k, jbuf, k5)
        for i in range(n):
            ztmp[i] = z[i] + h_try * (
                _A61 * k1[i] + _A62 * k2[i] + _A63 * k3[i] + _A64 * k4[i] + _A65 * k5[i]
            )
        _aug_rhs(t + h_try, ztmp, p, k, jbuf, k6)
        for i in range(n):
            znew[i] = z[i] + h_try * (
                _B1 * k1[i] + _B3 * k3[i] + _B4 * k4[i] + _B5 * k5[i] + _B6 * k6[i]
            )
        _aug_rhs(t + h_try, znew, p, k, jbuf, k7)
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
                    _renormalise(z, k, lyap, True)
                    lyap_time += renorm_dt
                else:
                    _renormalise(z, k, lyap, False)
                next_renorm = next_renorm + renorm_dt
                _aug_rhs(t, z, p, k, jbuf, k1)
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
