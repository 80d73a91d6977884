"""Lookup of the built-in systems by name."""

from __future__ import annotations

from .._core.errors import InputError
from .base import DiscreteMap, Flow
from .bursters import MORRIS_LECAR_BURSTER, PLANT_BURSTER
from .classic import HENON, HINDMARSH_ROSE, LOGISTIC, LORENZ, ROSSLER
from .hh import HH_BURSTER

__all__ = ["SYSTEMS", "get_system", "list_systems"]

SYSTEMS: dict[str, Flow | DiscreteMap] = {
    s.name: s
    for s in (HH_BURSTER, HINDMARSH_ROSE, MORRIS_LECAR_BURSTER, PLANT_BURSTER, LORENZ, ROSSLER, HENON,
              LOGISTIC)
}


def list_systems() -> list[str]:
    return sorted(SYSTEMS)


def get_system(name: str) -> Flow | DiscreteMap:
    """The built-in system called ``name`` (e.g. ``"hh-burster"``)."""
    try:
        return SYSTEMS[name]
    except KeyError:
        raise InputError(
            f"unknown system {name!r}; choose one of: {', '.join(list_systems())}"
        ) from None
