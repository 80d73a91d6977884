"""Recordings that change regime: the windows, stretches and warning of
:mod:`dynamap.analysis.stationarity` (rules: docs/metrics.md section 11)."""

from pathlib import Path

import numpy as np
import pytest

import dynamap
from dynamap.analysis.stationarity import regime_stretches

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def _train(rate: float, t_end: float, dt: float, level: float = -65.0, t_spike: float = 0.002) -> np.ndarray:
    """A regular train: ``level`` with a 60 mV pulse of ``t_spike`` every 1/``rate``."""
    t = np.arange(int(round(t_end / dt))) * dt
    x = np.full(t.size, level)
    if rate > 0:
        x[(t % (1.0 / rate)) < t_spike] += 90.0
    return x


def test_one_regime_is_stationary_and_a_drift_is_named_with_its_times():
    dt = 0.001
    steady = regime_stretches(_train(10.0, 30.0, dt), dt, -20.0, t0=5.0)
    assert steady["stationary"] and steady["message"] is None
    assert len(steady["stretches"]) == 1 and steady["stretches"][0]["start"] == 5.0
    assert steady["stretches"][0]["rate"] == pytest.approx(10.0, rel=0.02)
    # rest, then spiking at 8 /s, then a depolarisation block at -30 mV: 20 s each
    x = np.concatenate([_train(0.0, 20.0, dt), _train(8.0, 20.0, dt), _train(0.0, 20.0, dt, level=-30.0)])
    r = regime_stretches(x, dt, -20.0)
    assert not r["stationary"]
    kinds = [s["kind"] for s in r["stretches"]]
    assert [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]] == ["silent", "spiking", "silent"]
    # the boundaries within one window (12 s here: 160 spikes in 5 windows); the mixed windows at the
    # boundaries are stretches of their own, at a rate between
    first, last = r["stretches"][0], r["stretches"][-1]
    assert first["start"] == 0.0 and 12.0 <= first["end"] <= 24.0 and 36.0 <= last["start"] <= 48.0
    assert max(s["rate"] for s in r["stretches"]) == pytest.approx(8.0, rel=0.05)
    assert last["level"] == pytest.approx(-30.0) and first["level"] == pytest.approx(-65.0)
    assert "0-12: silent at -65" in r["message"] and "48-60: silent at -30" in r["message"]
    # a rate that triples halfway is a change of regime; one within 2x is not
    assert not regime_stretches(np.concatenate([_train(5.0, 30.0, dt), _train(15.0, 30.0, dt)]), dt, -20.0)[
        "stationary"]
    assert regime_stretches(np.concatenate([_train(5.0, 30.0, dt), _train(8.0, 30.0, dt)]), dt, -20.0)[
        "stationary"]


@pytest.mark.skipif(not REAL.is_dir(), reason="needs shared/real beside the checkout")
def test_the_real_traces_are_stationary():
    for f in sorted(REAL.glob("*.csv")):
        d = np.loadtxt(f, delimiter=",", skiprows=1)
        r = regime_stretches(d[:, 1], float(d[1, 0] - d[0, 0]), -20.0, 20.0, t0=float(d[0, 0]))
        assert r["stationary"], (f.name, r["message"])


def test_a_fit_on_a_drifting_series_warns_and_keeps_the_stretches(tiny_config):
    hh = dynamap.get_system("hh-burster")
    parts = [np.asarray(dynamap.simulate(hh, {"V_S": v}, t_end=250.0, transient=50.0, dt=0.01).series("V").values)
             for v in (-50.0, -40.0)]  # silent, then bursting
    s = dynamap.Series(np.concatenate(parts), 0.01, name="V")
    with pytest.warns(dynamap.NonStationaryWarning, match="changes regime"):
        m = dynamap.DynamapModel(tiny_config, seed=0).fit(s, progress=False)
    (r,) = m.history_["stationarity"]
    assert not r["stationary"] and [st["kind"] for st in r["stretches"]] == ["silent", "spiking"]
