"""Training: the encoders (the VAE with its latent-dimension search), the map families (ridge readouts,
rollout losses) and the free-run selection they share."""

from .config import DelayConfig, LinearConfig, MLPConfig, RidgeConfig, SelectionConfig, VAEConfig
from .encoders import fit_encoder
from .freerun import TrainStats, score, train_stats
from .latent_dim import choose_latent_dim, search_latent_dim
from .map import fit_map
from .selection import iterate
from .vae import encode_windows, evaluate_vae, fit_vae

__all__ = [
    "DelayConfig",
    "LinearConfig",
    "MLPConfig",
    "RidgeConfig",
    "SelectionConfig",
    "TrainStats",
    "VAEConfig",
    "choose_latent_dim",
    "encode_windows",
    "evaluate_vae",
    "fit_encoder",
    "fit_map",
    "fit_vae",
    "iterate",
    "score",
    "search_latent_dim",
    "train_stats",
]
