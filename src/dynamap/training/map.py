"""fit_map: one candidate map of a family, trained on encoded states and selected by its FREE-RUNNING
behaviour (:mod:`.selection`), never by the loss.

The families (:data:`MAP_FAMILIES`): "mlp", the residual MLP trained on rollouts (:mod:`.rollout`), and
"ridge", random features with closed-form readouts (:mod:`.ridge`). :func:`new_map` is the factory: the
one place that knows which module a family builds on which encoder's states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..models.base import StateMap
from ..models.encoders import DelayEncoder, Encoder
from ._seeding import generators
from .config import MapConfig
from .freerun import TrainStats
from .ridge import new_ridge_map, train_ridge, validate_ridge
from .rollout import new_mlp_map, train_rollout
from .selection import Checkpoints, FreeRunScorer, finish_selection

__all__ = ["MAP_FAMILIES", "MapJob", "blank_map", "fit_map", "new_map"]

#: map family -> (its trainer, its validation after the selection or None)
MAP_FAMILIES: dict[str, tuple[Callable, Callable | None]] = {
    "mlp": (train_rollout, None),
    "ridge": (train_ridge, validate_ridge),
}


@dataclasses.dataclass
class MapJob:
    """One candidate's training: the map, its data and random streams, the selection's state."""

    fmap: StateMap
    latents: list[np.ndarray]
    c_norm: list[float]
    cfg: MapConfig
    gen: torch.Generator
    rng: np.random.Generator
    scorer: FreeRunScorer
    checkpoints: Checkpoints
    hist: dict
    scoring: dict
    single: bool = False
    progress: bool = False
    label: str = ""
    held: list = dataclasses.field(default_factory=list)
    without: dict = dataclasses.field(default_factory=dict)


def new_map(family: str, latents: list[np.ndarray], cfg: MapConfig, gen: torch.Generator, *,
            encoder: Encoder, delay: tuple[int, int] | None = None) -> StateMap:
    """The untrained map of ``family`` on the standardised states ``latents`` of ``encoder``, with its
    state box around them (``cfg.box_margin``): the ridge family on delay states is the shift-register
    delay map over the taps ``delay`` = (taps, lag)."""
    d = latents[0].shape[1]
    if family == "ridge":
        fmap = new_ridge_map(d, cfg, gen, delay if isinstance(encoder, DelayEncoder) else None)
    elif family == "mlp":
        fmap = new_mlp_map(d, cfg, gen)
    else:
        raise ValueError(f"unknown map family {family!r}; valid: {sorted(MAP_FAMILIES)}")
    if cfg.box_margin >= 0:
        lo, hi = encoder.box(np.concatenate(latents), cfg.box_margin)
        fmap.lo.copy_(torch.from_numpy(lo))
        fmap.hi.copy_(torch.from_numpy(hi))
    return fmap


def blank_map(family: str, encoder: Encoder, cfg: MapConfig, delay: tuple[int, int]) -> StateMap:
    """An empty module of the shape :func:`new_map` builds (for loading saved weights into); the
    global random stream is left as it was."""
    with torch.random.fork_rng(devices=[]):
        return new_map(family, [np.zeros((1, encoder.dim), np.float32)], dataclasses.replace(cfg, box_margin=-1.0),
                       torch.Generator().manual_seed(0), encoder=encoder, delay=delay)


def fit_map(
    latents: list[np.ndarray],
    c_norm: list[float],
    cfg: MapConfig,
    *,
    seed: int,
    decode: Callable[[torch.Tensor], torch.Tensor],
    refs: list[TrainStats],
    dt: float,
    threshold: float,
    hysteresis: float = 0.0,
    candidate: int = 0,
    progress: bool = False,
    label: str | None = None,
    family: str = "mlp",
    encoder: Encoder | None = None,
    delay: tuple[int, int] | None = None,
    single: bool = False,
) -> tuple[StateMap, dict]:
    """Train a map of ``family`` on standardised state segments ``latents`` (each (n_i, d)) with control
    ``c_norm[i]`` and select it by its free runs.

    ``decode`` maps (N, d) standardised states to the observable in data units; ``refs`` are the data's
    spike statistics per segment at step ``dt`` (spikes: crossings of ``threshold`` with
    ``hysteresis``, see :func:`~dynamap.analysis.spikes.spike_times`); ``candidate`` picks an
    independent random stream (initialisation and batches) for the same seed; ``label`` names the
    progress bar (default "map candidate <candidate>"). ``encoder``: the states' encoder (its state
    box; default: a per-coordinate box, or with ``delay`` = (taps, lag) delay states); ``single``
    (single-series mode, one segment) makes the ridge family's c an additive drive (``cfg.drive``,
    :mod:`dynamap.training._ridge`). Returns the selected map and a JSON-able history."""
    if family not in MAP_FAMILIES:
        raise ValueError(f"unknown map family {family!r}; valid: {sorted(MAP_FAMILIES)}")
    if encoder is None:  # states without an encoder object: the box they imply
        d = latents[0].shape[1]
        encoder = DelayEncoder(d, d, 0.0, 1.0) if delay is not None else Encoder(d, d, 0.0, 1.0)
    gen, rng = generators(seed, 200 + candidate)
    fmap = new_map(family, latents, cfg, gen, encoder=encoder, delay=delay)
    scoring = {"decode": decode, "refs": refs, "dt": dt, "threshold": threshold, "hysteresis": hysteresis}
    scorer = FreeRunScorer(latents, c_norm, cfg, **scoring)
    # the long runs are as long as the fit's free-running check (half the longest segment, plus its
    # transient) unless the config fixes them
    final_run = cfg.final_run(max(x.shape[0] for x in latents) // 2)
    hist = {"loss": [], "select": [], "stage_of_step": [], "final_run": list(final_run)}
    job = MapJob(fmap, latents, c_norm, cfg, gen, rng, scorer, Checkpoints(fmap, scorer, cfg, hist), hist,
                 scoring, single=single, progress=progress, label=label or f"map candidate {candidate}")
    train, validate = MAP_FAMILIES[family]
    last = train(job)
    finish_selection(fmap, job.checkpoints, scorer, cfg, c_norm, hist, last)
    if validate is not None:
        validate(job)
    return fmap, hist
