"""dynamap: reconstruct a parameterised dynamical system from a single scalar time series."""

from ._core.errors import ConfigError, DynamapError, InputError, NumericalError
from ._core.types import Series, Trajectory
from .analysis.lyapunov import LyapunovResult, lyapunov_map, lyapunov_spectrum
from .systems import SYSTEMS, DiscreteMap, Flow, get_system, list_systems, simulate

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DiscreteMap",
    "DynamapError",
    "Flow",
    "InputError",
    "LyapunovResult",
    "NumericalError",
    "SYSTEMS",
    "Series",
    "Trajectory",
    "get_system",
    "list_systems",
    "lyapunov_map",
    "lyapunov_spectrum",
    "simulate",
]
