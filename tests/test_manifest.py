"""`dynamap fit --manifest FILE`: one bundle per group, each the fit of its rows (the same metrics as
the plain fit of those files), paths relative to the manifest; one-line errors with exit status 2."""

from __future__ import annotations

import json

import pytest

from dynamap import get_system, simulate
from dynamap.cli.main import main
from dynamap.io.series import write_series


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny_config):
    d = tmp_path_factory.mktemp("manifest")
    (d / "rec").mkdir()
    hh = get_system("hh-burster")
    for vs in (-40.0, -37.0):
        s = simulate(hh, {"V_S": vs}, t_end=470.0, transient=400.0, dt=0.005).series("V")
        write_series(s, d / "rec" / f"v{vs:g}.csv")
    (d / "tiny.json").write_text(tiny_config.to_json())
    (d / "manifest.csv").write_text("group,path,channel,param_value,note\n"
                                    "single,rec/v-40.csv,,,untagged\n"
                                    "tagged,rec/v-40.csv,,-40,\n"
                                    "tagged,rec/v-37.csv,,-37,\n")
    return d


def _metrics(path):
    return json.loads((path / "metrics.json").read_text())


def test_one_bundle_per_group_equal_to_the_plain_fits(workdir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths are relative to the manifest, not to the working folder
    cfg = str(workdir / "tiny.json")
    assert main(["fit", "--manifest", str(workdir / "manifest.csv"), "--config", cfg, "--seed", "2",
                 "--quiet", "--out", "out"]) == 0
    rec = workdir / "rec"
    assert main(["fit", str(rec / "v-40.csv"), "--config", cfg, "--seed", "2", "--quiet", "--out", "p1"]) == 0
    assert main(["fit", str(rec / "v-40.csv"), str(rec / "v-37.csv"), "--param-value", "-40", "--param-value",
                 "-37", "--config", cfg, "--seed", "2", "--quiet", "--out", "p2"]) == 0
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["single", "tagged"]
    assert _metrics(out / "single") == _metrics(tmp_path / "p1")
    assert _metrics(out / "tagged") == _metrics(tmp_path / "p2")
    fitted = json.loads((out / "tagged" / "config.json").read_text())["fitted"]
    assert fitted["mode"] == "tagged" and fitted["param_values"] == [-40.0, -37.0]
    for g in ("single", "tagged"):  # each group's bundle as a plain fit writes it, its report and sweep too
        assert (out / g / "sweep.json").read_text() == (tmp_path / ("p1" if g == "single" else "p2") / "sweep.json").read_text()
        assert "Free-running check" in (out / g / "report.html").read_text()

    # groups as ensembles: member i of a group is the group's fit with seed + i
    assert main(["fit", "--manifest", str(workdir / "manifest.csv"), "--config", cfg, "--seed", "1",
                 "--ensemble", "2", "--quiet", "--out", "ens"]) == 0
    info = json.loads((tmp_path / "ens" / "single" / "ensemble.json").read_text())
    assert info["seeds"] == [1, 2]
    assert _metrics(tmp_path / "ens" / "single" / "member-1") == _metrics(tmp_path / "p1")
    assert _metrics(tmp_path / "ens" / "tagged" / "member-1") == _metrics(tmp_path / "p2")


@pytest.mark.parametrize("text, fragment", [
    ("path,param_value,group\nrec/v-40.csv,,a\n", "no column 'channel'"),
    ("path,channel,param_value,group\nrec/missing.csv,,,a\n", "line 2: no such file"),
    ("path,channel,param_value,group\nrec/v-40.csv,,-40,a\nrec/v-37.csv,,,a\n", "mixes rows with and without"),
    ("path,channel,param_value,group\nrec/v-40.csv,,,a\nrec/v-37.csv,,,a\n", "second row without param_value"),
    ("path,channel,param_value,group\nrec/v-40.csv,,-40,a\nrec/v-37.csv,,-40,a\n", "-40 twice"),
    ("path,channel,param_value,group\nrec/v-40.csv,,x,a\n", "is not a number"),
    ("path,channel,param_value,group\nrec/v-40.csv,,,../up\n", "not a folder name"),
])
def test_manifest_errors_are_one_line_with_exit_2(workdir, tmp_path, capsys, text, fragment):
    m = workdir / f"bad-{abs(hash(text))}.csv"
    m.write_text(text)
    code = main(["fit", "--manifest", str(m), "--quiet", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "out").exists()


def test_series_and_manifest_together_is_an_error(workdir, tmp_path, capsys):
    code = main(["fit", str(workdir / "rec" / "v-40.csv"), "--manifest", str(workdir / "manifest.csv"),
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "not both" in err, err
