"""The tangent dynamics of a map through its Jacobian: Lyapunov sums by QR re-orthonormalisation.

Works on anything with batched ``step(x, p)`` and ``jacobian(x, p)`` (the
:class:`~dynamap._core.protocols.MapLike` minimum): built-in maps, learned maps in float64, test maps.
"""

from __future__ import annotations

import numpy as np

from .._core.errors import InputError

__all__ = ["JACOBIAN_BLOCK", "lyapunov_map", "random_basis", "tangent_sums"]

#: steps of :func:`tangent_sums` whose Jacobians are computed in one call
JACOBIAN_BLOCK = 1024


def random_basis(d: int, seed: int = 0) -> np.ndarray:
    """A random orthonormal basis (d, d) from ``seed`` (a coordinate basis could sit in an invariant
    subspace and miss the leading exponents when fewer than d are computed)."""
    q0, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q0


def tangent_sums(m, x0: np.ndarray, p: np.ndarray, q: np.ndarray, n_transient: int, n_steps: int,
                 renorm_every: int = 1) -> np.ndarray:
    """Each row's sums (B, k) of the log stretches of its tangent basis ``q`` (B, d, k), propagated by
    the Jacobian and re-orthonormalised by QR every ``renorm_every`` steps, over the last ``n_steps``
    of ``n_transient + n_steps`` steps from ``x0`` (B, d) at ``p`` (B, n_p); NaN rows whose orbit
    diverged."""
    x = np.array(x0, dtype=np.float64, ndmin=2)
    p = np.array(p, dtype=np.float64, ndmin=2)
    b, d = x.shape
    q = np.array(q, dtype=np.float64)
    start = q.copy()
    acc = np.zeros((b, q.shape[2]))
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
                q[bads[j]] = start[bads[j]]
    acc[~alive] = np.nan
    return acc


def lyapunov_map(m, x0: np.ndarray, p: np.ndarray, *, n_steps: int = 100_000, n_transient: int = 1_000,
                 k: int | None = None, renorm_every: int = 1, seed: int = 0) -> np.ndarray:
    """Lyapunov exponents per step of a map, batched: ``x0`` (B, d), ``p`` (B, n_p) -> (B, k), largest
    first: :func:`tangent_sums` from the first ``k`` vectors of :func:`random_basis` (``seed``)."""
    x = np.array(x0, dtype=np.float64, ndmin=2)
    b, d = x.shape
    k = d if k is None else int(k)
    if not 1 <= k <= d:
        raise InputError(f"k must be in 1..{d}, got {k}")
    if n_steps < 1:
        raise InputError(f"n_steps must be >= 1, got {n_steps}")
    q = np.tile(random_basis(d, seed)[:, :k], (b, 1, 1))
    out = tangent_sums(m, x, p, q, n_transient, n_steps, renorm_every) / n_steps
    return -np.sort(-out, axis=1)
