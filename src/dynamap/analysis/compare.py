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
"spikes_per_burst", "isi", "lyapunov_max", ...}]}``) for systems and models alike. The tagged mode,
the fixed points and the reading of sweep points are in :mod:`dynamap.analysis._compare_tagged`;
their public names are importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .._core.errors import InputError
from ._compare_tagged import (
    LE_SIGN_TOL,
    _label_json,
    _ordered,
    _points,
    _same_grid,
    _spb,
    _tonic_onset,  # noqa: F401  (re-exported: the tests use it)
    evaluate_fixed_points,
    evaluate_tagged,
    point_label,
)
from .scores import (
    accuracy_by_agreement,
    heldout_accuracy,
    points_at,
    regime_sequence,
    regime_sequence_chance,
    regime_sequence_lcs,
    regime_sequence_score,
)
from .sweep import sweep_dict

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


def same_values(true_sweep: Mapping, model_sweep: Mapping, value_tol: float = 1e-6) -> bool:
    """Whether two sweeps cover the same parameter values, as :func:`evaluate_tagged` requires
    (False for sweeps it would reject as malformed)."""
    try:
        tv = np.array([float(p["value"]) for p in _ordered(_points(true_sweep, "true_sweep"))])
        mv = np.array([float(p["value"]) for p in _ordered(_points(model_sweep, "model_sweep"))])
    except (InputError, TypeError, ValueError):
        return False
    return _same_grid(tv, mv, value_tol)


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
    src = sweep_dict(model_sweep).get("source") or {}
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
    sweep = sweep_dict(sweep)
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
    "mean_agreement", "n_unanimous", "by_agreement": [...]}``
    (:func:`~dynamap.analysis.scores.accuracy_by_agreement`).
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


def _flow_summary(res: Mapping) -> str:
    """' (in a flow's terms X)' where the model's sweep had exponents in a flow's terms."""
    fl = res.get("lyapunov_flow_sign_agreement")
    return "" if fl is None or res.get("lyapunov_sign_agreement") is None else f" (in a flow's terms {fl:.3f})"


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
                + ("n/a" if le is None else f"{le:.3f}") + _flow_summary(res) + _ensemble_summary(res))
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
    levels = ", ".join(f"{e['n_agree']}/{k}: {e['accuracy']:.2f} of {e['n_points']}"
                       for e in ens["by_agreement"])
    what = "right" if ens["mode"] == "tagged" else "a true regime"
    return (f"; modal label of {k} models (mean agreement {ens['mean_agreement']:.2f}), "
            f"share {what} by agreement: {levels}")
