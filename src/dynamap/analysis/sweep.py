"""Parameter sweeps (orbit diagrams) of the built-in systems.

Each parameter value is simulated, the transient dropped, and the observable analysed by
:func:`~dynamap.analysis.regimes.classify`. A numerical failure at one value is recorded as a status
on that point; the sweep goes on. Flows run on several threads (the compiled kernel releases the GIL).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._core.errors import InputError
from ..systems.base import DiscreteMap, Flow
from ..systems.simulate import _iterate_map, check_times, flow_run
from .lyapunov import lyapunov_map
from .regimes import classify

__all__ = ["SweepSettings", "SweepResult", "sweep_system", "sweep_values"]


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """How each point of a sweep is computed (times in the system's time unit)."""

    t_end: float
    transient: float
    dt: float
    lyapunov: bool = True
    spike_threshold: float | None = None
    rtol: float | None = None
    atol: float | None = None

    def __post_init__(self):
        check_times(self.t_end, self.transient, self.dt)


@dataclasses.dataclass
class SweepResult:
    """Points of a sweep in the JSON schema of SPEC section 6."""

    param: str
    points: list[dict]
    source: dict
    settings: dict

    def to_dict(self) -> dict:
        return {"param": self.param, "source": self.source, "settings": self.settings, "points": self.points}

    @property
    def values(self) -> np.ndarray:
        return np.array([pt["value"] for pt in self.points])

    @property
    def regimes(self) -> list[str]:
        return [pt["regime"] for pt in self.points]


def sweep_values(start: float, stop: float, num: int) -> np.ndarray:
    """Validated, evenly spaced parameter values (``start <= stop``, ``num >= 1``)."""
    for name, v in (("from", start), ("to", stop)):
        if not np.isfinite(v):
            raise InputError(f"--{name} must be a finite number, got {v!r}")
    if num < 1:
        raise InputError(f"--num must be at least 1, got {num}")
    if start > stop:
        raise InputError(f"--from ({start}) is above --to ({stop}); swap them")
    if num == 1:
        return np.array([float(start)])
    return np.linspace(float(start), float(stop), int(num))


def _point_flow(system: Flow, p: np.ndarray, s: SweepSettings, threshold: float, y0=None) -> dict:
    run = flow_run(
        system,
        p,
        y0=y0,
        t_end=s.t_end,
        transient=s.transient,
        dt=s.dt,
        n_lyapunov=1 if s.lyapunov else 0,
        rtol=s.rtol,
        atol=s.atol,
    )
    if run.status != 0 or not np.all(np.isfinite(run.samples)):
        return {"regime": "failed", "status": "failed", "message": run.message, "spikes_per_burst": []}
    le = float(run.lyapunov[0]) if s.lyapunov else None
    x = run.samples[:, system.observable_index]
    info = classify(x, s.dt, threshold, lyapunov_max=le)
    out = info.to_dict()
    out["status"] = "ok"
    out["initial_state"] = [float(v) for v in (system.initial_state if y0 is None else y0)]
    out["final_state"] = [float(v) for v in run.final_state]
    return out


def _point_map(system: DiscreteMap, p: np.ndarray, s: SweepSettings, threshold: float, y0=None) -> dict:
    n_total, n_skip = int(s.t_end), int(s.transient)
    states = _iterate_map(system, p, n_total, n_skip, y0)
    if not np.all(np.isfinite(states)):
        return {"regime": "failed", "status": "failed", "message": "orbit diverged", "spikes_per_burst": []}
    le = None
    if s.lyapunov:
        x0 = states[-1][None, :]
        le = float(lyapunov_map(system, x0, p[None, :], n_steps=min(n_total - n_skip, 20000), n_transient=0)[0, 0])
    x = states[:, system.observable_index]
    info = classify(x, 1.0, threshold, lyapunov_max=le)
    out = info.to_dict()
    out["status"] = "ok"
    out["initial_state"] = [float(v) for v in (system.initial_state if y0 is None else y0)]
    out["final_state"] = [float(v) for v in states[-1]]
    return out


def sweep_system(
    system: Flow | DiscreteMap,
    param: str,
    values: Sequence[float],
    settings: SweepSettings,
    *,
    fixed: Mapping[str, float] | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    continuation: str = "none",
) -> SweepResult:
    """Sweep ``param`` of a built-in system over ``values``.

    ``fixed`` overrides other parameters; ``progress(n)`` is called as points finish. With
    ``continuation="forward"`` (``"backward"``) the values are visited in increasing (decreasing) order,
    each starting from the last state of its neighbour, to expose hysteresis; otherwise every value
    starts from the system's initial state, and the values run in parallel threads.
    """
    if continuation not in ("none", "forward", "backward"):
        raise InputError(f"continuation must be none, forward or backward, got {continuation!r}")
    system.parameter(param)  # raises with the valid names
    threshold = settings.spike_threshold
    if threshold is None:
        threshold = system.spike_threshold
    if threshold is None:
        raise InputError(
            f"system {system.name!r} has no spike threshold; pass one (--spike-threshold) to label regimes"
        )
    base = dict(fixed or {})
    pvecs = [system.param_vector({**base, param: float(v)}) for v in values]
    if isinstance(system, Flow):

        def work(pv, y0=None):
            return _point_flow(system, pv, settings, threshold, y0)
    else:

        def work(pv, y0=None):
            return _point_map(system, pv, settings, threshold, y0)

    n_jobs = n_jobs or os.cpu_count() or 1
    points: list[dict] = [None] * len(pvecs)  # type: ignore[list-item]
    if continuation != "none":
        order = np.argsort(np.asarray(values, dtype=float), kind="stable")
        if continuation == "backward":
            order = order[::-1]
        y0 = None
        for i in order:
            points[i] = work(pvecs[i], y0)
            y0 = points[i].get("final_state") if points[i].get("status") == "ok" else None
            if progress:
                progress(1)
    elif n_jobs == 1 or len(pvecs) == 1 or isinstance(system, DiscreteMap):
        for i, pv in enumerate(pvecs):
            points[i] = work(pv)
            if progress:
                progress(1)
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            futures = [pool.submit(work, pv) for pv in pvecs]
            for i, f in enumerate(futures):
                points[i] = f.result()
                if progress:
                    progress(1)
    for v, pt in zip(values, points):
        pt["value"] = float(v)
    points = [{"value": pt.pop("value"), **pt} for pt in points]
    return SweepResult(
        param=param,
        points=points,
        source={
            "system": system.name,
            "fixed": {k: float(v) for k, v in base.items()},
            "continuation": continuation,
        },
        settings={
            **dataclasses.asdict(settings),
            "spike_threshold": float(threshold),
            "time_unit": system.time_unit,
            "lyapunov_units": "per unit time" if isinstance(system, Flow) else "per step",
        },
    )
