"""The sweep of an ensemble of models: its members' sweeps over the same values, combined point by
point into one ``sweep.json`` (definitions: docs/metrics.md section 8).

Each point keeps the ordinary fields (``regime``, ``spikes_per_burst``, ``isi``, ``lyapunov_max``,
...) of a *representative* member, the lowest-numbered member whose label is the modal label there,
so every reader of a sweep (``dynamap compare``, the figures) sees the modal label; beside them it
carries every member's label, the modal label and the agreement.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._core.errors import InputError
from .compare import _label_json, point_label
from .scores import modal_label
from .sweep import SweepResult, as_sweep, sweep_dict

__all__ = ["combine_sweeps"]


def combine_sweeps(member_sweeps: Sequence, *, seeds: Sequence[int] | None = None,
                   members: Sequence[str] | None = None, value_tol: float = 1e-9) -> SweepResult:
    """One ensemble sweep from the sweeps of its ``k`` members (dicts of the ``sweep.json`` schema or
    :class:`~dynamap.SweepResult`, all over the same values of the same parameter, in the same order).

    Per point, beside the representative member's fields: ``member_labels`` (every member's label,
    as :func:`~dynamap.analysis.compare.point_label` writes it), ``member_regimes``,
    ``member_spikes_per_burst``, ``modal_label``, ``n_agree`` (members with the modal label),
    ``agreement`` (n_agree / k) and ``modal_member`` (the representative's index); its ``ensemble``
    is ``{"k", "seeds", "members", "mean_agreement", "member_sources"}``.
    """
    sweeps = [dict(sweep_dict(s)) for s in member_sweeps]
    if not sweeps:
        raise InputError("member_sweeps is empty; pass the sweep of every ensemble member")
    k = len(sweeps)
    for i, s in enumerate(sweeps):
        if not isinstance(s.get("points"), list) or not s["points"]:
            raise InputError(f"member sweep {i} has no points list (sweep.json schema)")
    param = sweeps[0].get("param")
    values0 = np.array([float(p["value"]) for p in sweeps[0]["points"]])
    for i, s in enumerate(sweeps[1:], 1):
        vals = np.array([float(p["value"]) for p in s["points"]])
        if s.get("param") != param or vals.shape != values0.shape or np.any(
                np.abs(vals - values0) > value_tol * (1 + np.abs(values0))):
            raise InputError(f"member sweep {i} does not cover the values of member sweep 0 "
                             f"(parameter {s.get('param')!r} vs {param!r}); sweep every member alike")
    if seeds is not None and len(seeds) != k:
        raise InputError(f"{len(seeds)} seeds for {k} member sweeps")
    if members is not None and len(members) != k:
        raise InputError(f"{len(members)} member names for {k} member sweeps")
    points = []
    for j in range(values0.size):
        pts = [s["points"][j] for s in sweeps]
        labels = [point_label(p) for p in pts]
        lab, n, first = modal_label(labels)
        pt = dict(pts[first])
        pt.update({
            "member_labels": [_label_json(x) for x in labels],
            "member_regimes": [str(p["regime"]) for p in pts],
            "member_spikes_per_burst": [sorted({int(v) for v in (p.get("spikes_per_burst") or [])}) for p in pts],
            "modal_label": _label_json(lab),
            "n_agree": int(n),
            "agreement": n / k,
            "modal_member": int(first),
        })
        points.append(pt)
    ensemble = {
        "k": k,
        "seeds": None if seeds is None else [int(s) for s in seeds],
        "members": None if members is None else [str(m) for m in members],
        "mean_agreement": float(np.mean([p["agreement"] for p in points])),
        "member_sources": [s.get("source") for s in sweeps],
    }
    first = as_sweep({**sweeps[0], "ensemble": None})
    return SweepResult(first.param, points, first.source, first.settings, ensemble)

