"""Training settings: the VAE with latent-dimension search, and the parametric map.

Every default is our choice (the paper's exact settings are not available to us): each field's note
says what it does and why, docs/experiments.md holds the measurements behind it and docs/decisions.md
the reasons. Units: "steps" are optimiser steps; "map steps" are iterations of the learned map, whose
step is the sampling step chosen by :mod:`dynamap.embedding.rules`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._core.errors import ConfigError
from ._config import ConfigBase, check_choice, check_int_range, check_positive, check_range
from .freerun import CHECK_TRANSIENT_FRACTION

__all__ = ["ACTIVATIONS", "LinearConfig", "MAX_C_DEGREE", "MapConfig", "VAEConfig"]

ACTIVATIONS = ("tanh", "silu", "gelu", "elu")
#: highest degree of the polynomial control input (``MapConfig.c_degree``)
MAX_C_DEGREE = 8
#: default calibration grid of the control input (normalised units): steps of 0.0025 up to +-0.03,
#: finer (0.001) near 0
C_SHIFTS = tuple(float(v) for v in np.unique(np.round(np.r_[np.arange(-12, 13) * 0.0025,
                                                             -0.003, -0.002, -0.001, 0.001, 0.002, 0.003], 6))
                 if v != 0.0)


@dataclasses.dataclass(frozen=True)
class VAEConfig(ConfigBase):
    """VAE on delay windows, and the rule that picks the latent dimension D_r.

    The loss is sum((R - R_hat)^2) / (2 recon_sigma^2) + beta * KL per window (standardised series).
    Defaults are our choices; their measurements are in docs/experiments.md ("The VAE").

    * ``hidden`` (64), ``depth`` (2), ``activation`` ("silu"): the MLP encoder and decoder; small
      enough to train in seconds on 2 CPU cores, and it reconstructs HH spikes to a fraction of a mV.
    * ``recon_sigma`` (0.05): the decoder's noise level in standard deviations of the series; it sets
      the resolution at which D_r is read off (0.05 keeps spike-scale structure).
    * ``beta`` (1.0): weight of the KL term (1: the plain VAE objective).
    * ``latent_min``, ``latent_max`` (1, 6): the searched range of D_r.
    * ``steps_per_dim`` (1500): optimiser steps for each candidate D_r.
    * ``refine_steps`` (1500): further steps for the chosen D_r.
    * ``batch_size`` (256), ``lr`` (2e-3): Adam's batch of windows and learning rate.
    * ``eval_windows`` (4096): a fixed subset of windows on which the candidates' final losses L(D)
      are compared.
    * ``dim_tol`` (0.01): D_r is the smallest D with L(D) - L_best <= dim_tol * (L(latent_min) -
      L_best), i.e. where the loss stops falling appreciably.
    * ``active_kl`` (0.05): per-unit KL (nats) above which a unit counts as active; reported as
      evidence, not used by the rule.
    """

    hidden: int = 64
    depth: int = 2
    activation: str = "silu"
    recon_sigma: float = 0.05
    beta: float = 1.0
    latent_min: int = 1
    latent_max: int = 6
    steps_per_dim: int = 1500
    refine_steps: int = 1500
    batch_size: int = 256
    lr: float = 2e-3
    eval_windows: int = 4096
    dim_tol: float = 0.01
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
    """The linear encoder (``FitConfig.encoder`` "linear"): principal components of the delay window.

    * ``dim`` (6): the state's dimension, the leading components kept (at most the window's length).
    """

    dim: int = 6

    def __post_init__(self):
        check_int_range("dim", self.dim, 1, 128)


@dataclasses.dataclass(frozen=True)
class MapConfig(ConfigBase):
    """The map u(n+1) = F(u(n), c) and its rollout training.

    One map step is the sampling step chosen by :mod:`dynamap.embedding.rules`; "steps" are optimiser
    steps. Defaults are our choices; their measurements are in docs/experiments.md ("The map").

    Network:

    * ``hidden`` (64), ``depth`` (2), ``activation`` ("tanh"): the MLP; tanh keeps F smooth, so its
      Jacobians (Lyapunov spectra) are exact and well behaved.
    * ``residual`` (true): F(u, c) = u + net(u, c), so the slow drift is not swamped by the identity.
    * ``c_degree`` (0): 0 feeds c to the network as an input; k >= 1 makes the increment a polynomial
      of degree k in c (:class:`dynamap.models.ParametricMap`); measured and not better.
    * ``box_margin`` (0.1): outputs are clamped to the data's bounding box in latent space, widened by
      this fraction per side, so a free orbit cannot diverge (negative: no box).

    Training (loss: mean squared error of every state of a rollout from a noisy start):

    * ``horizons`` ((1, 4, 16, 48)), ``stage_steps`` ((8000, 1000, 1000, 1000)): the curriculum of
      rollout lengths and optimiser steps per stage; a well-trained one-step stage first, then
      rollouts up to 1.5 fast time scales, which train the timing of whole spikes.
    * ``batch_size`` (128), ``states_per_batch`` (1024): a stage's batch is max(batch_size,
      states_per_batch // horizon) rollouts (1024, 256, 128, 128 for the default horizons).
    * ``stage_batch`` (None): one batch size per stage instead.
    * ``lr`` (3e-3), ``lr_final`` (1e-4): Adam's learning rate, decaying exponentially between the two.
    * ``grad_clip`` (1.0): gradient-norm clipping.
    * ``noise`` (0.01): Gaussian noise (standardised latent units) on each rollout's start, with a
      clean target, so the map learns to pull perturbed states back onto the attractor; less left the
      attractor, more fired bursts early.
    * ``stage_noise`` (None): one noise level per stage instead of ``noise``.
    * ``c_noise`` (0.05): Gaussian jitter (normalised units) on each rollout's control, so that nearby
      values of c behave alike; without it the single-series map's c sweep is irregular next to c = 1.

    Selection (checkpoints are chosen by their free runs, :mod:`dynamap.training.freerun`, never by the
    loss):

    * ``select_every`` (50): after the first stage, a checkpoint is scored every this many steps.
    * ``select_starts`` (6): free runs per segment, from states spread over the data.
    * ``select_steps`` (8000), ``select_transient`` (1000): length of those short runs and the map
      steps dropped first.
    * ``select_spectral`` (1.0): weight of D_H in the score (0: ISI and spikes per burst only); D_H
      sees a wrong burst period that the ISI distribution hardly shows.
    * ``final_top`` (4): the best checkpoints of the short runs that get long runs; the best long run
      wins, since maps that looked good over 8000 steps often drifted into another regime later.
    * ``final_steps``, ``final_transient`` (None, None): the long runs' length and transient; None
      makes them as long as the fit's free-running check (:meth:`final_run`), so selection and
      check measure D_H at the same frequency resolution.

    Calibration of the control (a map's burst period drifts with c, and D_H needs the period within
    about 0.5 %):

    * ``c_shifts`` (steps of 0.0025 up to +-0.03, 0.001 near 0): shifts of each segment's normalised
      c tried in long runs after selection (0 always; empty: off); each segment keeps its best, and the
      model adds it to c, so the training values reproduce the data as closely as the map can.
    * ``c_refine`` ((-0.00125, -0.000625, 0.000625, 0.00125)): offsets tried around each pick; one
      replaces the pick only where it scores better (empty: off).

    The ridge family (``FitConfig.map_family`` "ridge": :class:`dynamap.models.DelayMap` on delay states,
    :class:`dynamap.models.FeatureMap` on the others): no rollout training; ``box_margin`` and the
    selection and calibration settings above apply, the network and training settings do not.

    * ``features`` (300): random tanh features of the delay taps.
    * ``ridge`` ((1e-9, 1e-8, 1e-7, 1e-6)), ``ridge_noise`` ((3e-4, 1e-3, 3e-3)): ridge penalties
      (relative to the mean diagonal of the Gram matrix) and noise levels on the taps (standardised
      units, clean targets); each pair gives one readout, scored by its free runs like a checkpoint.
    * ``ridge_draws`` (4): independent draws of the tap noise per one-step pair; the readout is fitted
      to all of them (a readout nearer the noise's expectation, less dependent on the draw; the ridge's
      cost grows in proportion).
    * ``ridge_c_penalty`` (1000): tagged mode: the ridge penalty on the control's readout b relative to
      that on a (> 1: a narrow control pathway over one field shared by all tags; 1: the same penalty).
    * ``ridge_tangent`` (true): the tap noise without its part along the orbit (the data's own
      direction of motion), so the readout is not taught to pull a shift along the orbit back.
    * ``drive`` (1.0): single-series mode only, where one training value leaves the readout's c part
      undetermined: c acts as an additive drive on the newest sample, (c_norm - c_train) x ``drive`` x
      the series' median one-step change (standardised) added to each increment, so a relative change
      eps of the parameter adds eps x ``drive`` median steps per step (0: c has no effect).
    """

    hidden: int = 64
    depth: int = 2
    activation: str = "tanh"
    residual: bool = True
    horizons: tuple = (1, 4, 16, 48)
    stage_steps: tuple = (8000, 1000, 1000, 1000)
    batch_size: int = 128
    states_per_batch: int = 1024
    stage_batch: tuple | None = None
    lr: float = 3e-3
    lr_final: float = 1e-4
    grad_clip: float = 1.0
    noise: float = 0.01
    stage_noise: tuple | None = None
    c_noise: float = 0.05
    box_margin: float = 0.1
    select_every: int = 50
    select_starts: int = 6
    select_steps: int = 8000
    select_transient: int = 1000
    select_spectral: float = 1.0
    final_top: int = 4
    final_steps: int | None = None
    final_transient: int | None = None
    c_shifts: tuple = C_SHIFTS
    c_refine: tuple = (-0.00125, -0.000625, 0.000625, 0.00125)
    c_degree: int = 0
    features: int = 300
    ridge: tuple = (1e-9, 1e-8, 1e-7, 1e-6)
    ridge_noise: tuple = (3e-4, 1e-3, 3e-3)
    ridge_draws: int = 4
    ridge_c_penalty: float = 1000.0
    ridge_tangent: bool = True
    drive: float = 1.0

    #: options measured and not adopted, with their old defaults (the record: docs/experiments.md)
    REMOVED = {"rollout_noise": 0.0, "wide_noise": 0.0, "wide_fraction": 0.25, "tf_alpha": 0.0,
               "weighting": "none", "rel_floor": 0.1, "noise_mode": "isotropic",
               "output_scaling": False, "c_secant": 0, "bridge": 0.0,
               "ridge_common": "pull", "xval_weight": 0.0, "c_hidden": 0.0,
               "ridge_c_degree": 1}

    def __post_init__(self):
        check_int_range("hidden", self.hidden, 2)
        check_int_range("depth", self.depth, 1, 8)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_int_range("c_degree", self.c_degree, 0, MAX_C_DEGREE)
        check_int_range("features", self.features, 1)
        check_range("drive", self.drive, -1e6, 1e6)
        check_int_range("ridge_draws", self.ridge_draws, 1, 1000)
        check_range("ridge_c_penalty", self.ridge_c_penalty, 0.0, 1e12)
        if not isinstance(self.ridge_tangent, bool):
            raise ConfigError(f"ridge_tangent must be true or false, got {self.ridge_tangent!r}")
        for name in ("ridge", "ridge_noise"):
            v = getattr(self, name)
            if not isinstance(v, tuple) or not v or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) and x >= 0
                    for x in v):
                raise ConfigError(f"{name} must be a non-empty tuple of numbers >= 0, got {v!r}")
        if not isinstance(self.residual, bool):
            raise ConfigError(f"residual must be true or false, got {self.residual!r}")
        for name in ("horizons", "stage_steps"):
            v = getattr(self, name)
            if not isinstance(v, tuple) or not v:
                    raise ConfigError(f"{name} must be a non-empty list of integers, got {v!r}")
            for i, h in enumerate(v):
                check_int_range(f"{name}[{i}]", h, 1)
        if len(self.horizons) != len(self.stage_steps):
            raise ConfigError(
                f"horizons ({len(self.horizons)} entries) and stage_steps ({len(self.stage_steps)}) "
                "must have the same length"
            )
        check_int_range("batch_size", self.batch_size, 1)
        check_int_range("states_per_batch", self.states_per_batch, 1)
        self._check_per_stage("stage_batch", "batch size", lambda n, v: check_int_range(n, v, 1))
        check_positive("lr", self.lr)
        check_positive("lr_final", self.lr_final)
        check_positive("grad_clip", self.grad_clip)
        check_positive("noise", self.noise, allow_zero=True)
        check_positive("c_noise", self.c_noise, allow_zero=True)
        self._check_per_stage("stage_noise", "noise level",
                              lambda n, v: check_positive(n, v, allow_zero=True))
        if not isinstance(self.box_margin, (int, float)) or isinstance(self.box_margin, bool):
            raise ConfigError(f"box_margin must be a number (negative: no box), got {self.box_margin!r}")
        check_int_range("select_every", self.select_every, 1)
        check_int_range("select_starts", self.select_starts, 1)
        check_int_range("select_steps", self.select_steps, 10)
        check_int_range("select_transient", self.select_transient, 0)
        check_positive("select_spectral", self.select_spectral, allow_zero=True)
        check_int_range("final_top", self.final_top, 1)
        if (self.final_steps is None) != (self.final_transient is None):
            raise ConfigError(
                f"final_steps and final_transient must both be null (as long as the free-running check) "
                f"or both integers, got {self.final_steps!r} and {self.final_transient!r}"
            )
        if self.final_steps is not None:
            check_int_range("final_steps", self.final_steps, 0)
            check_int_range("final_transient", self.final_transient, 0)
        for name in ("c_shifts", "c_refine"):
            v = getattr(self, name)
            if not isinstance(v, tuple) or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x)
                    and abs(x) <= 1.0 for x in v):
                raise ConfigError(f"{name} must be a tuple of finite numbers in [-1, 1], got {v!r}")
        if self.final_steps and self.final_transient >= self.final_steps:
            raise ConfigError(
                f"final_transient ({self.final_transient}) must be below final_steps ({self.final_steps})"
            )
        if self.select_transient >= self.select_steps:
            raise ConfigError(
                f"select_transient ({self.select_transient}) must be below select_steps ({self.select_steps})"
            )

    def architecture(self) -> tuple:
        """(hidden, depth, activation, residual, c_degree) of the :class:`~dynamap.models.ParametricMap`
        this config trains."""
        return self.hidden, self.depth, self.activation, self.residual, self.c_degree

    def final_run(self, n_check: int) -> tuple[int, int]:
        """(map steps, transient) of the final selection runs for a free-running check that compares
        ``n_check`` samples: ``final_steps`` and ``final_transient``, or when they are None the check's
        own length, ``n_check`` plus its transient."""
        if self.final_steps is not None:
            return int(self.final_steps), int(self.final_transient)
        transient = int(CHECK_TRANSIENT_FRACTION * n_check)
        return int(n_check) + transient, transient

    def _check_per_stage(self, name: str, what: str, check) -> None:
        """``name`` is None or a tuple with one value per stage, each passing ``check(label, value)``."""
        v = getattr(self, name)
        if v is None:
            return
        if not isinstance(v, tuple) or len(v) != len(self.horizons):
            raise ConfigError(
                f"{name} must be null or a list with one {what} per stage ({len(self.horizons)}), got {v!r}"
            )
        for i, x in enumerate(v):
            check(f"{name}[{i}]", x)
