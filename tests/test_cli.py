"""The command line as a user runs it: outputs, schema, exit status 2 with one line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from dynamap.cli.main import main
from dynamap.io.series import read_series


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "dynamap", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["sweep", "--system", "nope", "--param", "V_S", "--from", "-44", "--to", "-34", "--num", "3"], "unknown system"),
        (["sweep", "--system", "hh-burster", "--param", "V_X", "--from", "-44", "--to", "-34", "--num", "3"], "no parameter 'V_X'"),
        (["sweep", "--system", "hh-burster", "--param", "V_S", "--from", "-34", "--to", "-44", "--num", "3"], "swap them"),
        (["sweep", "--system", "hh-burster", "--param", "V_S", "--from", "-44", "--to", "-34", "--num", "0"], "--num must be at least 1"),
        (["simulate", "--system", "hh-burster", "--t-end", "500", "--dt", "0"], "--dt must be positive"),
        (["simulate", "--system", "hh-burster", "--t-end", "100", "--transient", "200"], "must be beyond transient"),
        (["simulate", "--system", "hh-burster", "--t-end", "500", "--set", "V_S=abc"], "is not a number"),
        (["simulate", "--system", "lorenz", "--t-end", "x"], "invalid float value"),
        (["lyapunov", "--system", "hh-burster", "--set", "Q=1"], "no parameter 'Q'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, fragment):
    out = tmp_path / ("o.csv" if args[0] == "simulate" else "o.json" if args[0] == "lyapunov" else "o")
    code = main([*args, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_path(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["simulate", "--system", "lorenz", "--t-end", "10", "--out", str(blocker / "s.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    code = main(["sweep", "--system", "lorenz", "--param", "rho", "--from", "20", "--to", "30", "--num", "2",
                 "--out", str(blocker / "d")])
    assert code == 2


def test_process_exit_status_and_no_traceback(tmp_path):
    r = run_cli("sweep", "--system", "nope", "--param", "a", "--from", "0", "--to", "1", "--num", "2",
                "--out", str(tmp_path / "d"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".npz"])
def test_simulate_writes_the_observed_series(tmp_path, suffix):
    out = tmp_path / f"v{suffix}"
    assert main(["simulate", "--system", "hh-burster", "--set", "V_S=-40", "--t-end", "450",
                 "--transient", "400", "--dt", "0.01", "--out", str(out)]) == 0
    s = read_series(out)
    assert len(s) == 5001 and s.dt == pytest.approx(0.01)
    assert s.t0 == pytest.approx(400.0)
    assert -80 < s.values.min() < -50 and -30 < s.values.max() < -15  # spikes cross -30 mV


def test_sweep_schema_and_figure(tmp_path):
    out = tmp_path / "sw"
    assert main(["sweep", "--system", "hh-burster", "--param", "V_S", "--from", "-40", "--to", "-36",
                 "--num", "2", "--t-end", "700", "--quiet", "--out", str(out)]) == 0
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["param"] == "V_S"
    assert (out / "sweep.png").stat().st_size > 10_000
    p0, p1 = doc["points"]
    assert p0["value"] == -40 and p0["regime"] == "bursting" and p0["spikes_per_burst"] == [4]
    assert p1["regime"] == "tonic" and p1["spikes_per_burst"] == [1]
    for p in doc["points"]:
        assert {"value", "regime", "spikes_per_burst", "isi_mean", "lyapunov_max"} <= set(p)
        assert abs(p["lyapunov_max"]) < 0.05


def test_lyapunov_cli(tmp_path):
    out = tmp_path / "l.json"
    assert main(["lyapunov", "--system", "henon", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["units"] == "per step"
    np.testing.assert_allclose(doc["spectrum"], [0.419, -1.624], atol=0.01)


def test_forward_continuation_starts_from_the_neighbour(tmp_path):
    """Henon at a = 1.0 and 1.05: forward (backward) continuation starts each value from the last state
    of its lower (upper) neighbour; labels agree with independent starts (one attractor here)."""
    from dynamap import SweepSettings, get_system, sweep

    henon = get_system("henon")
    st = SweepSettings(t_end=3000, transient=1000, dt=1.0, spike_threshold=0.5, lyapunov=False)
    plain = sweep(henon, "a", [1.0, 1.05], st)
    fwd = sweep(henon, "a", [1.0, 1.05], st, continuation="forward")
    assert fwd.source["continuation"] == "forward"
    assert [p["regime"] for p in fwd.points] == [p["regime"] for p in plain.points]
    np.testing.assert_allclose(fwd.points[0]["final_state"], plain.points[0]["final_state"])
    assert fwd.points[1]["initial_state"] == fwd.points[0]["final_state"]
    assert plain.points[1]["initial_state"] == list(henon.initial_state)
    bwd = sweep(henon, "a", [1.0, 1.05], st, continuation="backward")
    assert bwd.points[0]["initial_state"] == bwd.points[1]["final_state"]


def _sweep_file(path, param, points):
    path.write_text(json.dumps({"param": param, "points": [
        {"value": v, "regime": r, "spikes_per_burst": list(k), "lyapunov_max": le, "isi": []}
        for v, r, k, le in points]}))
    return path


TRUE_POINTS = [(-44.0, "bursting", [2], 0.0), (-43.0, "bursting", [3], 0.0), (-42.0, "irregular", [3, 4], 0.5),
               (-41.0, "tonic", [1], 0.0)]


def test_compare_single_mode_scores_regime_sequences(tmp_path, capsys):
    """Different parameter grids: scored as a single-series sweep of c (auto mode), JSON on stdout."""
    true = _sweep_file(tmp_path / "t.json", "V_S", TRUE_POINTS)
    # c runs opposite to V_S; the map has all four regimes in the true order -> score 1
    model = _sweep_file(tmp_path / "m.json", "c", [(0.0, "tonic", [1], 0.0), (0.5, "irregular", [4, 6], 0.3),
                                                     (1.0, "bursting", [3], 0.0), (2.0, "bursting", [2], 0.0)])
    assert main(["compare", str(true), str(model), "--training-spb", "3"]) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert doc["mode"] == "single" and doc["score"] == 1.0 and doc["precision"] == 1.0
    assert doc["new_spb"] == [2] and doc["n_regime_changes"] == {"true": 3, "model": 3}
    # chance: the model's 4 distinct runs in random order score 1 only in the true order or its
    # reverse (2 of 24 orders); the mean is that of max(LIS, LDS) / 4 over the 24 orders (500 seeded
    # shuffles: about 4 standard errors of tolerance)
    from itertools import permutations

    def lis(seq):
        best = [1] * len(seq)
        for i in range(len(seq)):
            for j in range(i):
                if seq[j] < seq[i]:
                    best[i] = max(best[i], best[j] + 1)
        return max(best)

    exact = np.mean([max(lis(o), lis(o[::-1])) / 4 for o in permutations(range(4))])
    assert doc["chance"]["p_value"] == pytest.approx(2 / 24, abs=0.05)
    assert doc["chance"]["mean"] == pytest.approx(exact, abs=0.03)
    assert len(cap.err.strip().splitlines()) == 1 and "regime-sequence agreement 1.000" in cap.err


def test_compare_tagged_mode_pairs_points_and_writes_json(tmp_path, capsys):
    """Same values in both sweeps: scored point by point (auto -> tagged); a folder works as input."""
    true = _sweep_file(tmp_path / "t.json", "V_S", TRUE_POINTS)
    (tmp_path / "msw").mkdir()
    # wrong spike count (and a positive exponent) at -43, bursting instead of tonic at -41: no onset
    _sweep_file(tmp_path / "msw" / "sweep.json", "c", [
        (-44.0, "bursting", [2], 0.0), (-43.0, "bursting", [4], 0.2), (-42.0, "irregular", [5], 0.4),
        (-41.0, "bursting", [2], 0.0)])
    out = tmp_path / "scores.json"
    assert main(["compare", str(true), str(tmp_path / "msw"), "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["mode"] == "tagged"
    assert doc["heldout_accuracy"] == 0.5 and doc["n_match"] == 2  # -44 and -42 (irregular) match
    assert doc["transition"]["true"] == -41.5 and doc["transition"]["model"] is None
    assert doc["lyapunov_sign_agreement"] == pytest.approx(3 / 4)  # all but -43 (0 vs +)
    err = capsys.readouterr().err
    assert "held-out accuracy 0.500 (2 of 4)" in err and "none in the model" in err


@pytest.mark.parametrize("case,fragment", [
    ("missing", "no such sweep"), ("not_json", "not a readable JSON sweep"),
    ("grid", "same parameter values"), ("suffix", "unknown file type"),
])
def test_compare_bad_input_exits_2_with_one_line(tmp_path, capsys, case, fragment):
    true = _sweep_file(tmp_path / "t.json", "V_S", TRUE_POINTS)
    model = _sweep_file(tmp_path / "m.json", "c", TRUE_POINTS[:2])
    args = ["compare", str(true), str(model)]
    if case == "missing":
        args[2] = str(tmp_path / "nope.json")
    elif case == "not_json":
        model.write_text("value,regime\n1,tonic\n")
    elif case == "grid":
        args += ["--mode", "tagged"]
    else:
        args += ["--out", str(tmp_path / "scores.txt")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "scores.txt").exists()


def test_the_sweep_figure_draws_every_points_counts_isis_and_maxima(tmp_path):
    """The orbit diagram draws one marker per spike count of each point (tonic points at 1, in their
    regime's colour), every ISI and every maximum, each panel in one scatter."""
    import matplotlib

    matplotlib.use("Agg")
    from dynamap.report.figures import REGIME_COLORS, sweep_figure

    pts = [{"value": 0.0, "regime": "silent", "maxima": [-60.0]},
           {"value": 1.0, "regime": "bursting", "spb_counts": {"3": 5, "4": 2}, "isi": [0.2, 0.3, 2.0],
            "maxima": [10.0, 11.0], "lyapunov_max": 0.1},
           {"value": 2.0, "regime": "tonic", "isi": [0.5], "maxima": [12.0], "lyapunov_max": -0.2}]
    fig = sweep_figure({"param": "c", "points": pts}, tmp_path / "s.png")
    ax_spb, ax_isi, ax_max, _ = fig.axes[:4]
    spb = ax_spb.collections[0]
    assert spb.get_offsets().tolist() == [[1.0, 3.0], [1.0, 4.0], [2.0, 1.0]]
    colours = matplotlib.colors.to_rgba_array([REGIME_COLORS["bursting"]] * 2 + [REGIME_COLORS["tonic"]])
    np.testing.assert_allclose(spb.get_facecolors(), colours)
    assert ax_isi.collections[0].get_offsets().tolist() == [[1.0, 0.2], [1.0, 0.3], [1.0, 2.0], [2.0, 0.5]]
    assert ax_max.collections[0].get_offsets().tolist() == [[0.0, -60.0], [1.0, 10.0], [1.0, 11.0], [2.0, 12.0]]
    assert (tmp_path / "s.png").stat().st_size > 1000
