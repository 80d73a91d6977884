"""Torch modules only (no training loops, no file I/O): the VAE and the parametric map."""

from .map import ParametricMap
from .vae import VAE, mlp

__all__ = ["ParametricMap", "VAE", "mlp"]
