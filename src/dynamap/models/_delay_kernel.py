"""The compiled step loop of the delay map (:class:`~dynamap.models.delay_map.DelayMap`): float32,
one column (one run) at a time, the feature loop vectorised.

A run's orbit depends on its own column only (no matrix kernel whose rounding depends on the batch
around it), so a value's orbit is the same alone, inside a batch, or in any part of a split batch.

tanh is the rational function x P(x^2) / Q(x^2) below, with x clamped to [-XC, XC] (the same form
as the fast float32 tanh of common vector libraries; the coefficients are our own weighted
least-squares fit of tanh on [0, XC], Loeb's iteration): its largest error in float32 over [-9, 9] is
3.3e-7 (numpy's float32 tanh: 6e-8), a few units in the last place of float32, and
``tests/test_delay_map.py`` checks it. numba's own tanh is a scalar library call, 14x slower.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["flow_sums", "qr_sums", "run", "tanh32"]

#: the float flags of the loop: contraction, reciprocal and reassociated reductions, but no
#: assumption of finite values (a NaN state must stay NaN: the callers mark diverged runs by it)
FLAGS = {"contract", "arcp", "reassoc", "nsz", "afn"}
#: the clamp of tanh's argument: tanh(XC) rounds to 1 in float32 (the rational gives 1 - 2.4e-7 there)
XC = np.float32(7.90531110763549805)
_P = np.array([9.9999999549160934e-01, 1.3459641276187892e-01, 3.5898837656195728e-03,
               2.2212513178113905e-05, 1.5718309635563163e-08], dtype=np.float32)
_Q = np.array([1.0, 4.6792970280872259e-01, 2.6233187398829537e-02, 3.4418501426751799e-04,
               8.7110635913533882e-07], dtype=np.float32)
P0, P1, P2, P3, P4 = (np.float32(v) for v in _P)
Q0, Q1, Q2, Q3, Q4 = (np.float32(v) for v in _Q)


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, inline="always")
def _tanh(x):
    x = XC if XC < x else x  # NaN stays NaN; written so, the clamps compile to min/max (3 % faster)
    x = -XC if x < -XC else x
    y = x * x
    return x * ((((P4 * y + P3) * y + P2) * y + P1) * y + P0) / ((((Q4 * y + Q3) * y + Q2) * y + Q1) * y + Q0)


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True)
def tanh32(x):
    """The loop's tanh of a float32 array (for tests and checks)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = _tanh(x.flat[i])
    return out


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, inline="always")
def _tap_sums(w, b, x, s):
    """``s`` = W x + b of the taps ``x`` (float32 or float64): each pre-activation b + w_0 x_0 + w_1
    x_1 + ... summed in passes of up to six taps over the features (one expression per feature, kept
    in a register: one load and one store of the features per pass rather than per tap)."""
    taps, width = x.size, b.size
    q = 0
    while q < taps:  # passes of up to 6 taps; the first starts from b
        m = min(6, taps - q)
        if m == 6:
            x0, x1, x2, x3, x4, x5 = x[q], x[q + 1], x[q + 2], x[q + 3], x[q + 4], x[q + 5]
            if q == 0:
                for i in range(width):
                    s[i] = (((((b[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2)
                           + w[q + 3, i] * x3) + w[q + 4, i] * x4) + w[q + 5, i] * x5
            else:
                for i in range(width):
                    s[i] = (((((s[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2)
                           + w[q + 3, i] * x3) + w[q + 4, i] * x4) + w[q + 5, i] * x5
        elif m == 5:
            x0, x1, x2, x3, x4 = x[q], x[q + 1], x[q + 2], x[q + 3], x[q + 4]
            if q == 0:
                for i in range(width):
                    s[i] = ((((b[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2)
                           + w[q + 3, i] * x3) + w[q + 4, i] * x4
            else:
                for i in range(width):
                    s[i] = ((((s[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2)
                           + w[q + 3, i] * x3) + w[q + 4, i] * x4
        elif m == 4:
            x0, x1, x2, x3 = x[q], x[q + 1], x[q + 2], x[q + 3]
            if q == 0:
                for i in range(width):
                    s[i] = ((((b[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2)
                            + w[q + 3, i] * x3)
            else:
                for i in range(width):
                    s[i] = ((((s[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2)
                            + w[q + 3, i] * x3)
        elif m == 3:
            x0, x1, x2 = x[q], x[q + 1], x[q + 2]
            if q == 0:
                for i in range(width):
                    s[i] = ((b[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2
            else:
                for i in range(width):
                    s[i] = ((s[i] + w[q, i] * x0) + w[q + 1, i] * x1) + w[q + 2, i] * x2
        elif m == 2:
            x0, x1 = x[q], x[q + 1]
            if q == 0:
                for i in range(width):
                    s[i] = (b[i] + w[q, i] * x0) + w[q + 1, i] * x1
            else:
                for i in range(width):
                    s[i] = (s[i] + w[q, i] * x0) + w[q + 1, i] * x1
        elif m == 1:
            x0 = x[q]
            if q == 0:
                for i in range(width):
                    s[i] = b[i] + w[q, i] * x0
            else:
                for i in range(width):
                    s[i] = s[i] + w[q, i] * x0
        q += m


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, nogil=True)
def run(z, out, idx, w, b, r, c, lo, hi, decay):
    """``out[k]`` = F(``out[k - 1]``) for k = 0 .. n - 1 from ``out[-1]`` := ``z``: states TRANSPOSED,
    ``z`` (dim, B), ``out`` (n, dim, B), all float32. ``idx`` (taps,) the tap rows, ``w`` (taps,
    width) and ``b`` (width,) the random features, ``r`` (2, 1 + taps + width) the readouts for 1 and
    for c, ``c`` (B,) the per-column controls; the newest sample is clamped into [lo, hi]. The last
    K = len(``decay``) rows are leaky averages of the newest sample, s <- a s + (1 - a) u_0 with a =
    ``decay[k]`` (float32), the rows before them the shift register. Releases the GIL: parts of a
    batch can run in threads.

    A feature's pre-activation b + w_0 x_0 + w_1 x_1 + ... is summed in passes of up to six taps over
    the features (each pass one expression per feature, kept in a register: one load and one store of
    the features per pass rather than per tap), 1.3-1.4x faster than a pass per tap with the same sums
    bit for bit (the compiler orders the terms of such a sum as the taps come, under these flags too;
    ``tests/test_delay_map.py`` checks it against a pass per tap).
    """
    n, dim, nb = out.shape
    n_slow = decay.size
    span = dim - n_slow
    taps, width = idx.size, b.size
    s = np.empty(width, np.float32)
    x = np.empty(taps, np.float32)
    f0, f1 = r[0, 1 + taps :].copy(), r[1, 1 + taps :].copy()  # contiguous: the reductions vectorise
    c_features = False  # a single-series map's c is a constant drive: no c readout of the features
    for i in range(width):
        c_features = c_features or f1[i] != 0
    prev = z
    for k in range(n):
        cur = out[k]
        for j in range(nb):
            a0 = r[0, 0]
            a1 = r[1, 0]
            for q in range(taps):
                xq = prev[idx[q], j]
                x[q] = xq
                a0 += r[0, 1 + q] * xq
                a1 += r[1, 1 + q] * xq
            _tap_sums(w, b, x, s)
            for i in range(width):
                s[i] = _tanh(s[i])
            if c_features:
                for i in range(width):
                    a0 += f0[i] * s[i]
                    a1 += f1[i] * s[i]
            else:  # adding f1[i] s[i] = 0 would leave a1 as it is (s is finite or NaN, and then so is a0)
                for i in range(width):
                    a0 += f0[i] * s[i]
            v = prev[0, j] + (a0 + c[j] * a1)
            if v > hi:
                v = hi
            if v < lo:
                v = lo
            cur[0, j] = v
        for q in range(1, span):
            for j in range(nb):
                cur[q, j] = prev[q - 1, j]
        for m in range(n_slow):
            a = decay[m]
            for j in range(nb):
                cur[span + m, j] = a * prev[span + m, j] + (np.float32(1.0) - a) * cur[0, j]
        prev = cur


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, inline="always")
def _step64(zz, row, idx, w, b, r, c, lo, hi, x, s, g, decay):
    """One step of the map in float64 (tanh by the math library) from the state ``zz`` (dim,), in
    place, and the new sample's row of its Jacobian in ``row`` (dim,): 1 at u_0 plus d f / d x_q at
    the taps (tanh' = 1 - tanh^2), all zero where the new sample is clamped (as torch's clamp); the
    last len(``decay``) rows are leaky averages (:func:`run`). ``w``, ``b``, ``r``, ``decay`` in
    float64; ``x``, ``s``, ``g`` scratch (taps,), (width,), (width,)."""
    dim, taps, width = zz.size, idx.size, b.size
    n_slow = decay.size
    span = dim - n_slow
    a0 = r[0, 0]
    a1 = r[1, 0]
    for t in range(taps):
        xt = zz[idx[t]]
        x[t] = xt
        a0 += r[0, 1 + t] * xt
        a1 += r[1, 1 + t] * xt
    _tap_sums(w, b, x, s)
    for i in range(width):
        s[i] = np.tanh(s[i])
    for i in range(width):
        a0 += r[0, 1 + taps + i] * s[i]
        a1 += r[1, 1 + taps + i] * s[i]
    u = zz[0] + (a0 + c * a1)
    inside = u >= lo and u <= hi
    for p in range(dim):
        row[p] = 0.0
    if inside:
        for i in range(width):
            g[i] = (r[0, 1 + taps + i] + c * r[1, 1 + taps + i]) * (1.0 - s[i] * s[i])
        row[0] = 1.0
        for t in range(taps):
            d = r[0, 1 + t] + c * r[1, 1 + t]
            for i in range(width):
                d += g[i] * w[t, i]
            row[idx[t]] += d
    for p in range(span - 1, 0, -1):
        zz[p] = zz[p - 1]
    zz[0] = min(max(u, lo), hi)
    for m in range(n_slow):
        zz[span + m] = decay[m] * zz[span + m] + (1.0 - decay[m]) * zz[0]


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, inline="always")
def _tangent_step(qq, row, new0, vh, vn2, decay):
    """The tangent basis ``qq`` (dim, k) one step on, in place: the new sample's Jacobian row ``row``
    applied, the shift register moved and the leaky averages (the last len(``decay``) rows, float64)
    updated (``new0`` (k,) scratch), then each column orthogonal to
    ``vh`` (skipped where ``vn2`` = |vh|^2 is 0) and to the columns before it (modified Gram-Schmidt,
    twice for orthogonality to round-off) and normalised; returns nothing, the norms in ``new0``."""
    dim, k = qq.shape
    n_slow = decay.size
    span = dim - n_slow
    for m in range(k):
        acc = 0.0
        for p in range(dim):
            acc += row[p] * qq[p, m]
        new0[m] = acc
    for p in range(span - 1, 0, -1):
        for m in range(k):
            qq[p, m] = qq[p - 1, m]
    for m in range(k):
        qq[0, m] = new0[m]
    for j in range(n_slow):
        for m in range(k):
            qq[span + j, m] = decay[j] * qq[span + j, m] + (1.0 - decay[j]) * new0[m]
    for m in range(k):
        for _ in range(2):
            if vn2 > 0.0:
                dot = 0.0
                for p in range(dim):
                    dot += vh[p] * qq[p, m]
                dot /= vn2
                for p in range(dim):
                    qq[p, m] -= dot * vh[p]
            for j in range(m):
                dot = 0.0
                for p in range(dim):
                    dot += qq[p, j] * qq[p, m]
                for p in range(dim):
                    qq[p, m] -= dot * qq[p, j]
        nrm = 0.0
        for p in range(dim):
            nrm += qq[p, m] * qq[p, m]
        nrm = np.sqrt(nrm)
        new0[m] = nrm
        if nrm > 0.0:
            for p in range(dim):
                qq[p, m] /= nrm


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, inline="always")
def _float64_args(idx, w, b, r, c, lo, hi, decay):
    """:func:`run`'s float32 arguments as the float64 loops use them (``w``, ``b``, ``r``, ``lo``,
    ``hi``, ``c``, ``decay``), and :func:`_step64`'s scratch ``x``, ``s``, ``g``."""
    taps, width = idx.size, b.size
    return (w.astype(np.float64), b.astype(np.float64), r.astype(np.float64), np.float64(lo), np.float64(hi),
            np.float64(c), decay.astype(np.float64), np.empty(taps), np.empty(width), np.empty(width))


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, nogil=True)
def qr_sums(z, q, idx, w, b, r, c, lo, hi, decay, n_transient, n):
    """The Lyapunov spectrum's sums of one run: ``n_transient + n`` steps of the state ``z`` (dim,)
    at control ``c``, the map in float64 (as torch's float64 path of the module; ``w``, ``b``, ``r``,
    ``lo``, ``hi`` are :func:`run`'s float32 ones), and of the orthonormal tangent basis ``q`` (dim,
    k, float64), J q re-orthonormalised every step (modified Gram-Schmidt, twice); returns the sums
    over the last ``n`` steps of the log stretch of each basis vector (k,), at round-off level (log
    1e-16 or less) where the Jacobian is singular (a clamped sample). With k = 1 the sums of the
    largest exponent."""
    dim, k = q.shape
    w64, b64, r64, lo64, hi64, c64, d64, x, s, g = _float64_args(idx, w, b, r, c, lo, hi, decay)
    row, new0 = np.empty(dim), np.empty(k)
    zz, qq = z.astype(np.float64), q.copy()
    out = np.zeros(k)
    for step in range(n_transient + n):
        _step64(zz, row, idx, w64, b64, r64, c64, lo64, hi64, x, s, g, d64)
        _tangent_step(qq, row, new0, row, 0.0, d64)
        if step >= n_transient:
            for m in range(k):
                out[m] += np.log(new0[m])
    return out


@numba.njit(fastmath=FLAGS, error_model="numpy", cache=True, nogil=True)
def flow_sums(z, q, idx, w, b, r, c, lo, hi, decay, n_transient, n, still):
    """The exponents of one run in a flow's terms: :func:`qr_sums` with the tangent basis ``q`` (dim,
    k) kept orthogonal to the direction of motion at each state, the central difference v(m) =
    z(m+1) - z(m-1) (the orbit's tangent to second order; exactly on a uniformly rotating circle),
    i.e. the tangent space divided by it, and the growth of the motion itself. Returns (k + 2,): the
    sums of log |v| over the first and over the last quarter of the last ``n`` steps (their means
    differ by 0 on a bounded orbit that keeps moving, a flow's zero exponent, and by the contraction
    onto a fixed point), then the k transverse sums. Where |v| is below ``still`` the orbit is at
    rest and the basis is not projected (the sums are :func:`qr_sums`'). One more step than
    ``n_transient`` is not counted: the first projection of ``q`` onto the complement of the motion."""
    dim, k = q.shape
    w64, b64, r64, lo64, hi64, c64, d64, x, s, g = _float64_args(idx, w, b, r, c, lo, hi, decay)
    row, rowp, new0, vh = np.empty(dim), np.empty(dim), np.empty(k), np.empty(dim)
    zz, qq = z.astype(np.float64), q.copy()
    zprev, zcur = zz.copy(), np.empty(dim)
    _step64(zz, rowp, idx, w64, b64, r64, c64, lo64, hi64, x, s, g, d64)  # z(1) and J(z(0))
    out = np.zeros(k + 2)
    quarter = max(1, n // 4)
    n_transient += 1
    for step in range(n_transient + n):
        for p in range(dim):
            zcur[p] = zz[p]
        _step64(zz, row, idx, w64, b64, r64, c64, lo64, hi64, x, s, g, d64)  # z(m+1) and J(z(m))
        vn = 0.0
        for p in range(dim):  # the direction of motion at z(m)
            vh[p] = zz[p] - zprev[p]
            vn += vh[p] * vh[p]
        vn = np.sqrt(vn)
        if n_transient <= step < n_transient + quarter:
            out[0] += np.log(max(vn, 1e-300))
        if step >= n_transient + n - quarter:
            out[1] += np.log(max(vn, 1e-300))
        # the tangents from z(m-1) to z(m), orthogonal to the motion there unless it is at rest
        _tangent_step(qq, rowp, new0, vh, vn * vn if vn > still else 0.0, d64)
        if step >= n_transient:
            for m in range(k):
                out[2 + m] += np.log(new0[m])
        for p in range(dim):
            zprev[p] = zcur[p]
            rowp[p] = row[p]
    return out
