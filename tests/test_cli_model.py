"""`dynamap fit`, and `simulate`/`sweep`/`lyapunov` on a model bundle, as a user runs them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dynamap import get_system, simulate
from dynamap.cli.main import main
from dynamap.io.series import read_series, write_series
from dynamap.pipeline.config import FitConfig


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny_config, tiny_vae_config):
    d = tmp_path_factory.mktemp("cli-model")
    hh = get_system("hh-burster")
    for vs in (-40.0, -37.0):
        s = simulate(hh, {"V_S": vs}, t_end=480.0, transient=400.0, dt=0.005).series("V")
        write_series(s, d / f"v{vs:g}.csv")
    (d / "tiny.json").write_text(tiny_config.to_json())
    (d / "tiny-vae.json").write_text(tiny_vae_config.to_json())
    return d


@pytest.fixture(scope="module")
def bundle(workdir):
    out = workdir / "model"
    assert main(["fit", str(workdir / "v-40.csv"), "--param-value", "-40", "--config", str(workdir / "tiny.json"),
                 "--quiet", "--out", str(out)]) == 0
    return out


def test_fit_prints_the_free_running_check(workdir, tmp_path, capsys):
    assert main(["fit", str(workdir / "v-37.csv"), "--config", str(workdir / "tiny.json"), "--quiet",
                 "--out", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert err[-1].startswith("check at ") and f"map {metrics['series'][0]['map']['regime']}" in err[-1]
    fitted = json.loads((tmp_path / "m" / "config.json").read_text())["fitted"]
    (shift,), (value,) = fitted["c_shift"], fitted["param_values"]
    said = [line for line in err if line.startswith("control input calibrated")]
    assert said == ([f"control input calibrated (normalised shift per training value): {shift:+g} at {value:g}"]
                    if shift else [])


def test_fit_prints_its_rounds(workdir, tmp_path, capsys, tiny_config):
    cfg = tmp_path / "rounds.json"
    cfg.write_text(FitConfig.from_dict({**tiny_config.to_dict(), "restarts": 1,
                                        "good_score": 0.0, "restart_score": 0.0}).to_json())
    assert main(["fit", str(workdir / "v-40.csv"), "--config", str(cfg), "--quiet",
                 "--out", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    hist = json.loads((tmp_path / "m" / "fit_report.json").read_text())["map"]
    scores = ", ".join(f"{r['selected_score']:.3g}" for r in hist["rounds"])
    said = [line for line in err if "fit rounds" in line]
    assert said == [f"2 fit rounds (VAE and map candidates, fresh random streams; selection scores {scores}): "
                    f"kept round {hist['round'] + 1}"]


def test_bundle_contents(bundle):
    names = {p.name for p in bundle.iterdir()}
    assert {"weights.pt", "config.json", "versions.json", "fit_report.json", "metrics.json"} <= names
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert metrics["series"][0]["data"]["spikes_per_burst"] == [4]
    # the default reconstruction: the newest 16 samples (6 taps, lag 3)
    fitted = json.loads((bundle / "config.json").read_text())["fitted"]
    ev = json.loads((bundle / "fit_report.json").read_text())["latent_dim"]
    assert (fitted["encoder"]["family"], fitted["encoder"]["dim"], ev["chosen"]) == ("delay", 16, 16)
    # the fit report: its checks, and the rate against c from the bundle's sweep.json
    sweep = json.loads((bundle / "sweep.json").read_text())
    from dynamap.report.fit import firing_rates

    c, rate = firing_rates(sweep)
    assert c.size == 41 and c.min() < metrics["series"][0]["param_value"] < c.max() and np.isfinite(rate).all()
    html = (bundle / "report.html").read_text()
    assert "Free-running check at the training values" in html and "Firing rate against the control" in html
    assert html.count("<img") == 2 and "measurement noise" in html


def test_a_vae_bundle_holds_the_latent_dimension_evidence(workdir, tmp_path):
    """The VAE encoder's bundle: one loss per searched D (the tiny range 1..2), and the bundle's
    dimension is the rule applied to those losses; active units counted from the per-unit KL."""
    from dynamap.training import choose_latent_dim

    bundle = tmp_path / "vae"
    assert main(["fit", str(workdir / "v-40.csv"), "--param-value", "-40", "--config",
                 str(workdir / "tiny-vae.json"), "--quiet", "--out", str(bundle)]) == 0
    ev = json.loads((bundle / "fit_report.json").read_text())["latent_dim"]
    losses = {int(k): v["final_loss"] for k, v in ev["per_dim"].items()}
    assert sorted(losses) == [1, 2]
    assert ev["chosen"] == choose_latent_dim(losses, ev["dim_tol"])
    assert json.loads((bundle / "config.json").read_text())["fitted"]["encoder"]["dim"] == ev["chosen"]
    for v in ev["per_dim"].values():
        assert v["active_units"] == sum(k > ev["active_kl"] for k in v["kl_units"])


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".npz"])
def test_simulate_model_formats(bundle, tmp_path, suffix):
    out = tmp_path / f"m{suffix}"
    assert main(["simulate", "--model", str(bundle), "--set", "c=-40", "--t-end", "60", "--transient", "10",
                 "--out", str(out)]) == 0
    s = read_series(out)
    assert len(s) == round(50 / s.dt) and s.t0 == pytest.approx(10.0)


def test_sweep_and_lyapunov_model(bundle, tmp_path):
    out = tmp_path / "sw"
    assert main(["sweep", "--model", str(bundle), "--param", "c", "--from", "-41", "--to", "-39", "--num", "3",
                 "--t-end", "60", "--transient", "10", "--quiet", "--out", str(out)]) == 0
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["param"] == "c" and [p["value"] for p in doc["points"]] == [-41.0, -40.0, -39.0]
    # each point: the label of the bundle's own free run at that c (60 time units, the first 10
    # dropped), classified here
    from dynamap import load_model
    from dynamap.analysis.regimes import classify

    m = load_model(bundle)
    n_skip = round(10 / m.dt_)
    for p in doc["points"]:
        x = m.simulate_batch([p["value"]], round(60 / m.dt_) - n_skip, n_skip)[0]
        want = classify(x, m.dt_, m.spike_threshold_, hysteresis=m.spike_hysteresis_).to_dict()
        assert (p["regime"], p["spikes_per_burst"], p["isi_mean"]) == \
            (want["regime"], want["spikes_per_burst"], want["isi_mean"])
    # and the whole file is the API's sweep (exponents included: -inf, where the tiny map sits on its
    # state box and annihilates tangents, is written as null like every non-finite number)
    from dynamap import SweepSettings, sweep
    from dynamap.io.outputs import to_jsonable

    api = sweep(m.as_system(), "c", [-41.0, -40.0, -39.0], SweepSettings(t_end=60.0, transient=10.0))
    assert [to_jsonable(p) for p in api.points] == doc["points"]
    lj = tmp_path / "l.json"
    assert main(["lyapunov", "--model", str(bundle), "--t-end", "30", "--transient", "5", "--out", str(lj)]) == 0
    spec = json.loads(lj.read_text())
    assert spec["units"] == "per unit time"
    per_unit, per_step = (np.array(spec[k], dtype=float) for k in ("spectrum", "spectrum_per_step"))  # null: nan
    np.testing.assert_allclose(per_unit * spec["dt"], per_step, rtol=1e-12)
    # in a flow's terms (docs/metrics.md section 6): the map's own largest exponent is the spectrum's
    # first (the same orbit and steps, one tangent), and the flow's largest follows from the parts
    # (null: -inf, a tangent the map annihilates on its state box, as above)
    fl = {k: (np.nan if v is None else v) for k, v in spec["flow"].items()}
    np.testing.assert_allclose(fl["own_largest"], per_unit[0], atol=1e-6, equal_nan=True)
    want = fl["own_largest"] if fl["at_rest"] else max(fl["motion"], fl["transverse"])
    np.testing.assert_allclose(fl["largest"], want, equal_nan=True)


def test_fit_bad_inputs(workdir, tmp_path, capsys, cli_exit_2):
    out = str(tmp_path / "m")
    a, b = str(workdir / "v-40.csv"), str(workdir / "v-37.csv")
    cli_exit_2(["fit", a, b, "--param-value", "-40", "--out", out], "give one value per file")
    cli_exit_2(["fit", a, b, "--out", out], "--param-value")
    nan = tmp_path / "nan.csv"
    nan.write_text("t,V\n0,1\n0.1,nan\n0.2,3\n")
    cli_exit_2(["fit", str(nan), "--out", out], "non-finite")
    short = tmp_path / "short.csv"
    short.write_text("t,V\n" + "".join(f"{i * 0.005},{np.sin(i)}\n" for i in range(30)))
    cli_exit_2(["fit", str(short), "--out", out], "short")
    cli_exit_2(["fit", str(tmp_path / "missing.csv"), "--out", out], "file not found")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    cli_exit_2(["fit", a, "--config", str(bad), "--out", out], "not valid JSON")
    # a recording with several channels: --column names the observed one
    two = tmp_path / "two.csv"
    two.write_text("time (s),V (mV),I (nA)\n0,1,5\n0.005,2,5\n0.01,0,5\n")
    cli_exit_2(["fit", str(two), "--out", out], "--column")
    cli_exit_2(["fit", str(two), "--column", "W", "--out", out], "no value column named 'W'")
    assert not (tmp_path / "m").exists()


def test_fit_reads_the_named_column(workdir, tmp_path, capsys):
    s = read_series(workdir / "v-37.csv")
    rec = tmp_path / "rec.tsv"  # a tab-separated recording with a unit in each name and a second channel
    rec.write_text("time (s)\tI (nA)\tV (mV)\n" + "".join(
        f"{float(t)!r}\t0.5\t{float(v)!r}\n" for t, v in zip(s.t, s.values)))
    assert main(["fit", str(rec), "--column", "V (mV)", "--config", str(workdir / "tiny.json"), "--quiet",
                 "--out", str(tmp_path / "m")]) == 0
    ref = tmp_path / "ref"
    assert main(["fit", str(workdir / "v-37.csv"), "--config", str(workdir / "tiny.json"), "--quiet",
                 "--out", str(ref)]) == 0
    # the same data, so the same model and check
    got = json.loads((tmp_path / "m" / "metrics.json").read_text())
    want = json.loads((ref / "metrics.json").read_text())
    assert got == want


def test_model_bad_inputs(bundle, tmp_path, capsys, cli_exit_2):
    cli_exit_2(["sweep", "--model", str(tmp_path), "--param", "c", "--from", "0", "--to", "1",
                              "--num", "2", "--out", str(tmp_path / "o")], "not a dynamap model bundle")
    cli_exit_2(["sweep", "--model", str(bundle), "--param", "V_S", "--from", "0", "--to", "1",
                              "--num", "2", "--out", str(tmp_path / "o")], "--param c")
    cli_exit_2(["simulate", "--model", str(bundle), "--set", "V_S=1", "--t-end", "10",
                              "--out", str(tmp_path / "o.csv")], "use --set c=V")
