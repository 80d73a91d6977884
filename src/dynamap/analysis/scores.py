"""Scores of a model's sweep against the true one: regime sequences and their chance level
(single-series mode), held-out accuracy, transitions, Lyapunov sign agreement, and the nearest-tag
baselines (tagged mode). Definitions: docs/metrics.md."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from .._core.errors import InputError
from .metrics import _series

__all__ = [
    "regime_sequence",
    "regime_sequence_score",
    "regime_sequence_lcs",
    "regime_sequence_chance",
    "heldout_accuracy",
    "transition_points",
    "lyapunov_sign_agreement",
    "points_at",
    "nearest_tag_lookup",
    "nearest_tag_baseline",
    "beyond_lookup_recall",
    "modal_label",
    "accuracy_by_agreement",
]


def regime_sequence(labels: Sequence[Hashable]) -> list:
    """The ordered list of distinct consecutive regimes: runs of equal labels collapse to one entry.

    A label is any hashable compared with ``==``, e.g. ``"tonic"`` or ``("bursting", (3,))``.
    ``["b", "b", "t", "b"] -> ["b", "t", "b"]``.
    """
    out: list = []
    for lab in labels:
        if not out or out[-1] != lab:
            out.append(lab)
    return out


def _lcs_length(a: Sequence, b: Sequence) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def regime_sequence_score(true_seq: Sequence[Hashable], model_seq: Sequence[Hashable]) -> float:
    """Regime-sequence agreement in [0, 1] (single-series mode; docs/metrics.md section 4).

    LCS(true, model) / len(true), maximised over both directions of the model sequence (the map's
    control c may run opposite to the true parameter). Pass the outputs of :func:`regime_sequence`.
    """
    t = list(true_seq)
    if not t:
        raise InputError(
            "true_seq is empty; pass the regime sequence of the true sweep (at least one regime)"
        )
    return regime_sequence_lcs(t, model_seq) / len(t)


def regime_sequence_lcs(true_seq: Sequence[Hashable], model_seq: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence of the two regime sequences, the larger over both
    directions of the model sequence (as in :func:`regime_sequence_score`).

    Divided by ``len(model_seq)`` it is the sequence's *precision*: the share of the map's regime
    runs that belong to the matched order. The score alone rewards a fragmented map sequence, which
    contains more subsequences; the precision exposes it.
    """
    t, m = list(true_seq), list(model_seq)
    return max(_lcs_length(t, m), _lcs_length(t, m[::-1]))


def regime_sequence_chance(true_seq: Sequence[Hashable], model_seq: Sequence[Hashable], *,
                           n_shuffles: int = 500, seed: int = 0) -> dict:
    """What :func:`regime_sequence_score` gives by chance for a map with the same regimes in no
    particular order: the model's regime runs are shuffled ``n_shuffles`` times (random order along
    c; adjacent equal runs then merge, as in :func:`regime_sequence`) and scored.

    Returns ``{"mean", "p95", "p_value", "n_shuffles", "seed"}``: the mean and 95th percentile of the
    shuffled scores, and the share of shuffles scoring at least as high as the model's own order
    (small: the order along c carries information; near 1: the score only reflects which regimes the
    map has). Deterministic for a given ``seed``.
    """
    t, m = list(true_seq), list(model_seq)
    if not isinstance(n_shuffles, (int, np.integer)) or isinstance(n_shuffles, bool) or n_shuffles < 1:
        raise InputError(f"n_shuffles must be a positive integer, got {n_shuffles!r}")
    actual = regime_sequence_score(t, m)
    rng = np.random.default_rng(seed)
    scores = np.array([regime_sequence_score(t, regime_sequence([m[i] for i in rng.permutation(len(m))]))
                       for _ in range(int(n_shuffles))]) if m else np.zeros(int(n_shuffles))
    return {"mean": float(scores.mean()), "p95": float(np.quantile(scores, 0.95)),
            "p_value": float(np.mean(scores >= actual - 1e-12)), "n_shuffles": int(n_shuffles),
            "seed": int(seed)}


def _point_field(point: Any, key: str, name: str, i: int) -> Any:
    try:
        return point[key]
    except (KeyError, TypeError, IndexError):
        raise InputError(
            f"{name}[{i}] must be a mapping with a {key!r} entry (a sweep point), got {point!r}"
        ) from None


def heldout_accuracy(true_points: Sequence[Mapping], model_points: Sequence[Mapping]) -> float:
    """Fraction of held-out parameter values where the model matches the truth (tagged mode).

    Points are sweep points (dicts with ``"regime"`` and ``"spikes_per_burst"``), paired by position.
    A point matches when the regimes are equal and the *sets* of spikes-per-burst values are equal;
    for ``"irregular"`` points only the regime is compared (the set of values seen in a chaotic
    window depends on the record length, so it is not a stable target).
    """
    t, m = list(true_points), list(model_points)
    if not t:
        raise InputError("true_points is empty; pass at least one held-out point")
    if len(t) != len(m):
        raise InputError(
            f"true_points and model_points must pair up by position, got {len(t)} and {len(m)} points"
        )
    hits = 0
    for i, (pt, pm) in enumerate(zip(t, m)):
        rt = _point_field(pt, "regime", "true_points", i)
        rm = _point_field(pm, "regime", "model_points", i)
        if rt != rm:
            continue
        if rt == "irregular":
            hits += 1
            continue
        st = {int(v) for v in (_point_field(pt, "spikes_per_burst", "true_points", i) or [])}
        sm = {int(v) for v in (_point_field(pm, "spikes_per_burst", "model_points", i) or [])}
        hits += st == sm
    return hits / len(t)


def transition_points(
    values: Sequence[float], labels: Sequence[Hashable], from_label: Hashable, to_label: Hashable
) -> list[float]:
    """Parameter values where the label changes from ``from_label`` to ``to_label``.

    The grid is scanned in order of increasing value; each transition is placed at the midpoint of
    the two neighbouring grid values (error at most half a grid step). Only adjacent grid points
    count: ``bursting, irregular, tonic`` has no direct bursting -> tonic transition.
    """
    v = _series("values", values)
    labs = list(labels)
    if len(labs) != v.size:
        raise InputError(f"values and labels must have the same length, got {v.size} and {len(labs)}")
    order = np.argsort(v, kind="stable")
    vs = v[order]
    ls = [labs[i] for i in order]
    return [
        float(0.5 * (vs[i] + vs[i + 1]))
        for i in range(vs.size - 1)
        if ls[i] == from_label and ls[i + 1] == to_label
    ]


def lyapunov_sign_agreement(le_true: Any, le_model: Any, tol: float) -> float:
    """Fraction of entries whose Lyapunov exponents have the same sign with a zero band.

    sign_tol(le) = 0 if |le| <= ``tol`` else sign(le); entries are paired by position (e.g. the
    largest exponent at each parameter value, or a whole spectrum), in the same units as ``tol``.
    A NaN in ``le_model`` (a diverged orbit) counts as disagreement; NaN in ``le_true`` is an error.
    """
    t = np.asarray(le_true, dtype=np.float64).ravel()
    m = np.asarray(le_model, dtype=np.float64).ravel()
    if t.size == 0 or t.size != m.size:
        raise InputError(
            f"le_true and le_model must be non-empty and equally long, got {t.size} and {m.size}"
        )
    if not np.all(np.isfinite(t)):
        raise InputError("le_true contains NaN or inf; drop the failed true points first")
    tol = float(tol)
    if not (np.isfinite(tol) and tol >= 0):
        raise InputError(f"tol must be a number >= 0, got {tol!r}")

    def sgn(x: np.ndarray) -> np.ndarray:
        return np.where(np.abs(x) <= tol, 0.0, np.sign(x))

    with np.errstate(invalid="ignore"):
        ok = np.isfinite(m) & (sgn(t) == sgn(np.nan_to_num(m)))
    return float(ok.mean())


# ------------------------------------------------------------------ baselines of the knob (tagged)


def _point_value(point: Any, name: str, i: int) -> float:
    v = _point_field(point, "value", name, i)
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name}[{i}]['value'] must be a number, got {v!r}") from None
    if not np.isfinite(f):
        raise InputError(f"{name}[{i}]['value'] must be finite, got {v!r}")
    return f


def points_at(points: Sequence[Mapping], values: Sequence[float], *, value_tol: float = 1e-6) -> list[dict]:
    """The sweep points at ``values``, in the order of ``values`` (e.g. the true sweep's points at the
    training tags, the input of :func:`nearest_tag_lookup`).

    A point is at value v when |point value - v| <= ``value_tol`` (1 + |v|); the nearest such point is
    taken. A value with no point there is an error (sweep the truth at the tags, or pass the tag
    points yourself).
    """
    pts = list(points)
    pv = np.array([_point_value(p, "points", i) for i, p in enumerate(pts)])
    want = _series("values", values)
    out = []
    for v in want:
        if pv.size == 0:
            raise InputError("points is empty; pass the sweep that contains the values")
        d = np.abs(pv - v)
        j = int(np.argmin(d))
        if d[j] > value_tol * (1.0 + abs(v)):
            raise InputError(
                f"no point at value {v:g} (nearest {pv[j]:g}); "
                "sweep the truth at that value or pass its point"
            )
        out.append(dict(pts[j]))
    return out


def nearest_tag_lookup(values: Sequence[float], tag_points: Sequence[Mapping]) -> list[dict]:
    """The nearest-tag lookup (docs/metrics.md section 3): at each of ``values``, the label of the
    nearest tag.

    ``tag_points``: one sweep point per training tag (a mapping with ``"value"``, the tag, and its
    true ``"regime"`` and ``"spikes_per_burst"``; :func:`points_at` picks them from a true sweep).
    Tags must be distinct. Distances are |v - tag| in the parameter's units; when two tags are equally
    near (to 1e-9 (1 + |v|), e.g. v = -37 between tags -38 and -36) the lower tag is taken, so the
    lookup is deterministic.

    Returns one point per value: ``{"value": v, "regime", "spikes_per_burst": sorted list, "tag"}``,
    ready for :func:`heldout_accuracy` against the true points at ``values``.
    """
    v = _series("values", values)
    tp = list(tag_points)
    if not tp:
        raise InputError("tag_points is empty; pass the true point of at least one training tag")
    tags = np.array([_point_value(p, "tag_points", i) for i, p in enumerate(tp)])
    for i, p in enumerate(tp):
        _point_field(p, "regime", "tag_points", i)
    order = np.argsort(tags, kind="stable")
    tags_s = tags[order]
    if np.any(np.diff(tags_s) <= 0):
        dup = float(tags_s[np.flatnonzero(np.diff(tags_s) <= 0)[0]])
        raise InputError(f"tag_points has two points at value {dup:g}; pass one point per tag")
    out = []
    for x in v:
        d = np.abs(tags_s - x)
        # the first (lowest) tag within the tie band of the smallest distance
        k = int(np.flatnonzero(d <= d.min() + 1e-9 * (1.0 + abs(x)))[0])
        p = tp[int(order[k])]
        spb = sorted({int(s) for s in (p.get("spikes_per_burst") or [])})
        out.append({"value": float(x), "regime": str(p["regime"]), "spikes_per_burst": spb,
                    "tag": float(tags_s[k])})
    return out


def nearest_tag_baseline(true_points: Sequence[Mapping], tag_points: Sequence[Mapping]) -> float:
    """Held-out accuracy of the nearest-tag lookup: :func:`heldout_accuracy` of
    :func:`nearest_tag_lookup` at the values of ``true_points`` (the true held-out points) against
    those points. The score a tagged model must beat to have learned anything between its tags."""
    t = list(true_points)
    if not t:
        raise InputError("true_points is empty; pass at least one held-out point")
    values = [_point_value(p, "true_points", i) for i, p in enumerate(t)]
    return heldout_accuracy(t, nearest_tag_lookup(values, tag_points))


def _matches(t: Sequence[Mapping], m: Sequence[Mapping], name: str) -> list[bool]:
    if len(t) != len(m):
        raise InputError(
            f"true_points and {name} must pair up by position, got {len(t)} and {len(m)} points"
        )
    return [heldout_accuracy([a], [b]) == 1.0 for a, b in zip(t, m)]


def beyond_lookup_recall(
    true_points: Sequence[Mapping], model_points: Sequence[Mapping], lookup_points: Sequence[Mapping]
) -> float | None:
    """Share of the held-out values where the lookup is wrong that the model gets right.

    All three are point lists paired by position (the true held-out points, the model's points at the
    same values, :func:`nearest_tag_lookup` there); right and wrong follow :func:`heldout_accuracy`'s
    rule. Returns None when the lookup is never wrong (the ratio is 0/0: those values tell nothing
    about learning beyond the lookup), otherwise a number in [0, 1].
    """
    t = list(true_points)
    if not t:
        raise InputError("true_points is empty; pass at least one held-out point")
    model_ok = _matches(t, list(model_points), "model_points")
    lookup_ok = _matches(t, list(lookup_points), "lookup_points")
    wrong = [i for i, ok in enumerate(lookup_ok) if not ok]
    if not wrong:
        return None
    return sum(model_ok[i] for i in wrong) / len(wrong)


# ------------------------------------------------------------------ ensembles of models


def modal_label(labels: Sequence[Hashable]) -> tuple[Hashable, int, int]:
    """The most frequent label of an ensemble's members at one parameter value (docs/metrics.md
    section 8): ``(label, n_agree, first)``, with ``n_agree`` the members that have it and ``first``
    the lowest member index that has it. Ties go to the label whose first member comes first, so
    the result is deterministic. ``["a", "b", "b", "a", "c"] -> ("a", 2, 0)``.
    """
    labs = list(labels)
    if not labs:
        raise InputError("labels is empty; pass one label per ensemble member")
    counts: dict = {}
    first: dict = {}
    for i, lab in enumerate(labs):
        counts[lab] = counts.get(lab, 0) + 1
        first.setdefault(lab, i)
    best = max(counts, key=lambda lab: (counts[lab], -first[lab]))
    return best, counts[best], first[best]


def accuracy_by_agreement(matches: Sequence[bool], n_agree: Sequence[int], k: int) -> list[dict]:
    """Accuracy of an ensemble's modal labels at each agreement level present (docs/metrics.md
    section 8).

    ``matches[i]``: whether the modal label at point i matches the truth; ``n_agree[i]``: how many of
    the ``k`` members have the modal label there (1..k). Returns one entry per level m present, in
    increasing m: ``{"n_agree": m, "agreement": m / k, "n_points", "n_match", "accuracy"}`` with
    accuracy = n_match / n_points over the points at that level.
    """
    ok, na = list(matches), [int(v) for v in n_agree]
    if len(ok) != len(na):
        raise InputError(f"matches and n_agree must pair up by position, got {len(ok)} and {len(na)}")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise InputError(f"k must be a positive integer (the ensemble's size), got {k!r}")
    bad = [v for v in na if not 1 <= v <= k]
    if bad:
        raise InputError(f"n_agree values must lie in 1..{k} (members with the modal label), got {bad[0]}")
    out = []
    for m in sorted(set(na)):
        idx = [i for i, v in enumerate(na) if v == m]
        hit = sum(bool(ok[i]) for i in idx)
        out.append({"n_agree": m, "agreement": m / int(k), "n_points": len(idx), "n_match": hit,
                    "accuracy": hit / len(idx)})
    return out
