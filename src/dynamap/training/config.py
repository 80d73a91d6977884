"""Training settings, one class per family: the encoders (VAE, linear, delay), the map families
(ridge, mlp) and the free-run selection they share. Each class holds only what its family uses; each
field's line says what it does. The measurements behind the defaults are in docs/experiments.md, the
reasons in docs/decisions.md. Units: "steps" are optimiser steps; "map steps" are iterations of the
learned map, whose step is the sampling step chosen by :mod:`dynamap.embedding.rules`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from .._core.errors import ConfigError
from ._config import ConfigBase, check_choice, check_int_range, check_positive, check_range
from .freerun import CHECK_TRANSIENT_FRACTION

__all__ = ["ACTIVATIONS", "DelayConfig", "LinearConfig", "MLPConfig", "RidgeConfig", "SelectionConfig",
           "VAEConfig"]

ACTIVATIONS = ("tanh", "silu", "gelu", "elu")
#: default calibration grid of the control input (normalised units): steps of 0.0025 up to +-0.03,
#: finer (0.001) near 0
C_SHIFTS = tuple(float(v) for v in np.unique(np.round(np.r_[np.arange(-12, 13) * 0.0025,
                                                             -0.003, -0.002, -0.001, 0.001, 0.002, 0.003], 6))
                 if v != 0.0)


def _check_numbers(name: str, v, lo: float, hi: float, empty: bool = True) -> None:
    """``v`` is a tuple of finite numbers in [lo, hi] (non-empty unless ``empty``)."""
    if not isinstance(v, tuple) or (not v and not empty) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) and lo <= x <= hi
            for x in v):
        what = "a tuple" if empty else "a non-empty tuple"
        raise ConfigError(f"{name} must be {what} of finite numbers in [{lo}, {hi}], got {v!r}")


def _check_bool(name: str, v) -> None:
    if not isinstance(v, bool):
        raise ConfigError(f"{name} must be true or false, got {v!r}")


@dataclasses.dataclass(frozen=True)
class VAEConfig(ConfigBase):
    """The VAE encoder (``FitConfig.encoder`` "vae"): a VAE on delay windows, loss sum((R - R_hat)^2) /
    (2 recon_sigma^2) + beta KL per window, and the rule that reads the latent dimension D_r off its
    training."""

    #: hidden units, hidden layers and activation of the MLP encoder and decoder
    hidden: int = 64
    depth: int = 2
    activation: str = "silu"
    #: the decoder's noise level in standard deviations of the series (the resolution D_r is read at)
    recon_sigma: float = 0.05
    #: weight of the KL term (1: the plain VAE objective)
    beta: float = 1.0
    #: the searched range of D_r
    latent_min: int = 1
    latent_max: int = 6
    #: optimiser steps for each candidate D_r, and further steps for the chosen one
    steps_per_dim: int = 1500
    refine_steps: int = 1500
    #: Adam's batch of windows and learning rate
    batch_size: int = 256
    lr: float = 2e-3
    #: windows of the fixed subset on which the candidates' final losses L(D) are compared
    eval_windows: int = 4096
    #: D_r is the smallest D with L(D) - L_best <= dim_tol (L(latent_min) - L_best)
    dim_tol: float = 0.01
    #: per-unit KL (nats) above which a unit counts as active (reported, not used by the rule)
    active_kl: float = 0.05

    def __post_init__(self):
        check_int_range("hidden", self.hidden, 2)
        check_int_range("depth", self.depth, 1, 8)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_positive("recon_sigma", self.recon_sigma)
        check_positive("beta", self.beta, allow_zero=True)
        check_int_range("latent_min", self.latent_min, 1, 32)
        check_int_range("latent_max", self.latent_max, self.latent_min, 32)
        check_int_range("steps_per_dim", self.steps_per_dim, 1)
        check_int_range("refine_steps", self.refine_steps, 0)
        check_int_range("batch_size", self.batch_size, 1)
        check_positive("lr", self.lr)
        check_int_range("eval_windows", self.eval_windows, 16)
        check_range("dim_tol", self.dim_tol, 0.0, 1.0)
        check_positive("active_kl", self.active_kl, allow_zero=True)


@dataclasses.dataclass(frozen=True)
class LinearConfig(ConfigBase):
    """The linear encoder (``FitConfig.encoder`` "linear"): principal components of the delay window."""

    #: the state's dimension: the leading components kept (at most the window's length)
    dim: int = 6

    def __post_init__(self):
        check_int_range("dim", self.dim, 1, 128)


@dataclasses.dataclass(frozen=True)
class DelayConfig(ConfigBase):
    """The delay taps: the delay encoder's state (the newest (taps - 1) lag + 1 samples) and the
    delay map's inputs (every ``lag``-th of them)."""

    #: inputs of the delay map
    taps: int = 6
    #: samples between two taps, in map steps
    lag: int = 3
    #: time constants of leaky averages of the series added to the state and the map's inputs, in the
    #: series' fast time scale T_f (empty: none); they carry the slow variable, averaged over the noise
    slow: tuple = ()

    def __post_init__(self):
        check_int_range("taps", self.taps, 1, 64)
        check_int_range("lag", self.lag, 1, 64)
        _check_numbers("slow", self.slow, 1e-3, 1e4)
        if len(self.slow) > 8:
            raise ConfigError(f"slow takes at most 8 time constants, got {len(self.slow)}")

    def decay(self, dt_map: float, fast_time: float) -> tuple[float, ...]:
        """The leaky averages' decays a = exp(-dt_map / (tau T_f)) at the map step ``dt_map`` for the
        fast time scale ``fast_time``."""
        return tuple(float(np.exp(-float(dt_map) / (float(t) * float(fast_time)))) for t in self.slow)

    @property
    def span(self) -> int:
        """Samples in the delay state: (taps - 1) lag + 1."""
        return (self.taps - 1) * self.lag + 1


@dataclasses.dataclass(frozen=True)
class RidgeConfig(ConfigBase):
    """The ridge family (``FitConfig.map_family`` "ridge"): fixed random tanh features and closed-form
    readouts (:class:`dynamap.models.DelayMap` on delay states, :class:`dynamap.models.FeatureMap` on
    the others); each pair of tap noise and penalty gives one readout, scored by its free runs."""

    #: random tanh features of the map's inputs
    features: int = 300
    #: ridge penalties, relative to the mean diagonal of the Gram matrix
    ridge: tuple = (1e-9, 1e-8, 1e-7, 1e-6)
    #: noise levels on the inputs (standardised units, clean targets)
    noise: tuple = (3e-4, 1e-3, 3e-3)
    #: independent draws of the input noise per one-step pair, all fitted at once
    draws: int = 4
    #: tagged mode: the penalty on the control's readout relative to the rest (> 1: a narrow pathway)
    c_penalty: float = 1000.0
    #: the input noise without its part along the orbit (the data's own direction of motion)
    tangent: bool = True
    #: single-series mode: c as an additive drive of this many median one-step changes per unit of c
    drive: float = 1.0
    #: map candidates (random features) per round
    candidates: int = 2
    #: calibrate the control after the selection (``SelectionConfig.c_shifts``)
    calibrate: bool = True

    def __post_init__(self):
        check_int_range("features", self.features, 1)
        _check_numbers("ridge", self.ridge, 0.0, np.inf, empty=False)
        _check_numbers("noise", self.noise, 0.0, np.inf, empty=False)
        check_int_range("draws", self.draws, 1, 1000)
        check_range("c_penalty", self.c_penalty, 0.0, 1e12)
        _check_bool("tangent", self.tangent)
        check_range("drive", self.drive, -1e6, 1e6)
        check_int_range("candidates", self.candidates, 1)
        _check_bool("calibrate", self.calibrate)

    def for_mode(self, mode: str) -> RidgeConfig:
        """The settings of a fit in ``mode`` (the same in both)."""
        return self


@dataclasses.dataclass(frozen=True)
class MLPConfig(ConfigBase):
    """The MLP family (``FitConfig.map_family`` "mlp", the paper's map): F(u, c) = u + net(u, c)
    trained on free rollouts from noisy starts with clean targets; checkpoints every
    ``select_every`` steps after the first stage are scored by their free runs."""

    #: always calibrates the control after the selection
    calibrate: ClassVar[bool] = True

    #: hidden units, hidden layers and activation of the network (tanh: smooth, exact Jacobians)
    hidden: int = 64
    depth: int = 2
    activation: str = "tanh"
    #: F(u, c) = u + net(u, c) (false: F = net)
    residual: bool = True
    #: the curriculum: rollout lengths (map steps) and optimiser steps per stage
    horizons: tuple = (1, 4, 16, 48)
    stage_steps: tuple = (8000, 1000, 1000, 1000)
    #: a stage's batch is max(batch_size, states_per_batch // horizon) rollouts
    batch_size: int = 128
    states_per_batch: int = 1024
    #: Adam's learning rate, decaying exponentially from lr to lr_final; gradient-norm clipping
    lr: float = 3e-3
    lr_final: float = 1e-4
    grad_clip: float = 1.0
    #: Gaussian noise (standardised units) on each rollout's start, with a clean target
    noise: float = 0.01
    #: Gaussian jitter (normalised units) on each rollout's control, so nearby values of c behave alike
    c_noise: float = 0.05
    #: a checkpoint is scored every this many optimiser steps after the first stage
    select_every: int = 50
    #: map candidates (independent random streams) per round
    candidates: int = 5
    #: tagged mode multiplies each stage's steps by this (one map learns several attractors)
    tagged_steps_factor: float = 2.0

    def __post_init__(self):
        check_int_range("hidden", self.hidden, 2)
        check_int_range("depth", self.depth, 1, 8)
        check_choice("activation", self.activation, ACTIVATIONS)
        _check_bool("residual", self.residual)
        for name in ("horizons", "stage_steps"):
            v = getattr(self, name)
            if not isinstance(v, tuple) or not v:
                raise ConfigError(f"{name} must be a non-empty list of integers, got {v!r}")
            for i, h in enumerate(v):
                check_int_range(f"{name}[{i}]", h, 1)
        if len(self.horizons) != len(self.stage_steps):
            raise ConfigError(f"horizons ({len(self.horizons)} entries) and stage_steps "
                              f"({len(self.stage_steps)}) must have the same length")
        check_int_range("batch_size", self.batch_size, 1)
        check_int_range("states_per_batch", self.states_per_batch, 1)
        for name in ("lr", "lr_final", "grad_clip"):
            check_positive(name, getattr(self, name))
        check_positive("noise", self.noise, allow_zero=True)
        check_positive("c_noise", self.c_noise, allow_zero=True)
        check_int_range("select_every", self.select_every, 1)
        check_int_range("candidates", self.candidates, 1)
        check_range("tagged_steps_factor", self.tagged_steps_factor, 0.01, 100.0)

    def architecture(self) -> tuple:
        """(hidden, depth, activation, residual) of the :class:`~dynamap.models.ParametricMap`."""
        return self.hidden, self.depth, self.activation, self.residual

    def for_mode(self, mode: str) -> MLPConfig:
        """The settings of a fit in ``mode``: in tagged mode the stage steps times ``tagged_steps_factor``."""
        if mode != "tagged":
            return self
        return dataclasses.replace(self, stage_steps=tuple(max(1, round(n * self.tagged_steps_factor))
                                                           for n in self.stage_steps))


@dataclasses.dataclass(frozen=True)
class SelectionConfig(ConfigBase):
    """The free-run selection every map family shares (:mod:`dynamap.training.selection`): candidate
    maps are chosen by free runs from states spread over the data, never by the loss; then the control
    is calibrated (a map's burst period drifts with c, and D_H needs the period within about 0.5 %)."""

    #: the map's state box: the data's range widened by this fraction per side (negative: no box)
    box_margin: float = 0.1
    #: free runs per segment
    select_starts: int = 6
    #: length of the short screening runs and the map steps dropped first
    select_steps: int = 8000
    select_transient: int = 1000
    #: weight of D_H in the score (0: ISI and spikes per burst only)
    select_spectral: float = 1.0
    #: the best checkpoints of the short runs that get long runs (the best long run wins)
    final_top: int = 4
    #: the long runs' length and transient (null: as long as the fit's free-running check)
    final_steps: int | None = None
    final_transient: int | None = None
    #: shifts of each segment's normalised c tried after the selection (0 always; empty: off)
    c_shifts: tuple = C_SHIFTS
    #: offsets tried around each segment's pick; one replaces it only where it scores better
    c_refine: tuple = (-0.00125, -0.000625, 0.000625, 0.00125)

    def __post_init__(self):
        if not isinstance(self.box_margin, (int, float)) or isinstance(self.box_margin, bool):
            raise ConfigError(f"box_margin must be a number (negative: no box), got {self.box_margin!r}")
        check_int_range("select_starts", self.select_starts, 1)
        check_int_range("select_steps", self.select_steps, 10)
        check_int_range("select_transient", self.select_transient, 0)
        if self.select_transient >= self.select_steps:
            raise ConfigError(f"select_transient ({self.select_transient}) must be below select_steps "
                              f"({self.select_steps})")
        check_positive("select_spectral", self.select_spectral, allow_zero=True)
        check_int_range("final_top", self.final_top, 1)
        if (self.final_steps is None) != (self.final_transient is None):
            raise ConfigError(
                f"final_steps and final_transient must both be null (as long as the free-running check) "
                f"or both integers, got {self.final_steps!r} and {self.final_transient!r}")
        if self.final_steps is not None:
            check_int_range("final_steps", self.final_steps, 0)
            check_int_range("final_transient", self.final_transient, 0)
            if self.final_steps and self.final_transient >= self.final_steps:
                raise ConfigError(f"final_transient ({self.final_transient}) must be below final_steps "
                                  f"({self.final_steps})")
        _check_numbers("c_shifts", self.c_shifts, -1.0, 1.0)
        _check_numbers("c_refine", self.c_refine, -1.0, 1.0)

    def final_run(self, n_check: int) -> tuple[int, int]:
        """(map steps, transient) of the final selection runs for a free-running check that compares
        ``n_check`` samples: ``final_steps`` and ``final_transient``, or when they are None the check's
        own length, ``n_check`` plus its transient."""
        if self.final_steps is not None:
            return int(self.final_steps), int(self.final_transient)
        transient = int(CHECK_TRANSIENT_FRACTION * n_check)
        return int(n_check) + transient, transient

    def without_calibration(self) -> SelectionConfig:
        return dataclasses.replace(self, c_shifts=(), c_refine=())
