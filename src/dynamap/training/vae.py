"""fit_vae: train a VAE on delay windows; encode windows to recovered states."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..embedding.delay import DelayWindows
from ..models.vae import VAE, encode_means
from ._seeding import build, generators
from .config import VAEConfig

__all__ = ["fit_vae", "vae_loss", "evaluate_vae", "encode_windows"]


def vae_loss(out: dict[str, torch.Tensor], r: torch.Tensor, cfg: VAEConfig) -> dict[str, torch.Tensor]:
    """Named loss terms per window (means over the batch)."""
    rec = ((out["recon"] - r) ** 2).sum(-1).mean() / (2.0 * cfg.recon_sigma**2)
    kl_units = out["kl_units"].mean(0)
    total = rec + cfg.beta * kl_units.sum()
    return {"total": total, "recon": rec, "kl_units": kl_units}


def evaluate_vae(vae: VAE, r: torch.Tensor, eps: torch.Tensor, cfg: VAEConfig) -> dict:
    """Deterministic evaluation on a fixed subset with fixed noise: comparable across D_r."""
    with torch.no_grad():
        terms = vae_loss(vae(r, eps[:, : vae.latent_dim]), r, cfg)
    return {
        "total": float(terms["total"]),
        "recon": float(terms["recon"]),
        "kl_units": [float(v) for v in terms["kl_units"]],
    }


def fit_vae(
    windows: DelayWindows,
    latent_dim: int,
    cfg: VAEConfig,
    *,
    seed: int,
    steps: int,
    vae: VAE | None = None,
    progress: bool = False,
    desc: str = "VAE",
) -> tuple[VAE, list[float]]:
    """Train (or continue training) a VAE for ``steps`` optimiser steps; returns it and the loss curve
    (mean loss per block of 50 steps). Learning rate decays by cosine to 10% of ``cfg.lr``."""
    gen, rng = generators(seed, 100 + latent_dim)
    if vae is None:
        vae = build(VAE, windows.window, latent_dim, cfg.hidden, cfg.depth, cfg.activation, gen=gen)
    opt = torch.optim.Adam(vae.parameters(), lr=cfg.lr, fused=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1), eta_min=0.1 * cfg.lr)
    curve, acc = [], []
    n = len(windows)
    vae.train()
    for _ in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        idx = rng.integers(0, n, cfg.batch_size)
        r = torch.from_numpy(windows.gather(idx))
        eps = torch.randn(cfg.batch_size, latent_dim, generator=gen)
        terms = vae_loss(vae(r, eps), r, cfg)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        sched.step()
        acc.append(float(terms["total"].detach()))
        if len(acc) == 50:
            curve.append(float(np.mean(acc)))
            acc = []
    if acc:
        curve.append(float(np.mean(acc)))
    vae.eval()
    return vae, curve


def encode_windows(vae: VAE, windows: DelayWindows, batch: int = 8192) -> np.ndarray:
    """Encoder means u(n) for every window, (len(windows), D_r) float32
    (:func:`dynamap.models.vae.encode_means`)."""
    return encode_means(vae, windows, batch)
