"""fit_encoder: the encoder of a fit from the delay windows of the standardised series
(:mod:`dynamap.models.encoders`): the delay taps (nothing to learn), the principal components of the
window (one eigendecomposition), or the paper's VAE with its latent-dimension search."""

from __future__ import annotations

import numpy as np

from .._core.errors import InputError
from ..embedding.delay import DelayWindows
from ..models.encoders import DelayEncoder, Encoder, LinearEncoder, VAEEncoder
from ..models.vae import encode_means
from .latent_dim import search_latent_dim

__all__ = ["ENCODER_FITS", "fit_encoder"]

#: windows gathered at a time for the covariance of the linear encoder
COV_BATCH = 65536


def fit_encoder(family: str, windows: DelayWindows, cfg, *, seed: int, x_mean: float, x_std: float,
                progress: bool = False, n_jobs: int = 1, sampling=None) -> tuple[Encoder, dict, np.ndarray]:
    """The encoder of ``family`` (:data:`ENCODER_FITS`) fitted to ``windows`` with the settings of the
    FitConfig ``cfg``, its evidence (JSON-able: how its dimension was chosen) and the windows' states
    (``encoder.encode(windows)``, computed once); ``sampling``: the data rules' choice
    (:class:`~dynamap.embedding.rules.SamplingChoice`; the delay encoder's leaky averages need it)."""
    if family not in ENCODER_FITS:
        raise ValueError(f"unknown encoder family {family!r}; valid: {sorted(ENCODER_FITS)}")
    return ENCODER_FITS[family](windows, cfg, seed=seed, x_mean=x_mean, x_std=x_std, progress=progress,
                                n_jobs=n_jobs, sampling=sampling)


def _fit_delay(windows: DelayWindows, cfg, *, x_mean: float, x_std: float, sampling=None, **_
               ) -> tuple[DelayEncoder, dict, np.ndarray]:
    """The newest ``cfg.delay.span`` samples (the window must hold them), then the leaky averages of
    ``cfg.delay.slow`` (their time constants in the fast time scale of ``sampling``)."""
    d = cfg.delay
    if d.span > windows.window:
        raise InputError(f"the delay map's state spans {d.span} samples (delay.taps {d.taps}, delay.lag {d.lag}), "
                         f"more than the delay window of {windows.window}; use fewer taps, a shorter lag or a "
                         "longer window")
    if d.slow and sampling is None:
        raise ValueError("the delay encoder's leaky averages (delay.slow) need the sampling choice")
    decay = d.decay(sampling.dt_map, sampling.fast_time) if d.slow else ()
    enc = DelayEncoder(windows.window, d.span, x_mean, x_std, decay)
    evidence = {"state": "delay", "taps": d.taps, "lag": d.lag, "chosen": enc.dim}
    if d.slow:
        evidence["slow"] = {"time_constants": [float(t) * float(sampling.fast_time) for t in d.slow],
                            "decay": list(decay)}
    return enc, evidence, enc.encode(windows)


def _fit_vae(windows: DelayWindows, cfg, *, seed: int, x_mean: float, x_std: float, progress: bool,
             n_jobs: int, **_) -> tuple[VAEEncoder, dict, np.ndarray]:
    """The VAE with its latent-dimension search; its means standardised over the training windows."""
    d, vae, evidence = search_latent_dim(windows, cfg.vae, seed=seed, progress=progress, n_jobs=n_jobs)
    mu = encode_means(vae, windows)
    z_mean = mu.mean(0).astype(np.float64)
    z_std = np.maximum(mu.std(0), 1e-6).astype(np.float64)
    enc = VAEEncoder(vae, z_mean, z_std, x_mean, x_std)
    return enc, evidence, enc.standardise(mu)


def _fit_linear(windows: DelayWindows, cfg, *, x_mean: float, x_std: float, **_
                ) -> tuple[LinearEncoder, dict, np.ndarray]:
    """Principal components of the windows (float64 covariance over all of them)."""
    dim = cfg.linear.dim
    w, n = windows.window, len(windows)
    if dim > w:
        raise InputError(f"linear.dim {dim} exceeds the delay window ({w} samples); use a smaller linear.dim "
                         "or a longer window (window_fast, min_window)")
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
    enc = LinearEncoder(w, dim, x_mean, x_std, mean, vecs[:, :dim], scale)
    return enc, evidence, enc.encode(windows)


#: encoder family -> its fit
ENCODER_FITS = {"delay": _fit_delay, "linear": _fit_linear, "vae": _fit_vae}
