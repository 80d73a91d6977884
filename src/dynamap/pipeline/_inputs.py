"""Validation of the series a fit is given, and the data rules' sampling choice for them."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._core.errors import InputError
from .._core.types import Series
from ..embedding.rules import SamplingChoice, choose_sampling

__all__ = ["check_series", "sampling_for"]


def check_series(series_list, param_values):
    """The series as a list and their tags (None in single-series mode without a tag), validated."""
    if isinstance(series_list, Series):
        series_list = [series_list]
    if not isinstance(series_list, (list, tuple)) or not series_list:
        raise InputError("series_list must be a non-empty list of Series")
    for i, s in enumerate(series_list):
        if not isinstance(s, Series):
            raise InputError(f"series_list[{i}] must be a dynamap Series, got {type(s).__name__}")
        v = np.asarray(s.values, dtype=np.float64)
        if v.ndim != 1 or not np.all(np.isfinite(v)):
            raise InputError(f"series_list[{i}] must be 1-D and finite (NaN/inf found or wrong shape)")
    dts = [float(s.dt) for s in series_list]
    if not np.allclose(dts, dts[0], rtol=1e-9):
        raise InputError(f"all series must have the same sampling step dt, got {dts}; resample them first")
    if param_values is None:
        if len(series_list) > 1:
            tags = [s.param_value for s in series_list]
            if any(t is None for t in tags):
                raise InputError("several series need param_values (one per series) for tagged mode")
            param_values = tags
    else:
        param_values = [float(p) for p in param_values]
        if len(param_values) != len(series_list):
            raise InputError(
                f"param_values has {len(param_values)} entries for {len(series_list)} series; give one each"
            )
        if not np.all(np.isfinite(param_values)):
            raise InputError(f"param_values must be finite, got {param_values}")
    if param_values is not None and len(series_list) > 1 and len(set(param_values)) < 2:
        raise InputError("tagged mode needs at least two distinct param_values")
    return list(series_list), param_values


def sampling_for(xs: list[np.ndarray], dt: float, cfg) -> SamplingChoice:
    """The data rules' sampling choice (stride, window, spike threshold) for the series ``xs`` at step
    ``dt`` with the FitConfig ``cfg`` (its ``dt`` overriding the map step); every series checked to be
    long enough."""
    for i, x in enumerate(xs):
        if x.shape[0] < 64:
            raise InputError(f"series {i} is too short: {x.shape[0]} samples; need at least 64 "
                             "(and many fast oscillations); supply a longer recording")
    samp = choose_sampling(
        xs, dt, threshold=cfg.spike_threshold, threshold_level=cfg.threshold_level,
        samples_per_fast=cfg.samples_per_fast, window_fast=cfg.window_fast,
        min_window=cfg.min_window, max_window=cfg.max_window, hysteresis_noise=cfg.hysteresis_noise,
        step_per_rise=cfg.step_per_rise,
    )
    if cfg.dt is not None:
        stride = max(1, int(round(cfg.dt / dt)))
        window = int(np.clip(round(cfg.window_fast * samp.fast_time / (stride * dt)), cfg.min_window,
                             cfg.max_window))
        samp = dataclasses.replace(samp, stride=stride, dt_map=stride * dt, window=window)
    for i, x in enumerate(xs):
        n = len(range(0, x.shape[0], samp.stride))
        need = int(max(cfg.min_fast_periods * samp.fast_time / samp.dt_map, 4 * samp.window, 64))
        if n < need:
            raise InputError(
                f"series {i} is too short: {n} samples at the map step {samp.dt_map:g} "
                f"({x.shape[0] * dt:g} time units); need at least {need} ({cfg.min_fast_periods} fast "
                f"time scales of {samp.fast_time:g}); supply a longer recording"
            )
    return samp
