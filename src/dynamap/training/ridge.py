"""The ridge trainer of the random-feature family (:class:`~dynamap.models.delay_map.DelayMap` on delay
states, :class:`~dynamap.models.feature_map.FeatureMap` on any other encoder's): closed-form
readouts (:mod:`._ridge`), one per pair of tap noise and penalty, each a checkpoint of the free-run
selection (:mod:`.selection`); in tagged mode each also fitted without each interior tag, for the
cross-tag validation of the selected one."""

from __future__ import annotations

import torch

from ..models.delay_map import DelayMap, RandomFeatures
from ..models.feature_map import FeatureMap
from ._ridge import ridge_readout_sets
from .config import RidgeConfig
from .selection import CrossTagScorer, interior_tags

__all__ = ["new_ridge_map", "train_ridge", "validate_ridge"]


def new_ridge_map(dim: int, cfg: RidgeConfig, gen: torch.Generator, delay: tuple[int, int] | None,
                  decay: tuple = ()) -> RandomFeatures:
    """The family's untrained map with its random features drawn from ``gen``: on delay states
    (``delay`` = (taps, lag)) the shift-register delay map with the leaky averages of ``decay``,
    otherwise a map of the whole state."""
    fmap = DelayMap(*delay, cfg.features, decay) if delay is not None else FeatureMap(dim, cfg.features)
    fmap.init_features(gen)
    return fmap


def train_ridge(job) -> int:
    """The readouts of ``job.fmap`` (a :class:`~dynamap.training.map.MapJob`) as checkpoints; the
    readouts without each interior tag are kept on the job for :func:`validate_ridge`."""
    cfg, hist = job.cfg, job.hist
    job.held = [] if job.single else interior_tags(job.c_norm)
    hist["ridge"], job.without = [], {}
    for noise in cfg.noise:
        sets = ridge_readout_sets(job.fmap, job.latents, job.c_norm, noise, cfg.ridge, job.rng,
                                  drive=cfg.drive if job.single else None, without=job.held,
                                  draws=cfg.draws, c_penalty=cfg.c_penalty, tangent=cfg.tangent)
        for j, (lam, state) in enumerate(zip(cfg.ridge, sets[None])):
            step = len(hist["ridge"])
            hist["ridge"].append({"step": step, "noise": noise, "penalty": lam})
            job.without[step] = {k: [sets[k][j]] for k in job.held}
            job.checkpoints.add(step, state)
    return 0


def validate_ridge(job) -> None:
    """How far the selected map can be trusted between its tags: the readouts fitted without each
    interior tag, scored at it (``hist["xval"]``; nothing without an interior tag)."""
    if not job.held:
        return
    xval = CrossTagScorer(job.latents, job.c_norm, job.selection, job.held, **job.scoring)
    job.hist["xval"] = {"held_out": job.held, **xval.score(job.fmap, job.without[job.hist["selected_step"]])[0]}
