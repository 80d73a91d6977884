"""FitConfig: every choice of the reconstruction, frozen, self-validating, JSON round-trip.

Defaults are our choices (the paper's settings are not available); see the field notes,
docs/experiments.md for the measurements behind them, :mod:`dynamap.embedding.rules`,
:class:`dynamap.training.VAEConfig` and :class:`dynamap.training.MapConfig`.
"""

from __future__ import annotations

import dataclasses

from .._core.errors import ConfigError
from ..training._config import ConfigBase, check_choice, check_int_range, check_positive, check_range
from ..training.config import LinearConfig, MapConfig, VAEConfig
from ._compat import translate_fit_config

__all__ = ["ENCODER_FAMILIES", "FitConfig", "MAP_FAMILY_NAMES"]

#: the encoders (``FitConfig.encoder``) and the map families (``FitConfig.map_family``)
ENCODER_FAMILIES = ("delay", "linear", "vae")
MAP_FAMILY_NAMES = ("ridge", "mlp")


@dataclasses.dataclass(frozen=True)
class FitConfig(ConfigBase):
    """Settings of :class:`dynamap.DynamapModel` (the data rules, the control input, candidates and
    rounds), with the VAE's (``vae``) and the map's (``map``).

    Defaults are our choices; their measurements are in docs/experiments.md ("The fit") and the
    reasons in docs/decisions.md.

    Data rules (:mod:`dynamap.embedding.rules`):

    * ``spike_threshold`` (None): None derives it from the data (see ``threshold_level``); give a
      number to override, e.g. -30 for HH membrane potential in mV.
    * ``threshold_level`` (0.75): the derived threshold's level within the 1st-99.9th percentile range.
    * ``hysteresis_noise`` (5.0): a crossing counts as a new spike only after the series was this many
      noise standard deviations below the threshold (noise estimated from sample-to-sample
      differences; 0: every crossing counts), so a noisy recording gives one spike per spike.
    * ``samples_per_fast`` (32): map step = fast time scale (10th percentile ISI) / this, rounded to a
      whole stride of the data step; resolves spikes (HH: 0.01 s).
    * ``window_fast`` (2.5): the delay window spans this many fast time scales; shorter windows leave
      the slow variable poorly determined, longer ones made bursts too frequent.
    * ``min_window``, ``max_window`` (8, 128): bounds of the window in samples.
    * ``dt`` (None): the map's sampling step in series time units, overriding the rule.
    * ``min_fast_periods`` (20): a series shorter than this many fast time scales (or 4 windows, or
      64 map samples) is an InputError.

    The reconstruction, an encoder x a map (any with any):

    * ``encoder`` ("delay"): the states. "delay": the newest (``delay_taps`` - 1) ``delay_lag`` + 1
      samples themselves; "linear": principal components of the delay window (``linear``); "vae": the
      paper's VAE means, latent dimension read off the training (``vae``).
    * ``map_family`` ("ridge"): "ridge": fixed random features with ridge readouts (on delay states
      the parameter-aware next-generation reservoir computer :class:`dynamap.models.DelayMap`);
      "mlp": the paper's residual MLP trained on rollouts (``map``).
    * ``delay_taps`` (6), ``delay_lag`` (3): the delay encoder's state and the delay map's inputs,
      every ``delay_lag``-th sample of the history (in map steps).
    * ``delay_candidates`` (2): map candidates (random features) per round of the ridge family, in
      place of ``n_candidates``.
    * ``delay_calibrate`` (true): calibrate the ridge family's control (``map.c_shifts``); the mlp
      family always calibrates.

    Control input c:

    * ``single_c_value`` (1.0), ``single_c_scale`` (None): in single-series mode c_norm =
      single_c_value + (c - p0) / s, s = single_c_scale or |p0| (1 when p0 is 0 or unknown); a
      non-zero training value, as in the paper, so the weights of c are trained. In tagged mode
      c_norm = (c - mean(tags)) / (half the tag range).

    Candidates and rounds (whether a map free-runs like the data varies strongly between random
    streams, so the fit trains several and keeps the best by its free runs):

    * ``n_candidates`` (5): maps trained from independent random streams of the seed per round.
    * ``good_score`` (0.1): a round stops training candidates once one scores this well.
    * ``restart_score`` (0.15): while the best map scores worse, a whole new round (VAE, states,
      candidates) runs with fresh streams; 0.15 asks for one only when a fit has failed.
    * ``restarts`` (2), ``tagged_restarts`` (0): at most this many extra rounds in single-series and
      tagged mode (a tagged round takes 7-10 minutes).
    * ``tagged_steps_factor`` (2.0): tagged mode multiplies each stage's steps by this, since one map
      learns several attractors.
    * ``n_jobs`` (None): candidates trained side by side in forked processes; None: the usable cores
      when ``num_threads`` is 1, else 1. A candidate's map depends only on the seed and its index.
    * ``num_threads`` (1): torch threads during fit and simulation (None: leave torch alone); the
      networks are tiny and two threads on a shared 2-core machine made a VAE step 60x slower.
    """

    vae: VAEConfig = dataclasses.field(default_factory=VAEConfig)
    map: MapConfig = dataclasses.field(default_factory=MapConfig)
    linear: LinearConfig = dataclasses.field(default_factory=LinearConfig)
    encoder: str = "delay"
    map_family: str = "ridge"
    delay_taps: int = 6
    delay_lag: int = 3
    delay_candidates: int = 2
    delay_calibrate: bool = True
    spike_threshold: float | None = None
    threshold_level: float = 0.75
    hysteresis_noise: float = 5.0
    samples_per_fast: float = 32.0
    window_fast: float = 2.5
    min_window: int = 8
    max_window: int = 128
    dt: float | None = None
    min_fast_periods: float = 20.0
    single_c_value: float = 1.0
    single_c_scale: float | None = None
    num_threads: int | None = 1
    n_candidates: int = 5
    good_score: float = 0.1
    restart_score: float = 0.15
    n_jobs: int | None = None
    tagged_steps_factor: float = 2.0
    restarts: int = 2
    tagged_restarts: int = 0

    @classmethod
    def from_dict(cls, data: dict):
        return super().from_dict(translate_fit_config(data))

    def candidates(self) -> int:
        """Map candidates per round: ``delay_candidates`` for the ridge family, else ``n_candidates``."""
        return self.delay_candidates if self.map_family == "ridge" else self.n_candidates

    def calibrates(self) -> bool:
        """Whether the fit calibrates the control (the ridge family only with ``delay_calibrate``)."""
        return self.map_family != "ridge" or self.delay_calibrate

    def map_settings(self, mode: str) -> MapConfig:
        """The map settings of a fit in ``mode``: ``map``, in tagged mode with the stage steps multiplied
        by ``tagged_steps_factor``, without calibration unless :meth:`calibrates`."""
        mcfg = self.map
        if not self.calibrates():
            mcfg = dataclasses.replace(mcfg, c_shifts=(), c_refine=())
        if mode == "tagged":
            steps = tuple(max(1, round(n * self.tagged_steps_factor)) for n in mcfg.stage_steps)
            mcfg = dataclasses.replace(mcfg, stage_steps=steps)
        return mcfg

    def delay_span(self) -> int:
        """Samples in the delay encoder's state: (delay_taps - 1) delay_lag + 1."""
        return (self.delay_taps - 1) * self.delay_lag + 1

    def __post_init__(self):
        if not isinstance(self.vae, VAEConfig):
            raise ConfigError(f"vae must be a VAEConfig, got {type(self.vae).__name__}")
        if not isinstance(self.map, MapConfig):
            raise ConfigError(f"map must be a MapConfig, got {type(self.map).__name__}")
        if not isinstance(self.linear, LinearConfig):
            raise ConfigError(f"linear must be a LinearConfig, got {type(self.linear).__name__}")
        check_choice("encoder", self.encoder, ENCODER_FAMILIES)
        check_choice("map_family", self.map_family, MAP_FAMILY_NAMES)
        check_int_range("delay_taps", self.delay_taps, 1, 64)
        check_int_range("delay_lag", self.delay_lag, 1, 64)
        check_int_range("delay_candidates", self.delay_candidates, 1)
        if not isinstance(self.delay_calibrate, bool):
            raise ConfigError(f"delay_calibrate must be true or false, got {self.delay_calibrate!r}")
        if self.spike_threshold is not None:
            check_range("spike_threshold", self.spike_threshold, -1e300, 1e300)
        check_range("threshold_level", self.threshold_level, 0.05, 0.95)
        check_range("hysteresis_noise", self.hysteresis_noise, 0.0, 1e3)
        check_positive("samples_per_fast", self.samples_per_fast)
        check_positive("window_fast", self.window_fast)
        check_int_range("min_window", self.min_window, 1)
        check_int_range("max_window", self.max_window, self.min_window)
        if self.dt is not None:
            check_positive("dt", self.dt)
        check_positive("min_fast_periods", self.min_fast_periods, allow_zero=True)
        check_range("single_c_value", self.single_c_value, -1e6, 1e6)
        if self.single_c_scale is not None:
            check_positive("single_c_scale", self.single_c_scale)
        check_int_range("n_candidates", self.n_candidates, 1)
        if self.n_jobs is not None:
            check_int_range("n_jobs", self.n_jobs, 1)
        check_range("tagged_steps_factor", self.tagged_steps_factor, 0.01, 100.0)
        check_positive("good_score", self.good_score, allow_zero=True)
        check_positive("restart_score", self.restart_score, allow_zero=True)
        check_int_range("restarts", self.restarts, 0, 100)
        check_int_range("tagged_restarts", self.tagged_restarts, 0, 100)
        if self.num_threads is not None:
            check_int_range("num_threads", self.num_threads, 1)
