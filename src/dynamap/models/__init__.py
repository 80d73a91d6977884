"""Torch modules and numerics only (no training loops, no file I/O): the encoders (delay taps, principal
components, the VAE) and the map families (the delay and feature maps of the ridge family, the MLP map)."""

from .base import StateMap
from .delay_map import DelayMap
from .encoders import DelayEncoder, Encoder, LinearEncoder, VAEEncoder
from .feature_map import FeatureMap
from .map import ParametricMap
from .vae import VAE, mlp

__all__ = ["DelayEncoder", "DelayMap", "Encoder", "FeatureMap", "LinearEncoder", "ParametricMap", "StateMap",
           "VAE", "VAEEncoder", "mlp"]
