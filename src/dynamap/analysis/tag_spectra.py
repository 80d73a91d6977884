"""The learned map's Lyapunov spectrum beside the true system's at the training values.

A diagnostic of the knob: the parameter of a slow-fast burster acts through the slow direction, so a
map whose slow direction contracts much faster than the system's (its second exponent far below the
system's) snaps back along it and is deaf to the parameter between its training values. The
criterion of ``docs/metrics.md`` ("slow direction"): at each bursting training value, the map's second
exponent within a factor 2 of the system's, both per unit time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._core.errors import NumericalError
from .lyapunov import flow_terms, lyapunov_spectrum

__all__ = ["SLOW_FACTOR", "spectra_at_tags", "slow_ratio"]

#: the map's second exponent counts as right when within this factor of the system's
SLOW_FACTOR = 2.0


def slow_ratio(true_spectrum: Sequence[float], model_spectrum: Sequence[float]) -> float | None:
    """The map's second exponent over the system's (None when either has fewer than two exponents or
    the system's second exponent is 0)."""
    if len(true_spectrum) < 2 or len(model_spectrum) < 2 or float(true_spectrum[1]) == 0.0:
        return None
    return float(model_spectrum[1]) / float(true_spectrum[1])


def spectra_at_tags(true_system, true_param: str, model_system, tags: Sequence[float], *,
                    fixed: Mapping[str, float] | None = None, t_end: float | None = None,
                    transient: float | None = None, model_t_end: float | None = None) -> dict:
    """Both spectra (per unit time) at each tag: the true system at ``{true_param: tag, **fixed}``, the
    learned map at ``c = tag`` (tagged mode: c is in the true parameter's units). Returns
    ``{"points": [{"value", "true", "model", "slow_ratio", "slow_within"}], "factor", "n_within",
    "n_compared"}``; ``slow_within`` is None where the ratio is undefined, and a ratio <= 0 (the two
    second exponents of opposite signs) is not within. Where the map's spectrum cannot be computed (its
    orbit diverges, or ends on the state box, where the Jacobian is singular) the point has
    ``"model": None``, the reason under ``"error"``, and ``slow_within`` None."""
    points = []
    for tag in map(float, tags):
        true = lyapunov_spectrum(true_system, {**dict(fixed or {}), true_param: tag}, t_end=t_end,
                                 transient=transient).spectrum
        try:
            model = [float(v) for v in lyapunov_spectrum(model_system, {"c": tag}, t_end=model_t_end).spectrum]
        except NumericalError as e:
            points.append({"value": tag, "true": [float(v) for v in true], "model": None, "slow_ratio": None,
                           "slow_within": None, "error": str(e)})
            continue
        r = slow_ratio(true, model)
        within = None if r is None else bool(1.0 / SLOW_FACTOR <= r <= SLOW_FACTOR)
        flow = flow_terms(model_system, {"c": tag}, t_end=model_t_end)
        # in a flow's terms (docs/metrics.md section 6) the map's largest transverse exponent is the
        # attractor's first nonzero one: beside the system's second where the orbit keeps moving
        fr = (None if flow is None or flow["at_rest"] else
              slow_ratio(true, [flow["motion"], flow["transverse"]]))
        points.append({"value": tag, "true": [float(v) for v in true], "model": model,
                       "slow_ratio": r, "slow_within": within, "flow": flow, "flow_slow_ratio": fr,
                       "flow_slow_within": None if fr is None else bool(1.0 / SLOW_FACTOR <= fr <= SLOW_FACTOR)})
    compared = [p for p in points if p["slow_within"] is not None]
    flow_compared = [p for p in points if p.get("flow_slow_within") is not None]
    return {"points": points, "factor": SLOW_FACTOR, "n_within": int(sum(p["slow_within"] for p in compared)),
            "n_compared": len(compared), "n_flow_within": int(sum(p["flow_slow_within"] for p in flow_compared)),
            "n_flow_compared": len(flow_compared), "units": "per unit time"}
