"""Built-in dynamical systems (flows and maps) and their ground-truth simulation."""

from .base import DiscreteMap, Flow, Parameter
from .registry import SYSTEMS, get_system, list_systems
from .simulate import simulate

__all__ = ["DiscreteMap", "Flow", "Parameter", "SYSTEMS", "get_system", "list_systems", "simulate"]
