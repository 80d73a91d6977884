"""The parts of :mod:`dynamap.analysis.compare` that read sweep points, score tagged mode and compare
fixed points; :mod:`dynamap.analysis.compare` re-exports the public names.

* sweep points: :func:`_points` (validation), :func:`point_label` (regime labels), :func:`_ordered`,
  :func:`_same_grid`;
* :func:`evaluate_tagged`: tagged mode, c in the units of the true parameter;
* :func:`evaluate_fixed_points`: the map's fixed point near the encoded ODE equilibrium.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._core.errors import InputError
from .._core.types import Series
from .fixed_points import compare_fixed_points, flow_equilibria, map_fixed_points
from .metrics import isi_wasserstein
from .scores import (
    beyond_lookup_recall,
    heldout_accuracy,
    lyapunov_sign_agreement,
    nearest_tag_lookup,
    transition_points,
)
from .sweep import sweep_dict

__all__ = ["LE_SIGN_TOL", "evaluate_fixed_points", "evaluate_tagged", "point_label"]

#: zero band of the largest-exponent sign comparison, per unit time (our choice for the HH burster:
#: wider than the exponents that periodic orbits show from finite records and the map's noisier
#: estimate, narrower than those of its chaotic bursting)
LE_SIGN_TOL = 0.1

#: regimes that count as "a spiking pattern with bursts" for the bursting -> tonic transition
_BURSTY = ("bursting", "mixed", "irregular")


# ---------------------------------------------------------------------------------- sweep points


def _points(sweep, name: str) -> list[dict]:
    """The validated points of a sweep dict or :class:`~dynamap.SweepResult` (each has value and regime)."""
    sweep = sweep_dict(sweep)
    try:
        pts = list(sweep["points"])
    except (KeyError, TypeError):
        raise InputError(f"{name} must be a sweep dict with a 'points' list (sweep.json schema)") from None
    if not pts:
        raise InputError(f"{name} has no points; sweep at least one parameter value")
    for i, p in enumerate(pts):
        if not isinstance(p, Mapping) or "regime" not in p or "value" not in p:
            raise InputError(f"{name}['points'][{i}] must have 'value' and 'regime', got {p!r}")
    return pts


def _spb(p: Mapping) -> tuple[int, ...]:
    """The sorted distinct spikes-per-burst values of a sweep point."""
    return tuple(sorted({int(v) for v in (p.get("spikes_per_burst") or [])}))


def point_label(p: Mapping):
    """Regime label of a sweep point for regime sequences (hashable, JSON-able via :func:`_label_json`).

    ``bursting``/``mixed`` carry their spikes-per-burst set (``("bursting", (3,))``); ``irregular``
    is one class whatever values it shows (they depend on the record length); other regimes
    (``silent``, ``tonic``, ``failed``) are plain strings.
    """
    r = str(p["regime"])
    if r in ("bursting", "mixed"):
        return (r, _spb(p))
    return r


def _label_json(lab) -> str:
    """A :func:`point_label` as a string (``"bursting 3"``)."""
    if isinstance(lab, tuple):
        return f"{lab[0]} {','.join(map(str, lab[1])) or '(no complete burst)'}"
    return str(lab)


def _ordered(pts: list[dict]) -> list[dict]:
    """Sweep points in increasing value."""
    return sorted(pts, key=lambda p: float(p["value"]))


def _same_grid(tv: np.ndarray, mv: np.ndarray, value_tol: float) -> bool:
    """Sorted parameter values ``tv`` and ``mv`` are the same grid, to ``value_tol`` relative."""
    return tv.size == mv.size and not np.any(np.abs(tv - mv) > value_tol * (1 + np.abs(tv)))


# ------------------------------------------------------------------------------------ tagged mode


def _tonic_onset(values: Sequence[float], regimes: Sequence[str]) -> float | None:
    """Bursting -> tonic transition: the last place, in increasing value, where a bursty point
    (bursting, mixed or irregular) is followed by a tonic one (:func:`transition_points`); None when
    there is none."""
    found = transition_points(values, ["bursty" if r in _BURSTY else r for r in regimes], "bursty", "tonic")
    return found[-1] if found else None


def _le(p: Mapping, key: str = "lyapunov_max") -> float:
    """A sweep point's largest Lyapunov exponent (NaN when unknown); ``key`` "lyapunov_flow": the
    flow's (a learned map's in a flow's terms, a flow's own largest exponent)."""
    v = p.get(key, p.get("lyapunov_max"))
    return float("nan") if v is None else float(v)


def _paired(true_sweep: Mapping, model_sweep: Mapping, value_tol: float):
    """Both sweeps' ordered points and values, checked to cover the same parameter values."""
    tp = _ordered(_points(true_sweep, "true_sweep"))
    mp = _ordered(_points(model_sweep, "model_sweep"))
    tv = np.array([float(p["value"]) for p in tp])
    mv = np.array([float(p["value"]) for p in mp])
    if not _same_grid(tv, mv, value_tol):
        raise InputError(
            "true_sweep and model_sweep must cover the same parameter values; "
            f"got {tv.size} and {mv.size} points"
        )
    return tp, mp, tv, mv


def _per_point(tp: list[dict], mp: list[dict]) -> list[dict]:
    """Per value: the true and the model label and whether they match (the held-out rule)."""
    per_point = []
    for a, b in zip(tp, mp):
        match = heldout_accuracy([a], [b]) == 1.0
        per_point.append({"value": float(a["value"]), "true": _label_json(point_label(a)),
                          "model": _label_json(point_label(b)), "match": bool(match)})
    return per_point


def _lookup_scores(tp: list[dict], mp: list[dict], tv: np.ndarray, per_point: list[dict],
                   tag_points: Sequence[Mapping]) -> dict:
    """The nearest-tag lookup's scores; adds its label, tag and match to each of ``per_point``."""
    tag_points = list(tag_points)
    look = nearest_tag_lookup(tv, tag_points)
    lookup_ok = [heldout_accuracy([a], [c]) == 1.0 for a, c in zip(tp, look)]
    for pp, c, ok in zip(per_point, look, lookup_ok):
        pp.update({"lookup": _label_json(point_label(c)), "lookup_tag": c["tag"], "lookup_match": bool(ok)})
    return {
        "nearest_tag_baseline": float(heldout_accuracy(tp, look)),
        "beyond_lookup_recall": beyond_lookup_recall(tp, mp, look),
        "n_lookup_match": int(sum(lookup_ok)),
        "n_lookup_wrong": int(len(lookup_ok) - sum(lookup_ok)),
        "tags": sorted(float(p["value"]) for p in tag_points),
    }


def _transition(tp: list[dict], mp: list[dict], tv: np.ndarray, mv: np.ndarray) -> dict:
    """The bursting -> tonic onset of both sweeps and its absolute error."""
    t_on = _tonic_onset(tv, [p["regime"] for p in tp])
    m_on = _tonic_onset(mv, [p["regime"] for p in mp])
    return {
        "kind": "bursting -> tonic",
        "true": t_on,
        "model": m_on,
        "abs_error": None if t_on is None or m_on is None else abs(m_on - t_on),
    }


def _lyapunov_agreement(tp: list[dict], mp: list[dict], le_tol: float, key: str = "lyapunov_max"
                        ) -> float | None:
    """Largest-exponent sign agreement over the points whose true exponent is known (None: none is);
    the model's exponent under ``key`` (see :func:`_le`)."""
    le_t = np.array([_le(p) for p in tp])
    le_m = np.array([_le(p, key) for p in mp])
    known = np.isfinite(le_t)
    return float(lyapunov_sign_agreement(le_t[known], le_m[known], le_tol)) if known.any() else None


def _periodic_near_zero(tp: list[dict], mp: list[dict], le_tol: float, key: str) -> dict:
    """Over the points where the system is periodic (bursting or tonic with |largest exponent| <=
    ``le_tol``): how many have the model's exponent under ``key`` within ``le_tol`` of 0."""
    per = [(a, b) for a, b in zip(tp, mp) if a.get("regime") in ("bursting", "tonic")
           and np.isfinite(_le(a)) and abs(_le(a)) <= le_tol]
    near = sum(bool(np.isfinite(_le(b, key)) and abs(_le(b, key)) <= le_tol) for _, b in per)
    return {"n_periodic": len(per), "n_near_zero": int(near), "share": near / len(per) if per else None}


def _isi_w1_rel(tp: list[dict], mp: list[dict]) -> list[float]:
    """Per point where both spike (and the model did not fail): ISI W1 over the true mean ISI."""
    rel = []
    for a, b in zip(tp, mp):
        ia, ib = np.asarray(a.get("isi") or [], float), np.asarray(b.get("isi") or [], float)
        if ia.size and ib.size and b["regime"] != "failed":
            rel.append(isi_wasserstein(ia, ib) / float(np.mean(ia)))
    return rel


def evaluate_tagged(
    true_sweep: Mapping, model_sweep: Mapping, *, tag_points: Sequence[Mapping] | None = None,
    le_tol: float = LE_SIGN_TOL, value_tol: float = 1e-6
) -> dict:
    """Tagged mode: the map's c is in the true parameter's units; points pair up by value.

    * ``heldout_accuracy``: fraction of values whose regime and spikes-per-burst set match
      (:func:`dynamap.analysis.scores.heldout_accuracy`; a failed model point is a miss);
    * ``transition``: bursting -> tonic onset (:func:`_tonic_onset`) of both and the absolute error
      (None when either sweep has none);
    * ``lyapunov_sign_agreement``: largest exponents (per unit time) with zero band ``le_tol``
      (:data:`LE_SIGN_TOL`), over points where the true exponent is known; ``lyapunov_periodic``:
      of the values where the system is periodic, how many have the map's exponent within ``le_tol``
      of 0; ``lyapunov_flow_sign_agreement`` and ``lyapunov_flow_periodic``: the same with the map's
      exponent in a flow's terms (``lyapunov_flow`` of the sweep points; docs/metrics.md section 6);
    * ``isi_w1``: per point Wasserstein-1 between the ISI samples, relative to the true mean ISI;
      the median over points where both spike.

    ``tag_points``: the true sweep's points at the training tags (one sweep point per tag, e.g.
    :func:`dynamap.analysis.scores.points_at` of a true sweep that contains them). When given, the
    result also has ``nearest_tag_baseline`` (the held-out accuracy of
    :func:`dynamap.analysis.scores.nearest_tag_lookup` on the same values, by the same rule),
    ``beyond_lookup_recall`` (:func:`dynamap.analysis.scores.beyond_lookup_recall`: the share of the
    values where the lookup is wrong that the model gets right; None when it is never wrong),
    ``n_lookup_match``, ``n_lookup_wrong``, and per point the lookup's label, its tag and whether it
    matches (``lookup``, ``lookup_tag``, ``lookup_match``). Without ``tag_points`` the result has none
    of these keys. Definitions: docs/metrics.md.
    """
    tp, mp, tv, mv = _paired(true_sweep, model_sweep, value_tol)
    acc = heldout_accuracy(tp, mp)
    per_point = _per_point(tp, mp)
    lookup_scores = {} if tag_points is None else _lookup_scores(tp, mp, tv, per_point, tag_points)
    transition = _transition(tp, mp, tv, mv)
    le_agree = _lyapunov_agreement(tp, mp, le_tol)
    flow_agree = _lyapunov_agreement(tp, mp, le_tol, "lyapunov_flow")
    rel = _isi_w1_rel(tp, mp)
    return {
        "heldout_accuracy": float(acc),
        "n_points": int(tv.size),
        "n_match": int(sum(p["match"] for p in per_point)),
        "n_failed": int(sum(p["regime"] == "failed" for p in mp)),
        **lookup_scores,
        "transition": transition,
        "lyapunov_sign_agreement": le_agree,
        "lyapunov_periodic": _periodic_near_zero(tp, mp, le_tol, "lyapunov_max"),
        "lyapunov_flow_sign_agreement": flow_agree,
        "lyapunov_flow_periodic": _periodic_near_zero(tp, mp, le_tol, "lyapunov_flow"),
        "lyapunov_tol": float(le_tol),
        "lyapunov_units": "per unit time",
        "isi_w1_rel_median": float(np.median(rel)) if rel else None,
        "isi_w1_rel_n": len(rel),
        "points": per_point,
    }


# ----------------------------------------------------------------------------------- fixed points


def _encoded_equilibrium(model, v_star: float) -> np.ndarray:
    """The latent state the model recovers from a constant window at the observable value ``v_star``."""
    data_dt = model.dt_ / model.sampling_.stride
    n = (model.sampling_.window + 4) * model.sampling_.stride
    return model.transform(Series(np.full(n, v_star), data_dt))[-1]


def _newton_starts(m, z_eq: np.ndarray, c: float, n_orbit_starts: int) -> np.ndarray:
    """Newton's start states: the encoded equilibrium, then ``n_orbit_starts`` states on the attractor."""
    starts = [z_eq[None, :]]
    if n_orbit_starts:
        starts.append(np.concatenate([m.initial_states(np.array([c]), start=k)
                                      for k in range(n_orbit_starts)]))
    return np.concatenate(starts)


def evaluate_fixed_points(model, system, params: Mapping[str, float], c: float, *, n_orbit_starts: int = 16,
                          guesses=None) -> dict:
    """The ODE equilibrium at ``params`` vs the learned map's fixed point at control input ``c``.

    The equilibrium (:func:`flow_equilibria`, observable value V*) is encoded into the latent space as
    the recovered state of a constant window at V* (``model.transform`` of a constant series); Newton
    (:func:`map_fixed_points`, tol 1e-6: the map is float32) starts from it and from states on the
    data attractor. The fixed point nearest the encoded equilibrium is compared with exp(lambda dt)
    (:func:`compare_fixed_points`): multipliers and the number of unstable directions.
    """
    eqs = flow_equilibria(system, dict(params), guesses)
    out: dict = {"params": {k: float(v) for k, v in params.items()}, "c": float(c),
                 "equilibria": [e.to_dict() for e in eqs]}
    if not eqs:
        out["status"] = "no equilibrium found"
        return out
    eq = eqs[0]
    obs = system.variables.index(system.observable)
    v_star = float(eq.x[obs])
    z_eq = _encoded_equilibrium(model, v_star)
    m = model.as_system()
    fps = map_fixed_points(m, _newton_starts(m, z_eq, c, n_orbit_starts), np.array([c]), tol=1e-6)
    out.update({"observable_value": v_star, "encoded": [float(v) for v in z_eq],
                "map_fixed_points": [f.to_dict() for f in fps]})
    if not fps:
        out["status"] = "no fixed point of the map found"
        return out
    dist = [float(np.linalg.norm(f.x - z_eq)) for f in fps]
    best = fps[int(np.argmin(dist))]
    cmp = compare_fixed_points(eq.eigenvalues, best.multipliers, model.dt_)
    out.update({
        "status": "ok",
        "nearest": best.to_dict(),
        "distance_to_encoded": min(dist),
        "decoded_fixed_point": float(m.decode(best.x[None, :])[0]),
        "comparison": cmp,
        "n_unstable_true": cmp["n_unstable_true"],
        "n_unstable_map": cmp["n_unstable_map"],
        "n_unstable_agree": cmp["n_unstable_agree"],
    })
    return out
