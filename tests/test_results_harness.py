"""The results harness (benchmarks/results.py, benchmarks/_harness.py): its baselines against closed
forms, a missing peer skipped with one line, every installed peer's adapter on the contract, and the
quick run end to end (the page it generates), so the harness cannot rot."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def H(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("_harness")


def _pt(value, regime, spb=()):
    return {"value": value, "regime": regime, "spikes_per_burst": list(spb), "status": "ok", "lyapunov_max": None}


def _data(H, tags, tag_points, values, truth_points):
    p = H.PROTOCOLS["hh-quick"]
    return H.Data(p, [], list(tags), list(values), {"param": "V_S", "points": truth_points}, tag_points)


def test_interpolation_and_lookup_closed_forms(H):
    """Between a 2-spike and a 6-spike tag the interpolation says 3, 4, 5 spikes at a quarter, half,
    three quarters; beyond the bursting tags (next to a tonic one) it is the lookup."""
    tags = [0.0, 1.0, 2.0]
    tp = [_pt(0.0, "bursting", [2]), _pt(1.0, "bursting", [6]), _pt(2.0, "tonic", [1])]
    values = [0.25, 0.5, 0.75, 1.4, 1.6]
    data = _data(H, tags, tp, values, [])
    sw = H.Interpolation().fit(data, 0).sweep(values, data.protocol)
    got = [(q["regime"], q["spikes_per_burst"]) for q in sw["points"]]
    assert got == [("bursting", [3]), ("bursting", [4]), ("bursting", [5]), ("bursting", [6]), ("tonic", [1])]
    look = H.Lookup().fit(data, 0).sweep(values, data.protocol)
    assert [q["spikes_per_burst"] for q in look["points"]] == [[2], [2], [6], [6], [1]]


def test_lookup_row_equals_compare_baseline(H):
    """The lookup scored as a predictor reproduces dynamap.compare's own nearest-tag baseline (two
    routes to one number), and the interpolation beats it where the truth is the interpolated count."""
    tags = [0.0, 1.0]
    tp = [_pt(0.0, "bursting", [2]), _pt(1.0, "bursting", [4])]
    values = [0.2, 0.5, 0.8]
    truth = [_pt(0.2, "bursting", [2]), _pt(0.5, "bursting", [3]), _pt(0.8, "bursting", [4])]
    data = _data(H, tags, tp, values, truth)
    look = H.score(H.Lookup(), data, 0)
    assert look["accuracy"] == pytest.approx(look["lookup"]) == pytest.approx(2 / 3)
    interp = H.score(H.Interpolation(), data, 0)
    assert interp["accuracy"] == 1.0 and interp["sign"] is None


def test_missing_peer_is_one_skipped_line(H, tmp_path, monkeypatch):
    results = importlib.import_module("results")
    fake = tmp_path / "_peer_fake.py"
    fake.write_text("NAME = 'not-a-peer'\nIMPORT = 'no_such_package_xyz'\nDEFAULTS = {}\nSEARCH = {}\n"
                    "class Model:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    peer = H.Peer("_peer_fake", searched=False)
    lines = []
    monkeypatch.setattr(H, "load", lambda p, cache=None: _data(H, [0.0, 1.0], [], [0.5], []))
    results.run(["hh-quick"], [peer], [0], tmp_path / "store", log=lambda *a, **k: lines.append(" ".join(map(str, a))))
    stored = json.loads((tmp_path / "store" / "hh-quick.json").read_text())
    assert stored["rows"] == {} and "not installed" in stored["skipped"]["not-a-peer-defaults"]["why"]
    assert sum("skipped" in ln for ln in lines) == 1


def _installed_peers():
    out = []
    for path in sorted(BENCH.glob("_peer_*.py")):
        sys.path.insert(0, str(BENCH))
        try:
            mod = importlib.import_module(path.stem)
        finally:
            sys.path.remove(str(BENCH))
        try:
            importlib.import_module(mod.IMPORT)
        except ImportError:
            continue
        out.append(path.stem)
    return out


@pytest.mark.parametrize("name", _installed_peers() or [pytest.param("none", marks=pytest.mark.skip("no peer installed"))])
def test_peer_adapter_contract(H, name):
    """An installed peer's adapter on the contract: fit on three z-scored oscillations at three c (the
    fewest tags of a protocol; rc-prediction refuses fewer), then rows of the requested shape, one per
    (warm, c), with its documented defaults."""
    mod = importlib.import_module(name)
    assert isinstance(mod.DEFAULTS, dict) and isinstance(mod.SEARCH, dict) and mod.NAME and mod.IMPORT
    t = np.arange(6000) * 0.05
    u = [np.sin(t * w) for w in (1.0, 1.15, 1.3)]
    m = mod.Model(dict(mod.DEFAULTS), 0).fit(u, [-1.0, 0.0, 1.0])
    out = np.asarray(m.run([u[0][-500:], u[1][-500:], u[0][-500:]], [-1.0, 1.0, 0.0], 50))
    assert out.shape == (3, 50)


def test_quick_run_writes_the_page(tmp_path):
    """`results.py --quick`: the QUICK tagged protocol with dynamap, our NG-RC, the baselines and the
    installed peers' defaults; a table row per predictor, dynamap's accuracy a share of 9 values."""
    import subprocess

    r = subprocess.run([sys.executable, str(BENCH / "results.py"), "--quick", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    page = (tmp_path / "results.md").read_text()
    stored = json.loads((tmp_path / "hh-quick.json").read_text())
    dm = stored["rows"]["dynamap|0"]
    assert 0.0 <= dm["accuracy"] <= 1.0 and dm["n"] == 9 and dm["fit_s"] > 0
    assert stored["rows"]["lookup|0"]["accuracy"] == pytest.approx(dm["lookup"])
    for key in ("dynamap (default", "nearest-tag lookup", "linear interpolation", "NG-RC (ours"):
        assert key in page
