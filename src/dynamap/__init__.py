"""dynamap: reconstruct a parameterised dynamical system from a single scalar time series.

Public names only; everything else lives in private modules. See the README for a tour.
"""

from ._core.errors import ConfigError, DynamapError, InputError, NumericalError
from ._core.protocols import MapLike
from ._core.types import Series, Trajectory
from .analysis.fixed_points import compare_fixed_points, flow_equilibria, map_fixed_points
from .analysis.lyapunov import LyapunovResult, lyapunov_flow, lyapunov_map, lyapunov_spectrum
from .analysis.metrics import (
    compare_series,
    heldout_accuracy,
    isi_wasserstein,
    lyapunov_sign_agreement,
    power_spectrum_hellinger,
    regime_sequence,
    regime_sequence_chance,
    regime_sequence_lcs,
    regime_sequence_score,
    state_space_divergence,
    transition_points,
)
from .analysis.regimes import RegimeInfo, classify
from .analysis.spikes import burst_stats, spike_times
from .analysis.sweep import SweepResult, SweepSettings, sweep_system
from .io.series import read_series, write_series
from .systems import SYSTEMS, DiscreteMap, Flow, get_system, list_systems, simulate

__version__ = "0.1.0"

_LAZY = {  # names whose modules import torch: loaded on first use, so `import dynamap` stays light
    "DynamapModel": "dynamap.pipeline.fit",
    "FitConfig": "dynamap.pipeline.config",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dynamap' has no attribute {name!r}")


__all__ = [
    "SYSTEMS",
    "ConfigError",
    "DiscreteMap",
    "DynamapError",
    "DynamapModel",
    "FitConfig",
    "Flow",
    "InputError",
    "LyapunovResult",
    "MapLike",
    "NumericalError",
    "RegimeInfo",
    "Series",
    "SweepResult",
    "SweepSettings",
    "Trajectory",
    "burst_stats",
    "classify",
    "compare_fixed_points",
    "compare_series",
    "flow_equilibria",
    "get_system",
    "heldout_accuracy",
    "isi_wasserstein",
    "list_systems",
    "lyapunov_flow",
    "lyapunov_map",
    "lyapunov_sign_agreement",
    "lyapunov_spectrum",
    "map_fixed_points",
    "power_spectrum_hellinger",
    "read_series",
    "regime_sequence",
    "regime_sequence_chance",
    "regime_sequence_lcs",
    "regime_sequence_score",
    "simulate",
    "spike_times",
    "state_space_divergence",
    "sweep_system",
    "transition_points",
    "write_series",
]
