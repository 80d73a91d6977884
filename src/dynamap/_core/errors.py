"""Exception hierarchy.

Every error that dynamap raises because of the *user's input* derives from
:class:`DynamapError`, so the CLI can turn it into exit status 2 with one line.
Messages say what is wrong, where, and how to fix it.
"""

from __future__ import annotations

__all__ = ["DynamapError", "InputError", "ConfigError", "NumericalError", "NonStationaryWarning"]


class DynamapError(Exception):
    """Base class of all errors raised by dynamap on purpose."""


class InputError(DynamapError, ValueError):
    """A user-supplied value (argument, file, data) is invalid."""


class ConfigError(InputError):
    """A configuration field is invalid; the message names the field."""


class NumericalError(DynamapError, ArithmeticError):
    """A computation failed numerically (diverged orbit, step size underflow)."""


class NonStationaryWarning(UserWarning):
    """A series given to a fit changes regime over time (:mod:`dynamap.analysis.stationarity`)."""
