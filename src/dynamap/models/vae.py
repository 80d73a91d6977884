"""Variational autoencoder on delay windows (Kuptsov & Stankevich 2025, step 3).

The encoder maps a window R(n) to the mean and log-variance of a diagonal Gaussian over the latent
space; its means are the recovered states u(n). The decoder maps a latent vector back to the window.
Widths/depth/activation come from :class:`dynamap.training.config.VAEConfig`.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["VAE", "mlp"]

_ACT = {"tanh": nn.Tanh, "silu": nn.SiLU, "gelu": nn.GELU, "elu": nn.ELU}


def mlp(n_in: int, n_out: int, hidden: int, depth: int, activation: str) -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden`` with ``activation``; linear output."""
    layers: list[nn.Module] = []
    d = n_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), _ACT[activation]()]
        d = hidden
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Gaussian VAE: window (B, D_e) -> latent (B, D_r) -> window."""

    def __init__(self, window: int, latent_dim: int, hidden: int, depth: int, activation: str):
        super().__init__()
        self.window = window
        self.latent_dim = latent_dim
        self.encoder = mlp(window, 2 * latent_dim, hidden, depth, activation)
        self.decoder = mlp(latent_dim, window, hidden, depth, activation)

    def encode(self, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(r)
        mu, logvar = h.chunk(2, dim=-1)
        return mu, logvar.clamp(-20.0, 10.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, r: torch.Tensor, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named outputs; ``eps`` ~ N(0, 1) of shape (B, D_r) is supplied by the caller (explicit RNG)."""
        mu, logvar = self.encode(r)
        z = mu + torch.exp(0.5 * logvar) * eps
        recon = self.decode(z)
        kl_units = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)  # (B, D_r)
        return {"mu": mu, "logvar": logvar, "recon": recon, "kl_units": kl_units}
