"""Ensembles: the scores of an ensemble sweep in closed form on hand-made sweeps; fits from seeds
seed..seed+K-1 in local processes equal to the same fits one after another and to plain fits; the
CLI's fit --ensemble, sweep of an ensemble folder, compare, and its one-line errors."""

from __future__ import annotations

import json
import sys
from collections import Counter

import numpy as np
import pytest

from dynamap import InputError, compare, fit, fit_ensemble, get_system, load_ensemble, load_model, simulate
from dynamap.analysis.compare import compare_summary, evaluate_ensemble
from dynamap.analysis.ensemble import combine_sweeps
from dynamap.analysis.scores import accuracy_by_agreement, modal_label
from dynamap.cli.main import main
from dynamap.io.outputs import to_jsonable
from dynamap.io.series import write_series


def _json(obj) -> str:
    return json.dumps(to_jsonable(obj), sort_keys=True)


def _pt(value, regime, spb=(), **extra):
    return {"value": float(value), "regime": regime, "spikes_per_burst": list(spb), **extra}


B3, B4 = ("bursting", (3,)), ("bursting", (4,))


def _labelled(value, lab, member):
    extra = {"isi_mean": 10.0 * member + value}
    if isinstance(lab, tuple):
        return _pt(value, lab[0], lab[1], **extra)
    return _pt(value, lab, (3, 4) if lab == "irregular" else (1,) if lab == "tonic" else (), **extra)


TRUTH = [B3, B3, B4, "irregular", "tonic", "tonic"]
MEMBERS = [
    [B3, B4, B4, "irregular", "tonic", "silent"],
    [B3, B3, B3, "irregular", "failed", "tonic"],
    [B3, B3, B4, "tonic", "silent", B3],
]


def _sweep(labels, member=0, values=range(6)):
    return {"param": "c", "source": {"member": member}, "settings": {},
            "points": [_labelled(v, lab, member) for v, lab in zip(values, labels)]}


@pytest.fixture
def ens_sweep():
    return combine_sweeps([_sweep(m, i) for i, m in enumerate(MEMBERS)], seeds=[7, 8, 9]).to_dict()


def test_modal_label_ties_go_to_the_first_member():
    assert modal_label(["a", "b", "b", "a", "c"]) == ("a", 2, 0)
    assert modal_label(["t", B3, B3]) == (B3, 2, 1)
    assert modal_label(["x"]) == ("x", 1, 0)
    with pytest.raises(InputError):
        modal_label([])


def test_accuracy_by_agreement_closed_form():
    got = accuracy_by_agreement([True, False, True, True], [5, 5, 3, 4], 5)
    assert got == [
        {"n_agree": 3, "agreement": 0.6, "n_points": 1, "n_match": 1, "accuracy": 1.0},
        {"n_agree": 4, "agreement": 0.8, "n_points": 1, "n_match": 1, "accuracy": 1.0},
        {"n_agree": 5, "agreement": 1.0, "n_points": 2, "n_match": 1, "accuracy": 0.5},
    ]
    with pytest.raises(InputError, match="1..5"):
        accuracy_by_agreement([True], [6], 5)
    with pytest.raises(InputError, match="pair up"):
        accuracy_by_agreement([True, False], [1], 5)


def test_combine_sweeps_modal_label_agreement_and_representative(ens_sweep):
    pts = ens_sweep["points"]
    assert [p["modal_label"] for p in pts] == ["bursting 3", "bursting 3", "bursting 4", "irregular", "tonic",
                                               "silent"]
    assert [p["n_agree"] for p in pts] == [3, 2, 2, 2, 1, 1]
    assert [p["agreement"] for p in pts] == [1.0, 2 / 3, 2 / 3, 2 / 3, 1 / 3, 1 / 3]
    assert [p["modal_member"] for p in pts] == [0, 1, 0, 0, 0, 0]
    # the ordinary fields are the representative member's: its regime and its other values
    assert [p["regime"] for p in pts] == ["bursting", "bursting", "bursting", "irregular", "tonic", "silent"]
    assert [p["isi_mean"] for p in pts] == [0.0, 11.0, 2.0, 3.0, 4.0, 5.0]
    assert pts[4]["member_labels"] == ["tonic", "failed", "silent"]
    assert pts[1]["member_spikes_per_burst"] == [[4], [3], [3]]
    assert ens_sweep["ensemble"]["k"] == 3 and ens_sweep["ensemble"]["seeds"] == [7, 8, 9]
    assert ens_sweep["ensemble"]["mean_agreement"] == pytest.approx(11 / 18, abs=1e-15)
    with pytest.raises(InputError, match="member sweep 1"):
        combine_sweeps([_sweep(MEMBERS[0]), _sweep(MEMBERS[1], 1, values=range(1, 7))])


def test_compare_tagged_scores_the_modal_label_and_adds_accuracy_by_agreement(ens_sweep):
    res = compare(_sweep(TRUTH), ens_sweep)
    assert res["mode"] == "tagged"
    assert res["heldout_accuracy"] == 5 / 6 and res["n_match"] == 5
    ens = res["ensemble"]
    assert ens["k"] == 3 and ens["n_points"] == 6 and ens["n_unanimous"] == 1
    assert ens["mean_agreement"] == pytest.approx(11 / 18, abs=1e-15)
    assert [(e["n_agree"], e["n_points"], e["n_match"], e["accuracy"]) for e in ens["by_agreement"]] == [
        (1, 2, 1, 0.5), (2, 3, 3, 1.0), (3, 1, 1, 1.0)]
    # one identity: the levels' matches add up to the modal label's held-out matches
    assert sum(e["n_match"] for e in ens["by_agreement"]) == res["n_match"]
    line = compare_summary(res)
    assert "modal label of 3 models" in line and "1/3: 0.50 of 2, 2/3: 1.00 of 3, 3/3: 1.00 of 1" in line
    # a single model's sweep has no ensemble part
    plain = compare(_sweep(TRUTH), _sweep(MEMBERS[0]))
    assert "ensemble" not in plain and "modal label" not in compare_summary(plain)


def test_single_mode_counts_modal_labels_that_are_true_regimes(ens_sweep):
    truth = _sweep([B3, "irregular", "tonic"], values=(-44.0, -40.0, -36.0))
    res = compare(truth, ens_sweep)
    assert res["mode"] == "single"
    assert [(e["n_agree"], e["n_points"], e["n_match"]) for e in res["ensemble"]["by_agreement"]] == [
        (1, 2, 1), (2, 3, 2), (3, 1, 1)]
    assert evaluate_ensemble(truth, ens_sweep, mode="single") == res["ensemble"]
    with pytest.raises(InputError, match="not an ensemble"):
        evaluate_ensemble(truth, _sweep(MEMBERS[0]))


# ------------------------------------------------------------------------------ fits (tiny config)


@pytest.fixture(scope="module")
def series():
    hh = get_system("hh-burster")
    return simulate(hh, {"V_S": -40.0}, t_end=470.0, transient=400.0, dt=0.005).series("V", param_value=-40.0)


def test_local_processes_equal_one_after_another_and_plain_fits(series, tiny_config, tmp_path):
    side = fit_ensemble(series, k=3, seed=5, config=tiny_config, jobs=3, check=True)
    seq = fit_ensemble(series, k=3, seed=5, config=tiny_config, jobs=1, check=True)
    assert side.seeds == seq.seeds == [5, 6, 7]
    assert [_json(m) for m in side.metrics] == [_json(m) for m in seq.metrics]
    plain = fit(series, config=tiny_config, seed=7, progress=False)
    from dynamap.pipeline.check import fit_metrics

    assert _json(fit_metrics(plain, [series])) == _json(side.metrics[2])
    for key, t in plain.map_.state_dict().items():
        assert t.equal(side.members[2].map_.state_dict()[key]), key
    side.save(tmp_path / "ens")
    back = load_ensemble(tmp_path / "ens")
    assert back.seeds == [5, 6, 7] and [_json(m) for m in back.metrics] == [_json(m) for m in side.metrics]
    info = json.loads((tmp_path / "ens" / "ensemble.json").read_text())
    assert info["members"] == ["member-0", "member-1", "member-2"] and info["k"] == 3
    with pytest.raises(InputError, match="an ensemble of models.*load_ensemble"):
        load_model(tmp_path / "ens")
    assert load_model(tmp_path / "ens" / "member-2").seed == 7


def test_cli_fit_ensemble_sweep_and_compare(series, tiny_config, tmp_path, capsys, cli_exit_2):
    write_series(series, tmp_path / "v.csv")
    (tmp_path / "tiny.json").write_text(tiny_config.to_json())
    ens = tmp_path / "ens"
    base = ["fit", str(tmp_path / "v.csv"), "--param-value", "-40", "--config", str(tmp_path / "tiny.json"),
            "--quiet"]
    assert main(base + ["--ensemble", "2", "--seed", "3", "--out", str(ens)]) == 0
    assert main(base + ["--seed", "4", "--out", str(tmp_path / "plain")]) == 0
    assert (json.loads((ens / "member-1" / "metrics.json").read_text())
            == json.loads((tmp_path / "plain" / "metrics.json").read_text()))
    capsys.readouterr()

    sweep_args = ["--param", "c", "--from", "-41", "--to", "-39", "--num", "3", "--t-end", "40",
                  "--transient", "10", "--no-lyapunov", "--quiet"]
    assert main(["sweep", "--model", str(ens), *sweep_args, "--out", str(tmp_path / "sw")]) == 0
    assert main(["sweep", "--model", str(ens / "member-1"), *sweep_args, "--out", str(tmp_path / "sw1")]) == 0
    sw = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    one = json.loads((tmp_path / "sw1" / "sweep.json").read_text())
    assert (tmp_path / "sw" / "sweep.png").is_file() and sw["ensemble"]["k"] == 2
    for p, q in zip(sw["points"], one["points"]):
        assert len(p["member_labels"]) == 2
        assert p["member_regimes"][1] == q["regime"]  # member 1 swept inside the ensemble = alone
        lab, n = Counter(p["member_labels"]).most_common(1)[0]
        assert p["n_agree"] == n and p["agreement"] == n / 2
        assert p["modal_label"] == (lab if n == 2 else p["member_labels"][0])

    truth = {"param": "V_S", "points": [_pt(-41, "bursting", (4,)), _pt(-40, "bursting", (4,)),
                                        _pt(-39, "irregular", (3, 4))]}
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    assert main(["compare", str(tmp_path / "truth.json"), str(tmp_path / "sw"), "--out",
                 str(tmp_path / "scores.json")]) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    levels = scores["ensemble"]["by_agreement"]
    assert sum(e["n_points"] for e in levels) == 3
    assert sum(e["n_match"] for e in levels) == scores["n_match"]
    capsys.readouterr()

    cli_exit_2(["simulate", "--model", str(ens), "--t-end", "10", "--out",
                              str(tmp_path / "x.csv")], "is an ensemble")
    cli_exit_2(base + ["--out", str(ens)], "holds an ensemble")
    cli_exit_2(base + ["--ensemble", "2", "--out", str(tmp_path / "plain")], "holds a model bundle")


def test_cli_option_errors(tmp_path, capsys, monkeypatch, cli_exit_2):
    (tmp_path / "v.csv").write_text("t,V\n0,1\n1,2\n")
    v = str(tmp_path / "v.csv")
    out = str(tmp_path / "m")
    cli_exit_2(["fit", v, "--ensemble", "0", "--out", out], "--ensemble must be at least 1")
    cli_exit_2(["fit", v, "--jobs", "2", "--out", out], "add one")
    cli_exit_2(["fit", v, "--ensemble", "2", "--address", "auto", "--out", out],
                     "use it with --backend ray")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    cli_exit_2(["fit", v, "--ensemble", "2", "--backend", "ray", "--out", out], "dynamap[ray]")
    assert not (tmp_path / "m").exists()


def test_ensemble_sweep_api_equals_member_sweeps(series, tiny_config):
    from dynamap import SweepResult, SweepSettings, sweep

    e = fit_ensemble(series, k=2, seed=0, config=tiny_config, jobs=1)
    settings = SweepSettings(t_end=40.0, transient=10.0, lyapunov=False)
    values = np.linspace(-41.0, -39.0, 3)
    got = e.sweep("c", values, settings)
    assert isinstance(got, SweepResult) and got.ensemble["k"] == 2  # the type every sweep has
    for i, m in enumerate(e.members):
        alone = sweep(m.as_system(), "c", values, settings).to_dict()
        assert [p["member_regimes"][i] for p in got.points] == [p["regime"] for p in alone["points"]]
