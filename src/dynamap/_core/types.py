"""Plain data containers shared across the package.

Vocabulary (DynamicalSystems.jl style): a *series* is 1-D samples of one observable; a *trajectory*
is (n_steps, dim) states; an *orbit* is the iterates of a map; ``p`` is the control parameter.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Series", "Trajectory"]


@dataclasses.dataclass(frozen=True, eq=False)
class Series:
    """Uniformly sampled scalar series ``values[i]`` at time ``t0 + i*dt``.

    ``param_value`` is the control-parameter tag of the recording (None when unknown).
    """

    values: np.ndarray
    dt: float
    t0: float = 0.0
    name: str = "x"
    param_value: float | None = None
    source: str = ""

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def t(self) -> np.ndarray:
        return self.t0 + self.dt * np.arange(len(self))

    @property
    def duration(self) -> float:
        return self.dt * max(len(self) - 1, 0)


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectory:
    """States ``states[i]`` (n_steps, dim) at times ``t[i]``; variable names in ``variables``."""

    t: np.ndarray
    states: np.ndarray
    variables: tuple[str, ...]
    dt: float
    status: str = "ok"

    def __len__(self) -> int:
        return int(self.states.shape[0])

    def variable(self, name: str) -> np.ndarray:
        return self.states[:, self.variables.index(name)]

    def series(self, name: str, param_value: float | None = None) -> Series:
        t0 = float(self.t[0]) if len(self.t) else 0.0
        return Series(self.variable(name).copy(), self.dt, t0, name, param_value)
