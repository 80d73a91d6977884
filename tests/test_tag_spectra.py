"""The per-tag spectrum comparison (analysis/tag_spectra.py): ratio and factor-2 rule on known spectra."""

import pytest

from dynamap.analysis import tag_spectra
from dynamap.analysis.lyapunov import LyapunovResult


def test_slow_ratio_closed_forms():
    assert tag_spectra.slow_ratio([0.005, -0.47, -31.9], [-0.024, -4.97, -31.8, -64.4]) == pytest.approx(4.97 / 0.47)
    assert tag_spectra.slow_ratio([0.1], [0.1, -1.0]) is None
    assert tag_spectra.slow_ratio([0.1, 0.0], [0.1, -1.0]) is None


def test_spectra_at_tags_applies_the_factor_2_rule(monkeypatch):
    # the measured spectra at -40 mV (ODE, map) and made-up ones at the other tags
    table = {
        ("ode", -40.0): [0.005, -0.47, -31.9], ("map", -40.0): [-0.024, -4.97, -31.8, -64.4],  # 10.6x: out
        ("ode", -38.0): [0.3, -0.5, -30.0], ("map", -38.0): [0.2, -1.0, -30.0],               # 2x: in (edge)
        ("ode", -36.0): [0.0, -0.4, -20.0], ("map", -36.0): [0.0, 0.3, -20.0],                # opposite: out
        ("ode", -42.0): [0.0, -0.4, -20.0], ("map", -42.0): [0.0, -0.25, -20.0],              # 0.625x: in
    }

    def fake(system, params, **kw):
        value = params["V_S"] if system == "ode" else params["c"]
        return LyapunovResult(table[(system, value)], "per unit time")

    monkeypatch.setattr(tag_spectra, "lyapunov_spectrum", fake)
    res = tag_spectra.spectra_at_tags("ode", "V_S", "map", [-40.0, -38.0, -36.0, -42.0])
    assert [p["slow_within"] for p in res["points"]] == [False, True, False, True]
    assert res["points"][0]["slow_ratio"] == pytest.approx(4.97 / 0.47)
    assert res["points"][2]["slow_ratio"] == pytest.approx(-0.75)
    assert (res["n_within"], res["n_compared"], res["factor"]) == (2, 4, 2.0)


def test_a_map_spectrum_that_fails_is_reported_not_raised(monkeypatch):
    from dynamap import NumericalError

    def fake(system, params, **kw):
        if system == "map" and params["c"] == -38.0:
            raise NumericalError("the orbit of 'model' diverged")
        return LyapunovResult([0.0, -0.5, -30.0], "per unit time")

    monkeypatch.setattr(tag_spectra, "lyapunov_spectrum", fake)
    res = tag_spectra.spectra_at_tags("ode", "V_S", "map", [-40.0, -38.0])
    bad = res["points"][1]
    assert bad["model"] is None and bad["slow_within"] is None and "diverged" in bad["error"]
    assert (res["n_within"], res["n_compared"]) == (1, 1)
