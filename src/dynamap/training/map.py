"""fit_map: one candidate map of a family, trained on encoded states and selected by its FREE-RUNNING
behaviour (:mod:`.selection`), never by the loss.

The families (:data:`MAP_FAMILIES`, by their settings class): "mlp", the residual MLP trained on rollouts
(:mod:`.rollout`, :class:`~dynamap.training.config.MLPConfig`), and "ridge", random features with
closed-form readouts (:mod:`.ridge`, :class:`~dynamap.training.config.RidgeConfig`). :func:`new_map` is
the factory: the one place that knows which module a family builds on which encoder's states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..models.base import StateMap
from ..models.encoders import DelayEncoder, Encoder
from ._seeding import generators
from .config import MLPConfig, RidgeConfig, SelectionConfig
from .freerun import TrainStats
from .ridge import new_ridge_map, train_ridge, validate_ridge
from .rollout import new_mlp_map, train_rollout
from .selection import Checkpoints, FreeRunScorer, finish_selection

__all__ = ["MAP_FAMILIES", "MapJob", "blank_map", "fit_map", "new_map"]

#: a map family's settings class -> (its trainer, its validation after the selection or None)
MAP_FAMILIES: dict[type, tuple[Callable, Callable | None]] = {
    MLPConfig: (train_rollout, None),
    RidgeConfig: (train_ridge, validate_ridge),
}


@dataclasses.dataclass
class MapJob:
    """One candidate's training: the map, its data and random streams, the selection's state."""

    fmap: StateMap
    latents: list[np.ndarray]
    c_norm: list[float]
    cfg: RidgeConfig | MLPConfig
    selection: SelectionConfig
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


def new_map(cfg: RidgeConfig | MLPConfig, latents: list[np.ndarray], box_margin: float, gen: torch.Generator, *,
            encoder: Encoder, delay: tuple[int, int] | None = None) -> StateMap:
    """The untrained map of the family whose settings are ``cfg`` on the standardised states
    ``latents`` of ``encoder``, with its state box around them (``box_margin``, negative: none): the
    ridge family on delay states is the shift-register delay map over the taps ``delay`` = (taps, lag)
    and the encoder's leaky averages."""
    d = latents[0].shape[1]
    if isinstance(cfg, RidgeConfig):
        on_delay = isinstance(encoder, DelayEncoder)
        fmap = new_ridge_map(d, cfg, gen, delay if on_delay else None, encoder.decay if on_delay else ())
    elif isinstance(cfg, MLPConfig):
        fmap = new_mlp_map(d, cfg, gen)
    else:
        raise TypeError(f"map settings must be a RidgeConfig or an MLPConfig, got {type(cfg).__name__}")
    if box_margin >= 0:
        lo, hi = encoder.box(np.concatenate(latents), box_margin)
        fmap.lo.copy_(torch.from_numpy(lo))
        fmap.hi.copy_(torch.from_numpy(hi))
    return fmap


def blank_map(cfg: RidgeConfig | MLPConfig, encoder: Encoder, delay: tuple[int, int]) -> StateMap:
    """An empty module of the shape :func:`new_map` builds (for loading saved weights into); the
    global random stream is left as it was."""
    with torch.random.fork_rng(devices=[]):
        return new_map(cfg, [np.zeros((1, encoder.dim), np.float32)], -1.0, torch.Generator().manual_seed(0),
                       encoder=encoder, delay=delay)


def fit_map(
    latents: list[np.ndarray],
    c_norm: list[float],
    cfg: RidgeConfig | MLPConfig,
    selection: SelectionConfig | None = None,
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
    encoder: Encoder | None = None,
    delay: tuple[int, int] | None = None,
    single: bool = False,
) -> tuple[StateMap, dict]:
    """Train a map of the family whose settings are ``cfg`` on standardised state segments ``latents``
    (each (n_i, d)) with control ``c_norm[i]`` and select it by its free runs (``selection``, default
    :class:`~dynamap.training.config.SelectionConfig`).

    ``decode`` maps (N, d) standardised states to the observable in data units; ``refs`` are the data's
    spike statistics per segment at step ``dt`` (spikes: crossings of ``threshold`` with
    ``hysteresis``, see :func:`~dynamap.analysis.spikes.spike_times`); ``candidate`` picks an
    independent random stream (initialisation and batches) for the same seed; ``label`` names the
    progress bar (default "map candidate <candidate>"). ``encoder``: the states' encoder (its state
    box; default: a per-coordinate box, or with ``delay`` = (taps, lag) delay states); ``single``
    (single-series mode, one segment) makes the ridge family's c an additive drive (``cfg.drive``,
    :mod:`dynamap.training._ridge`). Returns the selected map and a JSON-able history."""
    if type(cfg) not in MAP_FAMILIES:
        raise TypeError(f"map settings must be a RidgeConfig or an MLPConfig, got {type(cfg).__name__}")
    sel = SelectionConfig() if selection is None else selection
    if encoder is None:  # states without an encoder object: the box they imply
        d = latents[0].shape[1]
        encoder = DelayEncoder(d, d, 0.0, 1.0) if delay is not None else Encoder(d, d, 0.0, 1.0)
    gen, rng = generators(seed, 200 + candidate)
    fmap = new_map(cfg, latents, sel.box_margin, gen, encoder=encoder, delay=delay)
    scoring = {"decode": decode, "refs": refs, "dt": dt, "threshold": threshold, "hysteresis": hysteresis}
    scorer = FreeRunScorer(latents, c_norm, sel, **scoring)
    # the long runs are as long as the fit's free-running check (half the longest segment, plus its
    # transient) unless the config fixes them
    final_run = sel.final_run(max(x.shape[0] for x in latents) // 2)
    hist = {"loss": [], "select": [], "stage_of_step": [], "final_run": list(final_run)}
    job = MapJob(fmap, latents, c_norm, cfg, sel, gen, rng, scorer, Checkpoints(fmap, scorer, sel, hist), hist,
                 scoring, single=single, progress=progress, label=label or f"map candidate {candidate}")
    train, validate = MAP_FAMILIES[type(cfg)]
    last = train(job)
    finish_selection(fmap, job.checkpoints, scorer, sel, c_norm, hist, last)
    if validate is not None:
        validate(job)
    return fmap, hist
