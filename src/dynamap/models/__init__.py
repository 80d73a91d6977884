"""Torch modules only (no training loops, no file I/O): the VAE, the parametric map and the delay map."""

from .delay_map import DelayMap, tap_coordinates
from .map import ParametricMap
from .vae import VAE, mlp

__all__ = ["DelayMap", "ParametricMap", "VAE", "mlp", "tap_coordinates"]
