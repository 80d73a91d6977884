"""LearnedMap: a fitted model's map seen as a system like the built-in ones.

It satisfies the same protocol as :class:`~dynamap.systems.base.DiscreteMap` (named parameters,
``param_vector``, batched ``step``/``jacobian``, ``initial_states``, ``decode``, default times), so
``dynamap.sweep``, ``dynamap.lyapunov_spectrum``, ``dynamap.simulate``, fixed points and ``classify``
take it unchanged. Unlike a built-in map, one step advances time by the sampling step ``dt`` (in the
time unit of the training series), so times are given in that unit and exponents come per unit time.

State x: the standardised recovered state (dim = D_r); parameter p: the control input ``c`` in the
units of the training tags (single-series mode: in the units of the training value when it is known),
shape (B, 1). ``step``/``jacobian`` run in float64 (analysis precision) on a double copy of the
network; :meth:`orbits` is the float32 fast path used by sweeps and simulations.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from .._core.errors import InputError
from ..systems.base import Parameter
from . import _orbits
from .base import Float64Map

__all__ = ["LearnedMap", "MODEL_LYAPUNOV_STEPS", "MODEL_RECORD_STEPS", "MODEL_TRANSIENT_STEPS"]

#: default transient and record length of a model orbit, in map steps (our choice: enough for about a
#: hundred bursts of the HH burster at the default sampling step)
MODEL_TRANSIENT_STEPS = 5_000
MODEL_RECORD_STEPS = 20_000
#: steps used for the largest Lyapunov exponent of each sweep point
MODEL_LYAPUNOV_STEPS = 5_000


class LearnedMap:
    """The map u(n+1) = F(u(n), c) of a fitted :class:`dynamap.DynamapModel`, with control ``c``."""

    kind = "map"
    control = "c"
    default_lyapunov_steps = MODEL_LYAPUNOV_STEPS

    def __init__(self, model):
        self._model = model
        self._net64_copy = None
        self._c_last: tuple[bytes, torch.Tensor] | None = None  # the last rows of _c and their control
        tags = [float(v) for v in model.param_values_]
        self.parameters = (Parameter("c", tags[0], "", (min(tags), max(tags)),
                                     "control input, in the units of the training values"),)
        self.dt = float(model.dt_)
        self.default_dt = self.dt
        self.default_transient = MODEL_TRANSIENT_STEPS * self.dt
        self.default_t_end = (MODEL_TRANSIENT_STEPS + MODEL_RECORD_STEPS) * self.dt
        self.default_lyapunov_t_end = self.default_t_end * model.map_.spectrum_factor
        self.spike_threshold = float(model.spike_threshold_)
        self.spike_hysteresis = float(model.spike_hysteresis_)
        self.observable = str(model.name_)
        self.variables = tuple(f"u{i + 1}" for i in range(self.dim))
        self.time_unit = "time unit of the training series"
        source = str(model.source_dir_ or "")
        self.name = f"model {source}" if source else "model"
        self.provenance = {"model": source, "mode": model.mode_, "training_values": tags}

    # ------------------------------------------------------------------ the system protocol
    @property
    def _net64(self) -> Float64Map:
        """The map in float64 for ``step``/``jacobian``, made on first use (the fast paths, which
        sweeps and simulations use, run the float32 network itself)."""
        if self._net64_copy is None:
            self._net64_copy = Float64Map(self._model.map_)
        return self._net64_copy

    @property
    def model(self):
        """The fitted model this map belongs to."""
        return self._model

    @property
    def dim(self) -> int:
        return int(self._model.state_dim_)

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("c",)

    def defaults(self) -> dict[str, float]:
        return {"c": self.parameters[0].default}

    def parameter(self, name: str) -> Parameter:
        if name != "c":
            raise InputError(f"a model's control input is 'c', not {name!r}; use --param c")
        return self.parameters[0]

    def param_vector(self, params: Mapping[str, float] | None = None) -> np.ndarray:
        params = dict(params or {})
        extra = sorted(set(params) - {"c"})
        if extra:
            raise InputError(f"a model has one control input 'c'; unknown parameter(s) {extra}: use --set c=V")
        c = float(params.get("c", self.parameters[0].default))
        if not np.isfinite(c):
            raise InputError(f"c must be finite, got {c}")
        return np.array([c])

    def _c(self, p: np.ndarray, b: int) -> torch.Tensor:
        """The normalised control (b, 1) of parameter rows ``p``; the last one is kept, since an orbit
        steps many times with the same rows."""
        p = np.asarray(p, dtype=np.float64).reshape(-1)
        if p.size == 1:
            p = np.full(b, p[0])
        key = p.tobytes()
        if self._c_last is None or self._c_last[0] != key:
            self._c_last = (key, torch.from_numpy(self._model.normalise_c(p))[:, None])
        return self._c_last[1]

    def step(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self._net64.step(x, self._c(p, x.shape[0]))

    def jacobian(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Exact dF/dx (B, dim, dim) by torch.func (reverse mode, vmapped over the batch)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self._net64.jacobian(x, self._c(p, x.shape[0]))

    def decode(self, x: np.ndarray) -> np.ndarray:
        """Observable values (B,) of states (B, dim)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self._model.decode(torch.from_numpy(x)).numpy().astype(np.float64)

    def initial_states(self, p: np.ndarray, start: int = 0) -> np.ndarray:
        """Start states (B, dim) on the data attractor for parameter rows ``p`` (B, 1) or control
        values (B,): anchor number ``start`` (of 64 spread over the recording) of the training segment
        whose tag is nearest to each c. Depends on c only, so a value gives the same orbit alone or
        inside a batch."""
        c = np.asarray(p, dtype=np.float64).reshape(-1)
        return _orbits.anchor_states(self._model, c, start=start)

    def record(self, p: np.ndarray, n_total: int, n_skip: int, x0=None) -> tuple[np.ndarray, tuple[str, ...]]:
        """What :func:`~dynamap.simulate` records: the decoded observable (n_total - n_skip, 1) of the
        orbit from ``x0`` (default a state on the data) at the parameter vector ``p``."""
        start = None if x0 is None else np.asarray(x0, dtype=np.float64)[None, :]
        x, _ = self.orbits(np.asarray(p, dtype=np.float64)[None, :], n_total - n_skip, n_skip, x0=start)
        return x[0, :, None], (self.observable,)

    # ------------------------------------------------------------------ fast paths
    def orbits(self, p: np.ndarray, n_steps: int, n_transient: int, *, x0: np.ndarray | None = None,
               start: int = 0, progress: bool = False, processes: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Decoded free orbits (B, n_steps) after ``n_transient`` steps and final states (B, dim), all
        rows of ``p`` (B, 1) as one float32 batch; diverged rows are NaN. A row's orbit is the same
        alone or inside any batch (bit for bit). ``processes``: see
        :func:`dynamap.models._orbits.iterate_model`."""
        c = np.asarray(p, dtype=np.float64).reshape(-1)
        return _orbits.iterate_model(self._model, c, int(n_steps), int(n_transient), x0=x0,
                                     start_index=start, progress=progress, processes=processes)

    def largest_lyapunov(self, x0: np.ndarray, p: np.ndarray, n_steps: int,
                         v0: np.ndarray | None = None) -> np.ndarray:
        """Largest exponent per step of each row (B,) from ``x0`` (B, dim) and tangents ``v0``, by
        tangent propagation with renormalisation every step, the map in float64: for a delay map by
        its compiled loop, for the other maps by forward-mode differentiation, where the QR path with
        k = 1 from the same tangents gives the same numbers."""
        c = np.asarray(p, dtype=np.float64).reshape(-1)
        return _orbits.largest_lyapunov(self._model, x0, c, int(n_steps), v0=v0)

    def flow_lyapunov(self, x0: np.ndarray, p: np.ndarray, n_steps: int,
                      v0: np.ndarray | None = None) -> np.ndarray:
        """The largest exponent in a flow's terms, per step (B, 2), from ``x0`` (B, dim): the growth
        of the direction of motion v = u(n+1) - u(n-1) (0 on an orbit that keeps moving: a flow's zero
        exponent, measured; negative onto a fixed point) and the largest exponent transverse to it
        (the tangent space divided by v). A time-sampled flow's largest exponent is the larger of the
        two (docs/metrics.md section 6)."""
        c = np.asarray(p, dtype=np.float64).reshape(-1)
        return _orbits.flow_lyapunov(self._model, x0, c, int(n_steps), v0=v0)

    def spectrum_sums(self, x0: np.ndarray, p: np.ndarray, q: np.ndarray, n_transient: int,
                      n_steps: int) -> np.ndarray:
        """For :func:`dynamap.analysis.lyapunov.lyapunov_map`: each row's sums over the last
        ``n_steps`` of ``n_transient + n_steps`` steps of the log stretches of its tangent basis ``q``
        (B, dim, k), re-orthonormalised every step, from ``x0`` (B, dim) at ``p`` (B, 1): the map
        family's own (:meth:`StateMap.spectrum_sums <dynamap.models.base.StateMap.spectrum_sums>`, in
        float64; a delay map's compiled loop)."""
        c = np.asarray(self._model.normalise_c(np.asarray(p, dtype=np.float64).reshape(-1)), dtype=np.float64)
        return self._model.map_.spectrum_sums(x0, q, c, n_transient, n_steps)

    @property
    def spectrum_method(self) -> str:
        """How :func:`~dynamap.analysis.lyapunov.lyapunov_spectrum` computes this map's spectrum."""
        return self._model.map_.spectrum_method

    def info(self) -> dict:
        return {"name": self.name, "kind": self.kind, "dim": self.dim, "observable": self.observable,
                "control": "c", "dt": self.dt, **self.provenance}
