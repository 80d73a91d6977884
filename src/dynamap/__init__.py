"""dynamap: reconstruct a parameterised dynamical system from a single scalar time series.

Public names only; everything else lives in private modules. See the README for a tour.
"""

from ._core.errors import ConfigError, DynamapError, InputError, NonStationaryWarning, NumericalError
from ._core.protocols import MapLike
from ._core.types import Series, Trajectory
from ._core.version import VERSION
from .analysis.compare import compare
from .analysis.fixed_points import (
    FixedPoint,
    compare_fixed_points,
    fixed_points,
    flow_equilibria,
    map_fixed_points,
)
from .analysis.lyapunov import LyapunovResult, lyapunov_spectrum
from .analysis.metrics import (
    compare_series,
    isi_wasserstein,
    power_spectrum_hellinger,
    state_space_divergence,
)
from .analysis.regimes import RegimeInfo, classify
from .analysis.scores import (
    heldout_accuracy,
)
from .analysis.spikes import burst_stats, spike_times
from .analysis.sweep import SweepResult, SweepSettings, sweep
from .io.series import read_series, write_series
from .systems import SYSTEMS, DiscreteMap, Flow, get_system, list_systems, simulate

__version__ = VERSION

_LAZY = {  # names whose modules import torch: loaded on first use, so `import dynamap` stays light
    "DynamapEnsemble": "dynamap.pipeline.ensemble",
    "DynamapModel": "dynamap.pipeline.estimator",
    "FitConfig": "dynamap.pipeline.config",
    "DelayConfig": "dynamap.training.config",
    "LinearConfig": "dynamap.training.config",
    "MLPConfig": "dynamap.training.config",
    "RidgeConfig": "dynamap.training.config",
    "SelectionConfig": "dynamap.training.config",
    "VAEConfig": "dynamap.training.config",
    "fit": "dynamap.pipeline.estimator",
    "fit_ensemble": "dynamap.pipeline.ensemble",
    "load_ensemble": "dynamap.pipeline.ensemble",
    "load_model": "dynamap.pipeline.estimator",
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
    "DynamapEnsemble",
    "DynamapError",
    "DynamapModel",
    "FitConfig",
    "FixedPoint",
    "Flow",
    "InputError",
    "LyapunovResult",
    "DelayConfig",
    "LinearConfig",
    "MLPConfig",
    "MapLike",
    "NonStationaryWarning",
    "NumericalError",
    "RegimeInfo",
    "RidgeConfig",
    "SelectionConfig",
    "Series",
    "SweepResult",
    "SweepSettings",
    "Trajectory",
    "VAEConfig",
    "burst_stats",
    "classify",
    "compare",
    "compare_fixed_points",
    "compare_series",
    "fit",
    "fit_ensemble",
    "fixed_points",
    "flow_equilibria",
    "get_system",
    "heldout_accuracy",
    "isi_wasserstein",
    "list_systems",
    "load_ensemble",
    "load_model",
    "lyapunov_spectrum",
    "map_fixed_points",
    "power_spectrum_hellinger",
    "read_series",
    "simulate",
    "spike_times",
    "state_space_divergence",
    "sweep",
    "write_series",
]
