"""Nothing half-written: a command killed at any moment leaves its previous complete output or nothing.

Oracles: after a SIGKILL of `dynamap fit` midway and near its end, `--out` holds a whole bundle (every
file of it, and it loads) whose metrics are those of the complete run with the same seed; at the exact
moments of the writing (inside the stage, between the two renames, after them) a process that kills
itself leaves the previous output or the new one, each whole; what killed runs leave beside `--out` is
named as temporary (`.dynamap-<pid>-...`) and is removed, or put back, by the next run.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
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


def _kill_after(cmd, seconds: float) -> bool:
    """Run ``cmd``, SIGKILL it after ``seconds``; True when it was still running then."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    time.sleep(seconds)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def _others(folder, *keep):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_killed_fit_leaves_the_previous_bundle(inputs, tmp_path):
    out = tmp_path / "model"
    t0 = time.perf_counter()
    subprocess.run(_fit_cmd(inputs / "v.csv", inputs / "tiny.json", out), check=True, timeout=300,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True)
    full = time.perf_counter() - t0
    before = _snapshot(out)
    assert {"weights.pt", "config.json", "metrics.json"} <= set(before)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~_umask()  # not mkdtemp's 0700
    killed = 0
    for frac in (0.4, 0.9):  # mid-fit (past the imports), and near the writing
        killed += _kill_after(_fit_cmd(inputs / "v.csv", inputs / "tiny.json", out), frac * full)
        # the previous bundle or the new one (the same seed: the same metrics), whole
        assert sorted(p.name for p in out.iterdir()) == sorted(before)
        assert (out / "metrics.json").read_bytes() == before["metrics.json"]
        load_model(out)
        assert all(name.startswith(TMP_PREFIX) for name in _others(tmp_path, "model")), _others(tmp_path)
    assert killed >= 1, "no run was killed: the kills came after the end"
    subprocess.run(_fit_cmd(inputs / "v.csv", inputs / "tiny.json", out), check=True, timeout=300,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True)
    assert _others(tmp_path, "model") == [], "stale temporary siblings were not removed"
    assert _snapshot(out)["metrics.json"] == before["metrics.json"]  # a rerun, the same seed: the same metrics


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: a process writing version V of a two-file output with staged_dir, killing itself at moment WHEN:
#: "stage" (one file written in the stage), "aside" (the old output renamed aside, the new one not
#: yet in), "in" (the new output in, the old one not yet removed)
_WRITER = textwrap.dedent("""
    import os, signal, sys
    from dynamap.io import outputs
    out, version, when = sys.argv[1], sys.argv[2], sys.argv[3]
    real = os.replace
    renames = []
    def replace(src, dst):
        real(src, dst)
        renames.append(dst)
        if (when == "aside" and len(renames) == 1) or (when == "in" and len(renames) == 2):
            os.kill(os.getpid(), signal.SIGKILL)
    outputs.os.replace = replace
    with outputs.staged_dir(out) as tmp:
        (tmp / "a.txt").write_text(version)
        if when == "stage":
            os.kill(os.getpid(), signal.SIGKILL)
        (tmp / "b.txt").write_text(version)
""")


def _write(out, version):
    with staged_dir(out) as tmp:
        (tmp / "a.txt").write_text(version)
        (tmp / "b.txt").write_text(version)


def _version(out):
    """The one version that ``out``'s two files hold (None when ``out`` is missing)."""
    if not out.exists():
        return None
    a, b = (out / "a.txt").read_text(), (out / "b.txt").read_text()
    assert a == b, f"half-written: a.txt {a}, b.txt {b}"
    return a


#: the moment of the kill -> what --out holds then: the previous output whole; nothing (the previous
#: one kept aside); the new one whole
_AFTER_KILL = {"stage": "1", "aside": None, "in": "2"}


def test_kills_at_the_moments_of_writing(tmp_path):
    outs = {when: tmp_path / when / "o" for when in _AFTER_KILL}
    for out in outs.values():
        out.parent.mkdir()
        _write(out, "1")
        (out / "notes.txt").write_text("mine")  # a user's file beside the output
    procs = {when: subprocess.Popen([sys.executable, "-c", _WRITER, str(out), "2", when], stderr=subprocess.PIPE)
             for when, out in outs.items()}  # at once: each pays the import
    for when, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, (when, err.decode())
    for when, out in outs.items():
        assert _version(out) == _AFTER_KILL[when], when
        left = _others(out.parent, "o")
        assert left and all(n.startswith(TMP_PREFIX) for n in left), (when, left)
        if when == "aside":  # the next run beside it puts the previous output back before it writes
            with staged_dir(out.parent / "elsewhere") as tmp:
                write_json({}, tmp / "x.json")
            assert _version(out) == "1" and (out / "notes.txt").read_text() == "mine"
            shutil.rmtree(out.parent / "elsewhere")
        _write(out, "3")
        assert _version(out) == "3" and (out / "notes.txt").read_text() == "mine", when
        assert _others(out.parent, "o") == [], f"{when}: stale temporary siblings were not removed"


def test_a_killed_single_file_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "l.json"
    write_json({"v": 1}, target)
    code = textwrap.dedent("""
        import os, signal, sys
        from dynamap.io.outputs import staged_file
        with staged_file(sys.argv[1]) as tmp:
            tmp.write_text('{"v": 2')  # half of it
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    r = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, timeout=60)
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()
    assert target.read_text() == '{\n "v": 1\n}\n'
    assert [n for n in _others(tmp_path, "l.json") if n.startswith(TMP_PREFIX)] == _others(tmp_path, "l.json") != []
    write_json({"v": 3}, target)
    assert _others(tmp_path, "l.json") == [] and '"v": 3' in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600


def test_staged_dir_replaces_an_own_output_whole_and_keeps_a_users_files(tmp_path):
    out = tmp_path / "o"
    with staged_dir(out) as tmp:
        write_json({"a": 1}, tmp / "a.json")
        write_json({"b": 1}, tmp / "b.json")
    with staged_dir(out) as tmp:  # only the new output's names: replaced whole
        write_json({"a": 2}, tmp / "a.json")
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.json"]  # b.json is kept: not the new one's
    assert '"a": 2' in (out / "a.json").read_text() and '"b": 1' in (out / "b.json").read_text()
    (out / "notes").mkdir()
    (out / "notes" / "n.txt").write_text("mine")
    with staged_dir(out) as tmp:  # a user's folder beside: kept
        write_json({"a": 3}, tmp / "a.json")
    assert (out / "notes" / "n.txt").read_text() == "mine" and '"a": 3' in (out / "a.json").read_text()
    with pytest.raises(RuntimeError), staged_dir(out) as tmp:  # a failure leaves the old output
        write_json({"a": 4}, tmp / "a.json")
        raise RuntimeError("stage fails")
    assert '"a": 3' in (out / "a.json").read_text()
    assert _others(tmp_path, "o") == []


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
