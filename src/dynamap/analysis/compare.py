"""Compare a model's sweep with the true system's sweep; every result is JSON-ready. The measures
are defined in docs/metrics.md.

* :func:`compare`: the entry point; picks the mode (tagged when both sweeps cover the same values).

* :func:`evaluate_single`: single-series mode, where c and the true parameter correspond only
  qualitatively: the ordered distinct regimes along both sweeps and their LCS agreement.
* :func:`evaluate_tagged`: tagged mode, c in the units of the true parameter: held-out accuracy,
  the bursting -> tonic transition error, largest-exponent sign agreement, ISI Wasserstein-1.
* :func:`evaluate_ensemble`: the sweep of an ensemble of models (its points carry the members'
  agreement on the modal label): accuracy by agreement level; :func:`compare` adds it.
* :func:`evaluate_fixed_points`: the map's fixed point near the encoded ODE equilibrium, its
  multipliers against exp(lambda dt) of the equilibrium's eigenvalues.

Sweep dicts follow the ``sweep.json`` schema (``{"param", "points": [{"value", "regime",
"spikes_per_burst", "isi", "lyapunov_max", ...}]}``) for systems and models alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .._core.errors import InputError
from .._core.types import Series
from .fixed_points import compare_fixed_points, flow_equilibria, map_fixed_points
from .metrics import (
    isi_wasserstein,
)
from .scores import (
    accuracy_by_agreement,
    beyond_lookup_recall,
    heldout_accuracy,
    lyapunov_sign_agreement,
    nearest_tag_lookup,
    points_at,
    regime_sequence,
    regime_sequence_chance,
    regime_sequence_lcs,
    regime_sequence_score,
    transition_points,
)

__all__ = [
    "LE_SIGN_TOL",
    "compare",
    "compare_summary",
    "ensemble_k",
    "evaluate_ensemble",
    "evaluate_fixed_points",
    "evaluate_single",
    "evaluate_tagged",
    "point_label",
    "same_values",
]

#: zero band of the largest-exponent sign comparison, per unit time (our choice: 0.1 /s for the HH
#: burster, whose chaotic bursting has exponents up to about 0.6 /s while periodic orbits give |l| of a
#: few 0.01 /s from finite records, and the map's 5 000-step estimate is noisier than that)
LE_SIGN_TOL = 0.1

#: regimes that count as "a spiking pattern with bursts" for the bursting -> tonic transition
_BURSTY = ("bursting", "mixed", "irregular")


def _points(sweep, name: str) -> list[dict]:
    if hasattr(sweep, "to_dict"):  # a SweepResult
        sweep = sweep.to_dict()
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
    if isinstance(lab, tuple):
        return f"{lab[0]} {','.join(map(str, lab[1])) or '(no complete burst)'}"
    return str(lab)


def _ordered(pts: list[dict]) -> list[dict]:
    return sorted(pts, key=lambda p: float(p["value"]))


def evaluate_single(true_sweep: Mapping, model_sweep: Mapping, training_spb: Iterable[int] = ()) -> dict:
    """Single-series mode: regime sequences along the true parameter and along the map's c.

    Points are ordered by value; runs of equal labels (:func:`point_label`) collapse to one entry;
    the score is LCS / len(true sequence), in either direction of c (:func:`regime_sequence_score`),
    and ``precision`` is LCS / len(model sequence) (:func:`regime_sequence_lcs`): a map whose regime
    flips back and forth along c gets a long sequence, which can contain the true order by chance, so
    a high score with a low precision is a fragmented sweep, not a faithful one. ``chance`` is the
    score of the same regime runs in random order along c (:func:`regime_sequence_chance`, seeded):
    a score that shuffled runs match as often as not (``p_value`` near 1) shows which regimes the map
    has, not that it has them in the true order.
    ``failed`` model points (diverged orbits) are dropped from the model sequence and counted.
    ``training_spb``: spikes-per-burst values seen in the training series; the result lists those the
    map produces at periodic (``bursting``/``mixed``) points that were not in it (``new_spb``); the
    values seen in irregular bursting are listed apart (``irregular_spb_values``: they depend on the
    record length).
    """
    tp = _ordered(_points(true_sweep, "true_sweep"))
    mp_all = _ordered(_points(model_sweep, "model_sweep"))
    mp = [p for p in mp_all if p["regime"] != "failed"]
    tseq = regime_sequence([point_label(p) for p in tp])
    mseq = regime_sequence([point_label(p) for p in mp])
    score = regime_sequence_score(tseq, mseq) if mseq else 0.0
    lcs = regime_sequence_lcs(tseq, mseq) if mseq else 0
    tset, mset = set(tseq), set(mseq)
    model_spb = sorted({k for p in mp if p["regime"] in ("bursting", "mixed") for k in _spb(p)})
    irr_spb = sorted({k for p in mp if p["regime"] == "irregular" for k in _spb(p)})
    train = {int(k) for k in training_spb}
    return {
        "score": float(score),
        "precision": float(lcs / len(mseq)) if mseq else 0.0,
        "n_regime_changes": {"true": max(len(tseq) - 1, 0), "model": max(len(mseq) - 1, 0)},
        "chance": regime_sequence_chance(tseq, mseq),
        "true_sequence": [_label_json(x) for x in tseq],
        "model_sequence": [_label_json(x) for x in mseq],
        "true_regimes_found": [_label_json(x) for x in tseq if x in mset],
        "true_regimes_missing": [_label_json(x) for x in tseq if x not in mset],
        "n_true_regimes": len(tset),
        "n_true_regimes_found": len(tset & mset),
        "tonic_found": "tonic" in mset,
        "irregular_found": "irregular" in mset,
        "model_spb_values": model_spb,
        "training_spb_values": sorted(train),
        "new_spb": [k for k in model_spb if k not in train],
        "irregular_spb_values": irr_spb,
        "n_failed": len(mp_all) - len(mp),
        "n_points": {"true": len(tp), "model": len(mp_all)},
    }


def _tonic_onset(values: Sequence[float], regimes: Sequence[str]) -> float | None:
    """Bursting -> tonic transition: the last place, in increasing value, where a bursty point
    (bursting, mixed or irregular) is followed by a tonic one (:func:`transition_points`); None when
    there is none."""
    found = transition_points(values, ["bursty" if r in _BURSTY else r for r in regimes], "bursty", "tonic")
    return found[-1] if found else None


def _same_grid(tv: np.ndarray, mv: np.ndarray, value_tol: float) -> bool:
    """Sorted parameter values ``tv`` and ``mv`` are the same grid, to ``value_tol`` relative."""
    return tv.size == mv.size and not np.any(np.abs(tv - mv) > value_tol * (1 + np.abs(tv)))


def same_values(true_sweep: Mapping, model_sweep: Mapping, value_tol: float = 1e-6) -> bool:
    """Whether two sweeps cover the same parameter values, as :func:`evaluate_tagged` requires
    (False for sweeps it would reject as malformed)."""
    try:
        tv = np.array([float(p["value"]) for p in _ordered(_points(true_sweep, "true_sweep"))])
        mv = np.array([float(p["value"]) for p in _ordered(_points(model_sweep, "model_sweep"))])
    except (InputError, TypeError, ValueError):
        return False
    return _same_grid(tv, mv, value_tol)


def _le(p: Mapping) -> float:
    v = p.get("lyapunov_max")
    return float("nan") if v is None else float(v)


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
      (:data:`LE_SIGN_TOL`), over points where the true exponent is known;
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
    tp = _ordered(_points(true_sweep, "true_sweep"))
    mp = _ordered(_points(model_sweep, "model_sweep"))
    tv = np.array([float(p["value"]) for p in tp])
    mv = np.array([float(p["value"]) for p in mp])
    if not _same_grid(tv, mv, value_tol):
        raise InputError(
            "true_sweep and model_sweep must cover the same parameter values; "
            f"got {tv.size} and {mv.size} points"
        )
    acc = heldout_accuracy(tp, mp)
    per_point = []
    for a, b in zip(tp, mp):
        match = heldout_accuracy([a], [b]) == 1.0
        per_point.append({"value": float(a["value"]), "true": _label_json(point_label(a)),
                          "model": _label_json(point_label(b)), "match": bool(match)})
    lookup_scores: dict = {}
    if tag_points is not None:
        tag_points = list(tag_points)
        look = nearest_tag_lookup(tv, tag_points)
        lookup_ok = [heldout_accuracy([a], [c]) == 1.0 for a, c in zip(tp, look)]
        for pp, c, ok in zip(per_point, look, lookup_ok):
            pp.update({"lookup": _label_json(point_label(c)), "lookup_tag": c["tag"], "lookup_match": bool(ok)})
        lookup_scores = {
            "nearest_tag_baseline": float(heldout_accuracy(tp, look)),
            "beyond_lookup_recall": beyond_lookup_recall(tp, mp, look),
            "n_lookup_match": int(sum(lookup_ok)),
            "n_lookup_wrong": int(len(lookup_ok) - sum(lookup_ok)),
            "tags": sorted(float(p["value"]) for p in tag_points),
        }
    t_on = _tonic_onset(tv, [p["regime"] for p in tp])
    m_on = _tonic_onset(mv, [p["regime"] for p in mp])
    le_t = np.array([_le(p) for p in tp])
    le_m = np.array([_le(p) for p in mp])
    known = np.isfinite(le_t)
    le_agree = float(lyapunov_sign_agreement(le_t[known], le_m[known], le_tol)) if known.any() else None
    rel = []
    for a, b in zip(tp, mp):
        ia, ib = np.asarray(a.get("isi") or [], float), np.asarray(b.get("isi") or [], float)
        if ia.size and ib.size and b["regime"] != "failed":
            rel.append(isi_wasserstein(ia, ib) / float(np.mean(ia)))
    return {
        "heldout_accuracy": float(acc),
        "n_points": int(tv.size),
        "n_match": int(sum(p["match"] for p in per_point)),
        "n_failed": int(sum(p["regime"] == "failed" for p in mp)),
        **lookup_scores,
        "transition": {
            "kind": "bursting -> tonic",
            "true": t_on,
            "model": m_on,
            "abs_error": None if t_on is None or m_on is None else abs(m_on - t_on),
        },
        "lyapunov_sign_agreement": le_agree,
        "lyapunov_tol": float(le_tol),
        "lyapunov_units": "per unit time",
        "isi_w1_rel_median": float(np.median(rel)) if rel else None,
        "isi_w1_rel_n": len(rel),
        "points": per_point,
    }


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
    obs = system.variables.index(system.observable) if hasattr(system, "observable") else 0
    v_star = float(eq.x[obs])
    data_dt = model.dt_ / model.sampling_.stride
    n = (model.sampling_.window + 4) * model.sampling_.stride
    z_eq = model.transform(Series(np.full(n, v_star), data_dt))[-1]
    m = model.as_system()
    starts = [z_eq[None, :]]
    if n_orbit_starts:
        starts.append(np.concatenate([m.initial_states(np.array([c]), start=k) for k in range(n_orbit_starts)]))
    fps = map_fixed_points(m, np.concatenate(starts), np.array([c]), tol=1e-6)
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


def compare(true_sweep, model_sweep, *, mode: str = "auto", training_spb: Iterable[int] = (),
            tag_points: Sequence[Mapping] | None = None) -> dict:
    """Score a model's sweep against the true system's (sweep dicts, ``sweep.json`` contents, or
    :class:`~dynamap.SweepResult`).

    ``mode="auto"`` pairs the sweeps point by point when they cover the same parameter values
    (``"tagged"``: :func:`evaluate_tagged`) and otherwise compares their regime sequences
    (``"single"``: :func:`evaluate_single`, with ``training_spb``, the training series' spikes per
    burst). The result carries ``mode``. ``tag_points`` (the true sweep's points at the training
    tags) add the nearest-tag baseline and the beyond-lookup recall in tagged mode
    (:func:`evaluate_tagged`); single-series mode ignores them. Without them, a tagged model's sweep
    (whose source names its ``training_values``) takes them from ``true_sweep`` when it has points at
    all of them.
    """
    if mode not in ("auto", "single", "tagged"):
        raise InputError(f"mode must be auto, single or tagged, got {mode!r}")
    if mode == "auto":
        mode = "tagged" if same_values(true_sweep, model_sweep) else "single"
    if mode == "tagged":
        if tag_points is None:
            tag_points = _tag_points_in(true_sweep, model_sweep)
        res = {"mode": mode, **evaluate_tagged(true_sweep, model_sweep, tag_points=tag_points)}
    else:
        res = {"mode": mode, **evaluate_single(true_sweep, model_sweep, training_spb=training_spb)}
    if ensemble_k(model_sweep) is not None:
        res["ensemble"] = evaluate_ensemble(true_sweep, model_sweep, mode=mode)
    return res


def _tag_points_in(true_sweep, model_sweep) -> list[dict] | None:
    """The true sweep's points at the model sweep's training values, or None (no such values
    recorded, or the true sweep lacks a point at one of them)."""
    src = (model_sweep.to_dict() if hasattr(model_sweep, "to_dict") else model_sweep).get("source") or {}
    tags = src.get("training_values") if isinstance(src, Mapping) else None
    if not tags:
        return None
    try:
        return points_at(_points(true_sweep, "true_sweep"), [float(t) for t in tags])
    except InputError:
        return None


def ensemble_k(sweep) -> int | None:
    """The number of members of an ensemble's sweep (``dynamap sweep --model ENSEMBLE``: an
    ``ensemble`` entry with ``k`` and every point with ``n_agree``), None for any other sweep."""
    if hasattr(sweep, "to_dict"):
        sweep = sweep.to_dict()
    ens = sweep.get("ensemble") if isinstance(sweep, Mapping) else None
    pts = sweep.get("points") if isinstance(sweep, Mapping) else None
    if not (isinstance(ens, Mapping) and isinstance(ens.get("k"), int) and isinstance(pts, list) and pts
            and all(isinstance(p, Mapping) and "n_agree" in p for p in pts)):
        return None
    return int(ens["k"])


def evaluate_ensemble(true_sweep: Mapping, model_sweep: Mapping, *, mode: str = "tagged",
                      value_tol: float = 1e-6) -> dict:
    """Accuracy of an ensemble sweep's modal labels by agreement level (docs/metrics.md section 8).

    The ensemble's points carry the modal label in their ordinary fields and ``n_agree``, the
    members that share it. ``mode="tagged"``: points pair up by value (the same grid, as in
    :func:`evaluate_tagged`) and a modal label is right when it matches the true point at its value
    (the point rule); ``mode="single"``: c and the true parameter do not pair, and a modal label is
    right when it matches some point of the true sweep (the point rule), i.e. it is one of the true
    system's regimes. ``failed`` modal points are misses. Returns ``{"k", "mode", "n_points",
    "mean_agreement", "n_unanimous", "by_agreement": [...]}`` (:func:`~dynamap.analysis.scores.accuracy_by_agreement`).
    """
    k = ensemble_k(model_sweep)
    if k is None:
        raise InputError("model_sweep is not an ensemble's sweep (no 'ensemble' entry with 'k', or points "
                         "without 'n_agree'); sweep an ensemble bundle with 'dynamap sweep --model DIR'")
    if mode not in ("single", "tagged"):
        raise InputError(f"mode must be single or tagged, got {mode!r}")
    tp = _ordered(_points(true_sweep, "true_sweep"))
    mp = _ordered(_points(model_sweep, "model_sweep"))
    if mode == "tagged":
        tv = np.array([float(p["value"]) for p in tp])
        mv = np.array([float(p["value"]) for p in mp])
        if not _same_grid(tv, mv, value_tol):
            raise InputError("true_sweep and model_sweep must cover the same parameter values; "
                             f"got {tv.size} and {mv.size} points")
        matches = [heldout_accuracy([a], [b]) == 1.0 for a, b in zip(tp, mp)]
    else:
        matches = [p["regime"] != "failed" and any(heldout_accuracy([t], [p]) == 1.0 for t in tp) for p in mp]
    n_agree = [int(p["n_agree"]) for p in mp]
    return {
        "k": k,
        "mode": mode,
        "match_rule": "the true point at the same value" if mode == "tagged" else "any true point",
        "n_points": len(mp),
        "mean_agreement": float(np.mean(n_agree)) / k,
        "n_unanimous": int(sum(v == k for v in n_agree)),
        "by_agreement": accuracy_by_agreement(matches, n_agree, k),
    }


def compare_summary(res: Mapping) -> str:
    """One line for the terminal about a :func:`compare` result."""
    if res["mode"] == "tagged":
        tr = res["transition"]
        if tr["abs_error"] is not None:
            trans = f"true {tr['true']:g}, model {tr['model']:g} ({tr['abs_error']:.3g} off)"
        elif tr["true"] is None and tr["model"] is None:
            trans = "none in both"
        else:
            trans = "none in the truth" if tr["true"] is None else "none in the model"
        le = res["lyapunov_sign_agreement"]
        base = ""
        if "nearest_tag_baseline" in res:
            rec = res["beyond_lookup_recall"]
            rec_s = ("n/a (the lookup is never wrong)" if rec is None else
                     f"{rec:.3f} (of the {res['n_lookup_wrong']} values where the lookup is wrong)")
            base = (f" beside the nearest-tag lookup's {res['nearest_tag_baseline']:.3f} "
                    f"({res['n_lookup_match']} of {res['n_points']}), beyond-lookup recall {rec_s}")
        return (f"tagged: held-out accuracy {res['heldout_accuracy']:.3f} ({res['n_match']} of "
                f"{res['n_points']}){base}; {tr['kind']} transition: {trans}; Lyapunov sign agreement "
                + ("n/a" if le is None else f"{le:.3f}") + _ensemble_summary(res))
    ch = res["chance"]
    return (f"single: regime-sequence agreement {res['score']:.3f} (the same regimes in random "
            f"order: {ch['mean']:.3f} on average, p {ch['p_value']:.3f}); precision "
            f"{res['precision']:.3f}; regime changes {res['n_regime_changes']['model']} "
            f"(truth {res['n_regime_changes']['true']})" + _ensemble_summary(res))


def _ensemble_summary(res: Mapping) -> str:
    """The ensemble part of :func:`compare_summary` ('' for a single model's sweep)."""
    ens = res.get("ensemble")
    if not ens:
        return ""
    k = ens["k"]
    levels = ", ".join(f"{e['n_agree']}/{k}: {e['accuracy']:.2f} of {e['n_points']}" for e in ens["by_agreement"])
    what = "right" if ens["mode"] == "tagged" else "a true regime"
    return (f"; modal label of {k} models (mean agreement {ens['mean_agreement']:.2f}), "
            f"share {what} by agreement: {levels}")
