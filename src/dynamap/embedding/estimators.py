"""Helpers to choose a delay lag (first minimum of mutual information) and an embedding dimension
(false nearest neighbours, Kennel et al. 1992; Cao 1997 E1 statistic).

These are diagnostics: the pipeline itself uses lag 1 and a window length from
:mod:`dynamap.embedding.rules`, as in the paper; the helpers let a user check that the window spans
enough of the dynamics.
"""

from __future__ import annotations

import numpy as np

from .._core.errors import InputError

__all__ = ["mutual_information", "mi_lag", "false_nearest_neighbours", "fnn_dimension", "cao_e1"]


def _embed(x: np.ndarray, dim: int, lag: int) -> np.ndarray:
    n = x.shape[0] - (dim - 1) * lag
    if n < 10:
        raise InputError(f"series too short for dim={dim}, lag={lag}: {x.shape[0]} samples")
    return np.stack([x[i * lag : i * lag + n] for i in range(dim)], axis=1)


def mutual_information(x: np.ndarray, max_lag: int, bins: int = 32) -> np.ndarray:
    """Histogram estimate of I(x(t); x(t+k)) for k = 0..max_lag (nats)."""
    x = np.asarray(x, dtype=np.float64)
    if max_lag < 1 or max_lag >= x.shape[0] - 1:
        raise InputError(f"max_lag must be in [1, {x.shape[0] - 2}], got {max_lag}")
    edges = np.quantile(x, np.linspace(0, 1, bins + 1))
    edges = np.unique(edges)
    q = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    nb = len(edges) - 1
    out = np.empty(max_lag + 1)
    for k in range(max_lag + 1):
        a, b = q[: x.shape[0] - k], q[k:]
        joint = np.bincount(a * nb + b, minlength=nb * nb).reshape(nb, nb).astype(np.float64)
        joint /= joint.sum()
        pa, pb = joint.sum(1), joint.sum(0)
        nz = joint > 0
        out[k] = float(np.sum(joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])))
    return out


def mi_lag(x: np.ndarray, max_lag: int, bins: int = 32) -> int:
    """First local minimum of the mutual information (or its global minimum when none)."""
    mi = mutual_information(x, max_lag, bins)
    for k in range(1, max_lag):
        if mi[k] < mi[k - 1] and mi[k] <= mi[k + 1]:
            return k
    return int(np.argmin(mi[1:]) + 1)


def false_nearest_neighbours(x: np.ndarray, max_dim: int, lag: int = 1, rtol: float = 15.0) -> np.ndarray:
    """Fraction of false nearest neighbours for dimensions 1..max_dim (Kennel's distance criterion)."""
    from scipy.spatial import cKDTree  # here, not at import (0.2 s)

    x = np.asarray(x, dtype=np.float64)
    out = np.empty(max_dim)
    for d in range(1, max_dim + 1):
        emb = _embed(x, d + 1, lag)
        low = emb[:, :d]
        dist, idx = cKDTree(low).query(low, k=2)
        nn, r = idx[:, 1], np.maximum(dist[:, 1], 1e-12)
        extra = np.abs(emb[:, d] - emb[nn, d])
        out[d - 1] = float(np.mean(extra / r > rtol))
    return out


def fnn_dimension(x: np.ndarray, max_dim: int = 10, lag: int = 1, fraction: float = 0.01) -> int:
    """Smallest dimension whose false-neighbour fraction is below ``fraction`` (else ``max_dim``)."""
    f = false_nearest_neighbours(x, max_dim, lag)
    below = np.flatnonzero(f < fraction)
    return int(below[0] + 1) if below.size else max_dim


def cao_e1(x: np.ndarray, max_dim: int, lag: int = 1) -> np.ndarray:
    """Cao's E1(d) = E(d+1)/E(d) for d = 1..max_dim; it saturates near 1 at the embedding dimension."""
    from scipy.spatial import cKDTree

    x = np.asarray(x, dtype=np.float64)
    e = np.empty(max_dim + 1)
    for d in range(1, max_dim + 2):
        emb = _embed(x, d + 1, lag)
        low = emb[:, :d]
        _, idx = cKDTree(low).query(low, k=2, p=np.inf)
        nn = idx[:, 1]
        num = np.max(np.abs(emb - emb[nn]), axis=1)
        den = np.maximum(np.max(np.abs(low - low[nn]), axis=1), 1e-12)
        e[d - 1] = float(np.mean(num / den))
    return e[1:] / e[:-1]
