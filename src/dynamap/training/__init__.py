"""Training: the VAE with latent-dimension search, the parametric map with rollout losses."""

from .config import MapConfig, VAEConfig
from .freerun import TrainStats, score, train_stats
from .latent_dim import choose_latent_dim, search_latent_dim
from .map import fit_map, iterate
from .vae import encode_windows, evaluate_vae, fit_vae

__all__ = [
    "MapConfig",
    "TrainStats",
    "VAEConfig",
    "choose_latent_dim",
    "encode_windows",
    "evaluate_vae",
    "fit_map",
    "fit_vae",
    "iterate",
    "score",
    "search_latent_dim",
    "train_stats",
]
