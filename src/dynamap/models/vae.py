"""Variational autoencoder on delay windows (Kuptsov & Stankevich 2025, step 3).

The encoder maps a window R(n) to the mean and log-variance of a diagonal Gaussian over the latent
space; its means are the recovered states u(n). The decoder maps a latent vector back to the window.
Widths/depth/activation come from :class:`dynamap.training.config.VAEConfig`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["VAE", "decode_newest", "encode_means", "mlp"]

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


def encode_means(vae: VAE, windows, batch: int = 8192) -> np.ndarray:
    """Encoder means u(n) for every window of a :class:`~dynamap.embedding.DelayWindows`,
    (len(windows), D_r) float32, ``batch`` windows at a time."""
    out = np.empty((len(windows), vae.latent_dim), dtype=np.float32)
    with torch.no_grad():
        for s in range(0, len(windows), batch):
            idx = np.arange(s, min(s + batch, len(windows)))
            mu, _ = vae.encode(torch.from_numpy(windows.gather(idx)))
            out[idx] = mu.numpy()
    return out


#: the decoder computes at least this many rows at once, padding with zeros: torch's CPU matrix
#: products use other kernels (other rounding) for fewer rows, so with the padding a state decodes to
#: the same value bit for bit whatever the batch around it (with MKL: 1, 2 and 7 rows rounded
#: otherwise than the same rows inside a long batch; 13 and more did not)
DECODE_MIN_ROWS = 16


def decode_newest(vae, z: torch.Tensor, z_mean, z_std, x_mean: float, x_std: float,
                  chunk: int = 8192) -> torch.Tensor:
    """Standardised states (N, d) -> observable (N,) in data units (newest window entry), float32.

    Only the first output of the decoder's last layer is computed. The state standardisation is
    folded into the first layer (in float64, rounded once) and the rows go through in cache-sized
    chunks with preallocated buffers and in-place activations: 4x faster than whole-array layers
    (equal up to float32 round-off)."""
    dec = vae.decoder
    lins, acts = list(dec)[0::2], list(dec)[1::2]
    z = z.detach().to(torch.float32)
    n = z.shape[0]
    with torch.no_grad():
        w0 = lins[0].weight.detach().to(torch.float64)
        zs = torch.as_tensor(z_std, dtype=torch.float64)
        zm = torch.as_tensor(z_mean, dtype=torch.float64)
        mats = [(w0 * zs).T.to(torch.float32).contiguous()]
        biases = [(lins[0].bias.detach().to(torch.float64) + w0 @ zm).to(torch.float32)]
        for lin in lins[1:-1]:
            mats.append(lin.weight.detach().T.contiguous())
            biases.append(lin.bias.detach())
        inplace = {torch.nn.SiLU: lambda t: torch.nn.functional.silu(t, inplace=True),
                   torch.nn.Tanh: torch.tanh_}
        fns = [inplace.get(type(a), a) for a in acts]
        w_last, b_last = lins[-1].weight.detach()[0], float(lins[-1].bias.detach()[0])
        bufs = [torch.empty(max(min(chunk, n), DECODE_MIN_ROWS), w.shape[1]) for w in mats]
        out = torch.empty(n)
        last = torch.empty(max(min(chunk, n), DECODE_MIN_ROWS))
        for s in range(0, n, chunk):
            h = z[s : s + chunk]
            rows = h.shape[0]
            if rows < DECODE_MIN_ROWS:  # the matrix kernels of very short operands round differently
                h = torch.cat([h, h.new_zeros(DECODE_MIN_ROWS - rows, h.shape[1])])
            for w, b, fn, buf in zip(mats, biases, fns, bufs):
                h = fn(torch.addmm(b, h, w, out=buf[: h.shape[0]]))
            torch.mv(h, w_last, out=last[: h.shape[0]])
            out[s : s + rows] = last[:rows]
        return out.mul_(x_std).add_(b_last * x_std + x_mean)
