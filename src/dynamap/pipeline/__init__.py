"""The end-to-end estimator: series -> recovered states -> parameterised map."""

from .config import FitConfig
from .fit import DynamapModel
from .learned_map import LearnedMap

__all__ = ["DynamapModel", "FitConfig", "LearnedMap"]
