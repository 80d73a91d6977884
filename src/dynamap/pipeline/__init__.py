"""The end-to-end runs: the estimator (series -> recovered states -> parameterised map), its
free-running check, fitting from files, and the demo."""

from .config import FitConfig
from .estimator import DynamapModel, fit, load_model

__all__ = ["DynamapModel", "FitConfig", "fit", "load_model"]
