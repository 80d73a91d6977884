"""fit_encoder: the encoder of a fit from the delay windows of the standardised series
(:mod:`dynamap.models.encoders`): the delay taps (nothing to learn), the principal components of the
window (one eigendecomposition), or the paper's VAE with its latent-dimension search."""

from __future__ import annotations

import numpy as np

from ..embedding.delay import DelayWindows
from ..models.encoders import ENCODERS, DelayEncoder, Encoder, LinearEncoder, VAEEncoder
from .latent_dim import search_latent_dim
from .vae import encode_windows

__all__ = ["fit_encoder"]

#: windows gathered at a time for the covariance of the linear encoder
COV_BATCH = 65536


def fit_encoder(family: str, windows: DelayWindows, cfg, *, seed: int, x_mean: float, x_std: float,
                span: int, progress: bool = False, n_jobs: int = 1) -> tuple[Encoder, dict]:
    """The encoder of ``family`` fitted to ``windows`` with the settings of the FitConfig ``cfg``
    (``span``: the delay encoder's state, the newest samples a delay map reads), and its evidence
    (JSON-able: how its dimension was chosen)."""
    if family == "delay":
        return (DelayEncoder(windows.window, span, x_mean, x_std),
                {"state": "delay", "taps": cfg.delay_taps, "lag": cfg.delay_lag, "chosen": span})
    if family == "linear":
        return _fit_linear(windows, cfg.linear.dim, x_mean, x_std)
    if family == "vae":
        d, vae, evidence = search_latent_dim(windows, cfg.vae, seed=seed, progress=progress, n_jobs=n_jobs)
        mu = encode_windows(vae, windows)
        z_mean = mu.mean(0).astype(np.float64)
        z_std = np.maximum(mu.std(0), 1e-6).astype(np.float64)
        return VAEEncoder(vae, z_mean, z_std, x_mean, x_std), evidence
    raise ValueError(f"unknown encoder family {family!r}; valid: {sorted(ENCODERS)}")


def _fit_linear(windows: DelayWindows, dim: int, x_mean: float, x_std: float) -> tuple[LinearEncoder, dict]:
    """Principal components of the windows (float64 covariance over all of them)."""
    w, n = windows.window, len(windows)
    if dim > w:
        raise ValueError(f"the linear encoder's dimension {dim} exceeds the delay window ({w} samples)")
    total, outer = np.zeros(w), np.zeros((w, w))
    for s in range(0, n, COV_BATCH):
        r = windows.gather(np.arange(s, min(s + COV_BATCH, n))).astype(np.float64)
        total += r.sum(0)
        outer += r.T @ r
    mean = total / n
    cov = outer / n - np.outer(mean, mean)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vals, vecs = np.maximum(vals[order], 0.0), vecs[:, order]
    vecs *= np.where(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(w)] < 0, -1.0, 1.0)  # a fixed sign
    scale = np.sqrt(np.maximum(vals[:dim], 1e-12))
    explained = np.cumsum(vals) / max(float(vals.sum()), 1e-300)
    evidence = {"state": "linear", "chosen": int(dim), "variances": [float(v) for v in vals],
                "explained": float(explained[dim - 1])}
    return LinearEncoder(w, dim, x_mean, x_std, mean, vecs[:, :dim], scale), evidence
