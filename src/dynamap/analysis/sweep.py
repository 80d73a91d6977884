"""Parameter sweeps (orbit diagrams) of any system: built-in flows and maps, and learned maps.

Each parameter value is simulated, the transient dropped, and the observable analysed by
:func:`~dynamap.analysis.regimes.classify`. A numerical failure at one value is recorded as a status
on that point; the sweep goes on. Flows run on several threads (the compiled kernel releases the GIL);
a map with a batched fast path (a learned map) iterates all values as one batch.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._core.errors import InputError
from ..systems.base import Flow
from ..systems.simulate import check_times, flow_run
from .regimes import classify

__all__ = ["SweepSettings", "SweepResult", "as_sweep", "flow_exponent", "flow_parts", "sweep", "sweep_dict",
           "sweep_values"]

#: a map's orbit whose step |z(n+1) - z(n)| shrank by more than e^REST_DECAY over the exponent's
#: steps is coming to rest (no direction of motion; its own largest exponent is the flow's)
REST_DECAY = 3.0


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """How each point of a sweep is computed; a field left None takes the system's default.

    Times are in the system's time unit: model time for a flow and for a learned map (whose step is
    its sampling step), iterations for a built-in map. ``dt`` is the sampling step of a flow's
    observable (a map is sampled at every step). ``t_end`` includes the ``transient``.
    """

    t_end: float | None = None
    transient: float | None = None
    dt: float | None = None
    lyapunov: bool = True
    spike_threshold: float | None = None
    rtol: float | None = None
    atol: float | None = None

    def __post_init__(self):
        if None not in (self.t_end, self.transient, self.dt):
            check_times(self.t_end, self.transient, self.dt)

    def resolved(self, system) -> SweepSettings:
        """These settings with the system's defaults filled in (validated)."""
        s = dataclasses.replace(
            self,
            t_end=float(system.default_t_end if self.t_end is None else self.t_end),
            transient=float(system.default_transient if self.transient is None else self.transient),
            dt=float((system.default_dt if self.dt is None else self.dt) if isinstance(system, Flow)
                     else system.dt),
        )
        check_times(s.t_end, s.transient, s.dt)
        return s


@dataclasses.dataclass
class SweepResult:
    """Points of a sweep: ``{"param", "source", "settings", "points": [{"value", "regime",
    "spikes_per_burst", "isi_mean", "lyapunov_max", "status", ...}]}``, the same for every system;
    an ensemble's sweep also has ``ensemble`` (:func:`dynamap.analysis.ensemble.combine_sweeps`)."""

    param: str
    points: list[dict]
    source: dict
    settings: dict
    ensemble: dict | None = None

    def to_dict(self) -> dict:
        out = {"param": self.param, "source": self.source, "settings": self.settings, "points": self.points}
        if self.ensemble is not None:
            out["ensemble"] = self.ensemble
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> SweepResult:
        """A sweep from its ``sweep.json`` dict."""
        try:
            return cls(param=data["param"], points=list(data["points"]), source=dict(data.get("source") or {}),
                       settings=dict(data.get("settings") or {}), ensemble=data.get("ensemble"))
        except (KeyError, TypeError) as e:
            raise InputError(f"not a sweep (sweep.json schema): missing {e}") from None

    @property
    def values(self) -> np.ndarray:
        return np.array([pt["value"] for pt in self.points])

    @property
    def regimes(self) -> list[str]:
        return [pt["regime"] for pt in self.points]


def as_sweep(obj) -> SweepResult:
    """A :class:`SweepResult` or a dict of the ``sweep.json`` schema, as a :class:`SweepResult`."""
    return obj if isinstance(obj, SweepResult) else SweepResult.from_dict(obj)


def sweep_dict(obj):
    """The ``sweep.json`` dict of a :class:`SweepResult`; anything else as it is (a dict read from a
    file; its schema is the caller's to check)."""
    return obj.to_dict() if isinstance(obj, SweepResult) else obj


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


def _failed(message: str) -> dict:
    return {"regime": "failed", "status": "failed", "message": message, "spikes_per_burst": [],
            "lyapunov_max": None}


def _labelled(x: np.ndarray, dt: float, threshold: float, hysteresis: float, le: float | None,
              y0, final) -> dict:
    out = classify(x, dt, threshold, lyapunov_max=le, hysteresis=hysteresis).to_dict()
    out["status"] = "ok"
    out["initial_state"] = [float(v) for v in y0]
    out["final_state"] = [float(v) for v in final]
    return out


def _point_flow(system: Flow, p: np.ndarray, s: SweepSettings, threshold: float, y0) -> dict:
    run = flow_run(system, p, y0=y0, t_end=s.t_end, transient=s.transient, dt=s.dt,
                   n_lyapunov=1 if s.lyapunov else 0, rtol=s.rtol, atol=s.atol)
    if run.status != 0 or not np.all(np.isfinite(run.samples)):
        return _failed(run.message)
    le = float(run.lyapunov[0]) if s.lyapunov else None
    return _labelled(system.decode(run.samples), s.dt, threshold, 0.0, le, y0, run.final_state)


def _map_steps(system, s: SweepSettings) -> tuple[int, int, int]:
    """(record steps, transient steps, Lyapunov steps) of a map's orbit."""
    n_total, n_skip = int(round(s.t_end / system.dt)), int(round(s.transient / system.dt))
    n_rec = n_total - n_skip
    if n_rec < 1:
        raise InputError(f"t_end {s.t_end:g} leaves no steps after the transient; raise it")
    if n_rec > 5e7:
        raise InputError(f"{n_rec} steps is too many; lower t_end")
    return n_rec, n_skip, min(n_rec, int(system.default_lyapunov_steps))


def _map_points(system, pvecs: np.ndarray, s: SweepSettings, threshold: float, x0: np.ndarray,
                n_jobs: int | None, progress: bool) -> list[dict]:
    """Points of a map: its decoded orbits (``system.orbits``: a learned map's values as one batch) and
    the largest exponents from the final states (``system.largest_lyapunov``)."""
    n_rec, n_skip, n_le = _map_steps(system, s)
    dt, hysteresis = float(system.dt), float(system.spike_hysteresis)
    xs, finals = system.orbits(pvecs, n_rec, n_skip, x0=x0, progress=progress, processes=n_jobs)
    les = np.full(len(pvecs), np.nan)
    flows = np.full((len(pvecs), 2), np.nan)
    ok = np.all(np.isfinite(finals), axis=1)
    if s.lyapunov and ok.any():
        les[ok] = system.largest_lyapunov(finals[ok], pvecs[ok], n_le)
        if hasattr(system, "flow_lyapunov"):
            flows[ok] = system.flow_lyapunov(finals[ok], pvecs[ok], n_le)
    points = []
    for i, (x, final, le) in enumerate(zip(xs, finals, les)):
        if not np.all(np.isfinite(x)):
            points.append(_failed("orbit diverged"))
            continue
        le_unit = float(le / dt) if s.lyapunov and np.isfinite(le) else None
        pt = _labelled(x, dt, threshold, hysteresis, le_unit, x0[i], final)
        pt["lyapunov_max_per_step"] = float(le) if s.lyapunov and np.isfinite(le) else None
        if le_unit is not None and np.all(np.isfinite(flows[i])):
            parts = flow_parts(le, flows[i], n_le, dt)
            pt.update(lyapunov_motion=parts["motion"], lyapunov_transverse=parts["transverse"],
                      lyapunov_flow=parts["largest"])
        points.append(pt)
    return points


def flow_parts(raw: float, flow: np.ndarray, n_steps: int, dt: float) -> dict:
    """Per unit time, from a map's own largest exponent ``raw`` and its ``flow_lyapunov`` row ``flow``
    (motion, transverse; per step, over ``n_steps`` steps): the motion's growth, the largest transverse
    exponent, whether the orbit comes to rest (its step shrank by more than e^:data:`REST_DECAY`) and
    the flow's largest exponent (:func:`flow_exponent`)."""
    motion, transverse = (float(v) / dt for v in flow)
    at_rest = bool(float(flow[0]) * n_steps < -REST_DECAY)
    return {"motion": motion, "transverse": transverse, "own_largest": float(raw) / dt, "at_rest": at_rest,
            "largest": flow_exponent(float(raw) / dt, motion, transverse, at_rest)}


def flow_exponent(raw: float, motion: float, transverse: float, at_rest: bool) -> float:
    """A time-sampled flow's largest exponent from a map's orbit (docs/metrics.md section 6): on an
    orbit that keeps moving the larger of ``motion`` (the growth of its direction of motion: a flow's
    zero exponent, measured) and ``transverse`` (the largest exponent transverse to the motion); on
    one that comes to rest (``at_rest``) the map's own largest exponent ``raw`` (a fixed point has no
    direction of motion)."""
    return float(raw) if at_rest else float(max(motion, transverse))


def sweep(
    system,
    param: str,
    values: Sequence[float],
    settings: SweepSettings | None = None,
    *,
    fixed: Mapping[str, float] | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    continuation: str = "none",
) -> SweepResult:
    """Sweep ``param`` of any system over ``values``: a built-in flow or map, or a learned map
    (``model.as_system()``, parameter ``c``).

    Each value is simulated, the transient dropped, and the observable labelled by
    :func:`~dynamap.analysis.regimes.classify`, with the largest Lyapunov exponent unless
    ``settings.lyapunov`` is False. ``fixed`` overrides other parameters; ``progress(n)`` is called as
    points finish. With ``continuation="forward"`` (``"backward"``) the values are visited in increasing
    (decreasing) order, each starting from the last state of its neighbour, to expose hysteresis;
    otherwise every value starts from the system's initial states (flows run in ``n_jobs`` threads, a
    learned map's values as one batch split in ``n_jobs`` parts: threads for a delay map, forked
    processes for the others).
    """
    if continuation not in ("none", "forward", "backward"):
        raise InputError(f"continuation must be none, forward or backward, got {continuation!r}")
    system.parameter(param)  # raises with the valid names
    s = (settings or SweepSettings()).resolved(system)
    threshold = s.spike_threshold if s.spike_threshold is not None else system.spike_threshold
    if threshold is None:
        raise InputError(
            f"system {system.name!r} has no spike threshold; pass one (--spike-threshold) to label regimes"
        )
    values = [float(v) for v in values]
    base = dict(fixed or {})
    pvecs = np.array([system.param_vector({**base, param: v}) for v in values])
    x0 = system.initial_states(pvecs)
    run = _point_runner(system, pvecs, s, float(threshold), n_jobs, progress)
    if continuation == "none":
        points = run(np.arange(len(values)), x0, progress is not None)
    else:
        points = _continued(run, values, x0, continuation)
    points = [{"value": v, **pt} for v, pt in zip(values, points)]
    is_flow = system.kind == "flow"
    units = "per unit time" if is_flow or system.time_unit != "step" else "per step"
    extra = {}
    if not is_flow:
        n_rec, n_skip, n_le = _map_steps(system, s)
        extra = {"record_steps": n_rec, "transient_steps": n_skip, "lyapunov_steps": n_le}
    return SweepResult(
        param=param,
        points=points,
        source={"system": system.name, "fixed": {k: float(v) for k, v in base.items()},
                "continuation": continuation, **system.provenance},
        settings={**dataclasses.asdict(s), "spike_threshold": float(threshold),
                  "spike_hysteresis": float(system.spike_hysteresis), "time_unit": system.time_unit,
                  "lyapunov_units": units, **extra},
    )


def _point_runner(system, pvecs: np.ndarray, s: SweepSettings, threshold: float, n_jobs: int | None,
                  progress: Callable[[int], None] | None):
    """``run(idx, starts, bar)``: the points of the values ``pvecs[idx]`` from the states ``starts``
    (a map's as one batch; a flow's in ``n_jobs`` threads), ``progress`` told as they finish."""

    def tick(n: int) -> None:
        if progress:
            progress(n)

    def run(idx: np.ndarray, starts: np.ndarray, bar: bool) -> list[dict]:
        if system.kind != "flow":
            out = _map_points(system, pvecs[idx], s, threshold, starts, n_jobs, bar)
            tick(len(out))
            return out
        jobs = n_jobs or os.cpu_count() or 1

        def one(k: int) -> dict:
            pt = _point_flow(system, pvecs[idx[k]], s, threshold, starts[k])
            tick(1)
            return pt

        if jobs == 1 or len(idx) == 1:
            return [one(k) for k in range(len(idx))]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(one, range(len(idx))))

    return run


def _continued(run, values: list[float], x0: np.ndarray, continuation: str) -> list[dict]:
    """The points in increasing ("forward") or decreasing ("backward") order of value, each from the
    last state of its neighbour."""
    points = [None] * len(values)
    order = np.argsort(np.asarray(values), kind="stable")
    prev = None
    for i in order if continuation == "forward" else order[::-1]:
        start = x0[i : i + 1] if prev is None else np.asarray(prev, dtype=np.float64)[None, :]
        points[i] = run(np.array([i]), start, False)[0]
        prev = points[i].get("final_state") if points[i].get("status") == "ok" else None
    return points
