"""Nothing half-written: a command killed at any moment leaves its previous complete output or nothing.

Oracle: after a SIGKILL at several moments of `dynamap fit`, `--out` either does not exist or holds a
whole bundle (every file of it, and it loads), and the next run removes the temporary siblings the
killed one left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dynamap import get_system, load_model, simulate, write_series
from dynamap.io.outputs import TMP_PREFIX, staged_dir, write_json


def _fit_cmd(series, config, out):
    return [sys.executable, "-m", "dynamap", "fit", str(series), "--param-value", "-40", "--config",
            str(config), "--quiet", "--out", str(out)]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_config):
    d = tmp_path_factory.mktemp("atomic")
    hh = get_system("hh-burster")
    write_series(simulate(hh, {"V_S": -40.0}, t_end=470.0, transient=400.0, dt=0.005).series("V"), d / "v.csv")
    (d / "tiny.json").write_text(tiny_config.to_json())
    return d


def _kill_after(cmd, seconds: float) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_a_killed_fit_leaves_the_previous_bundle_or_nothing(inputs, tmp_path):
    out = tmp_path / "model"
    _kill_after(_fit_cmd(inputs / "v.csv", inputs / "tiny.json", out), 1.5)  # mid-fit: nothing yet
    assert not out.exists()
    t0 = time.perf_counter()
    subprocess.run(_fit_cmd(inputs / "v.csv", inputs / "tiny.json", out), check=True, timeout=300)
    full = time.perf_counter() - t0
    names = sorted(p.name for p in out.iterdir())
    for frac in (0.5, 0.9, 0.98):  # kills spread over the run, the last ones near the writing
        _kill_after(_fit_cmd(inputs / "v.csv", inputs / "tiny.json", out), frac * full)
        if out.exists():  # the previous bundle or the new one (the same seed: the same files), whole
            assert sorted(p.name for p in out.iterdir()) == names
            load_model(out)
    leftovers = list(tmp_path.glob(TMP_PREFIX + "*"))
    subprocess.run(_fit_cmd(inputs / "v.csv", inputs / "tiny.json", out), check=True, timeout=300)
    assert not [p for p in leftovers if p.exists()], "stale temporary siblings were not removed"
    assert load_model(out).latent_dim_ >= 1


def test_staged_dir_replaces_an_own_output_whole_and_keeps_a_users_files(tmp_path):
    out = tmp_path / "o"
    with staged_dir(out) as tmp:
        write_json({"a": 1}, tmp / "a.json")
        write_json({"b": 1}, tmp / "b.json")
    with staged_dir(out) as tmp:  # only the new output's names: replaced whole
        write_json({"a": 2}, tmp / "a.json")
        write_json({"b": 2}, tmp / "b.json")
    assert (out / "a.json").read_text().strip().endswith("}") and '"a": 2' in (out / "a.json").read_text()
    (out / "notes.txt").write_text("mine")
    with staged_dir(out) as tmp:  # a user's file beside: merged, the user's file kept
        write_json({"a": 3}, tmp / "a.json")
    assert (out / "notes.txt").read_text() == "mine" and '"a": 3' in (out / "a.json").read_text()
    with pytest.raises(RuntimeError), staged_dir(out) as tmp:  # a failure leaves the old output
        write_json({"a": 4}, tmp / "a.json")
        raise RuntimeError("stage fails")
    assert '"a": 3' in (out / "a.json").read_text()
    assert not list(tmp_path.glob(TMP_PREFIX + "*"))


def test_stale_temporary_siblings_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{TMP_PREFIX}{dead.pid}-abc"
    stale.mkdir()
    live = tmp_path / f"{TMP_PREFIX}{os.getppid()}-abc"  # a running process's: kept
    live.mkdir()
    with staged_dir(tmp_path / "o") as tmp:
        write_json({}, tmp / "x.json")
    assert not stale.exists() and live.exists()
