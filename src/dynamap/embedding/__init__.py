"""Delay embedding: strided delay windows, data-derived sampling rules, lag/dimension estimators."""

from .delay import DelayWindows, delay_view
from .estimators import cao_e1, false_nearest_neighbours, fnn_dimension, mi_lag, mutual_information
from .rules import SamplingChoice, choose_sampling, fast_time_scale, spike_threshold

__all__ = [
    "DelayWindows",
    "SamplingChoice",
    "cao_e1",
    "choose_sampling",
    "delay_view",
    "false_nearest_neighbours",
    "fast_time_scale",
    "fnn_dimension",
    "mi_lag",
    "mutual_information",
    "spike_threshold",
]
