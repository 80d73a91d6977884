"""FitConfig: every choice of the reconstruction, frozen, self-validating, JSON round-trip.

The reconstruction is an encoder x a map family, each with its own settings class
(:mod:`dynamap.training.config`); the data rules are :mod:`dynamap.embedding.rules`'. Defaults are our
choices: docs/experiments.md holds the measurements behind them, docs/decisions.md the reasons.
Settings saved by earlier versions load through :mod:`dynamap.pipeline._compat`.
"""

from __future__ import annotations

import dataclasses
import typing

from .._core.errors import ConfigError
from ..training._config import ConfigBase, check_choice, check_int_range, check_positive, check_range
from ..training.config import DelayConfig, LinearConfig, MLPConfig, RidgeConfig, SelectionConfig, VAEConfig
from ._compat import translate_fit_config

__all__ = ["ENCODER_FAMILIES", "FitConfig", "MAP_FAMILY_NAMES"]

#: the encoders (``FitConfig.encoder``) and the map families (``FitConfig.map_family``)
ENCODER_FAMILIES = ("delay", "linear", "vae")
MAP_FAMILY_NAMES = ("ridge", "mlp")


@dataclasses.dataclass(frozen=True)
class FitConfig(ConfigBase):
    """Settings of :class:`dynamap.DynamapModel`: the reconstruction (an encoder x a map family, any
    with any), the data rules, the control input, and the rounds of candidates."""

    #: the states: "delay" (the newest samples, ``delay``), "linear" (principal components of the
    #: window, ``linear``) or "vae" (the paper's VAE means, ``vae``)
    encoder: str = "delay"
    #: single-series mode: the encoder used instead where the series' measured noise reaches the noise
    #: report's warning level (``embedding.rules.NOISE_WARN_REL`` of the spike height); None: ``encoder``
    noisy_encoder: str | None = "vae"
    #: the delay encoder's leaky averages (``DelayConfig.slow``, in fast time scales) where the measured
    #: noise reaches that level and ``delay.slow`` is empty (both modes; empty: none)
    noisy_slow: tuple = (1.0, 10.0)
    #: the map: "ridge" (random features, ridge readouts, ``ridge``) or "mlp" (the paper's, ``mlp``)
    map_family: str = "ridge"
    #: each family's settings, and the free-run selection and calibration all maps share
    delay: DelayConfig = dataclasses.field(default_factory=DelayConfig)
    linear: LinearConfig = dataclasses.field(default_factory=LinearConfig)
    vae: VAEConfig = dataclasses.field(default_factory=VAEConfig)
    ridge: RidgeConfig = dataclasses.field(default_factory=RidgeConfig)
    mlp: MLPConfig = dataclasses.field(default_factory=MLPConfig)
    selection: SelectionConfig = dataclasses.field(default_factory=SelectionConfig)
    #: spike threshold of the observable (None: derived at ``threshold_level`` of its 1st-99.9th
    #: percentile range)
    spike_threshold: float | None = None
    threshold_level: float = 0.75
    #: a crossing is a new spike only after the series was this many noise standard deviations below
    #: the threshold (0: every crossing counts)
    hysteresis_noise: float = 5.0
    #: map step = fast time scale (10th percentile ISI) / this, in whole strides of the data step
    samples_per_fast: float = 32.0
    #: ... and at most this many times the spikes' median rise time, threshold to peak (None: no bound)
    step_per_rise: float | None = 1.5
    #: the delay window spans this many fast time scales, within [min_window, max_window] samples
    window_fast: float = 2.5
    min_window: int = 8
    max_window: int = 128
    #: the map step in series time units, overriding the rule (None: the rule)
    dt: float | None = None
    #: a series shorter than this many fast time scales (or 4 windows, or 64 samples) is an InputError
    min_fast_periods: float = 20.0
    #: single-series mode: c_norm = single_c_value + (c - p0) / s, s = single_c_scale or |p0|
    single_c_value: float = 1.0
    single_c_scale: float | None = None
    #: torch threads during fit and simulation (None: leave torch alone)
    num_threads: int | None = 1
    #: a round stops training candidates once one scores this well
    good_score: float = 0.1
    #: while the best map scores worse, a whole new round runs with fresh random streams
    restart_score: float = 0.15
    #: candidates trained side by side in forked processes (None: the usable cores when num_threads is 1)
    n_jobs: int | None = None
    #: at most this many extra rounds in single-series and in tagged mode
    restarts: int = 2
    tagged_restarts: int = 0

    @classmethod
    def from_dict(cls, data: dict):
        return super().from_dict(translate_fit_config(data))

    @property
    def family_settings(self) -> RidgeConfig | MLPConfig:
        """The settings of ``map_family``."""
        return {"ridge": self.ridge, "mlp": self.mlp}[self.map_family]

    def candidates(self) -> int:
        """Map candidates per round (the map family's ``candidates``)."""
        return self.family_settings.candidates

    def map_settings(self, mode: str) -> tuple[RidgeConfig | MLPConfig, SelectionConfig]:
        """The map family's settings and the selection's for a fit in ``mode`` ("single" or "tagged"),
        without the calibration where the family does not calibrate."""
        family = self.family_settings
        sel = self.selection if family.calibrate else self.selection.without_calibration()
        return family.for_mode(mode), sel

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            hint = hints[f.name]
            if isinstance(hint, type) and issubclass(hint, ConfigBase) and not isinstance(getattr(self, f.name), hint):
                raise ConfigError(f"{f.name} must be a {hint.__name__}, got {type(getattr(self, f.name)).__name__}")
        check_choice("encoder", self.encoder, ENCODER_FAMILIES)
        if self.noisy_encoder is not None:
            check_choice("noisy_encoder", self.noisy_encoder, ENCODER_FAMILIES)
        DelayConfig(slow=self.noisy_slow)  # the same checks as delay.slow (raises ConfigError)
        check_choice("map_family", self.map_family, MAP_FAMILY_NAMES)
        if self.spike_threshold is not None:
            check_range("spike_threshold", self.spike_threshold, -1e300, 1e300)
        check_range("threshold_level", self.threshold_level, 0.05, 0.95)
        check_range("hysteresis_noise", self.hysteresis_noise, 0.0, 1e3)
        check_positive("samples_per_fast", self.samples_per_fast)
        if self.step_per_rise is not None:
            check_positive("step_per_rise", self.step_per_rise)
        check_positive("window_fast", self.window_fast)
        check_int_range("min_window", self.min_window, 1)
        check_int_range("max_window", self.max_window, self.min_window)
        if self.dt is not None:
            check_positive("dt", self.dt)
        check_positive("min_fast_periods", self.min_fast_periods, allow_zero=True)
        check_range("single_c_value", self.single_c_value, -1e6, 1e6)
        if self.single_c_scale is not None:
            check_positive("single_c_scale", self.single_c_scale)
        if self.n_jobs is not None:
            check_int_range("n_jobs", self.n_jobs, 1)
        check_positive("good_score", self.good_score, allow_zero=True)
        check_positive("restart_score", self.restart_score, allow_zero=True)
        check_int_range("restarts", self.restarts, 0, 100)
        check_int_range("tagged_restarts", self.tagged_restarts, 0, 100)
        if self.num_threads is not None:
            check_int_range("num_threads", self.num_threads, 1)
