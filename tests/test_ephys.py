"""Recordings through neo: ABF and NWB files written here with a known trace (an HH burster's voltage),
read back through read_series and fitted and swept from the CLI.

Oracles: the trace that was written. ABF1 stores int16 samples; pyabf's writer picks the finest
scale that holds the trace (pyabf.abfWriter.writeABF1: fADCRange 10, lADCResolution 32768,
fInstrumentScaleFactor 10, 1, 0.1, ...), so a trace below 100 mV in magnitude comes back within one step of
10 / (32768 * 0.1) mV and a trace below 1 V written in V within 1 / 32768 V. NWB stores float64:
exact up to the unit conversion (NWB: value = data * conversion + offset, in the series' unit).

The tests of files skip when the ``ephys`` extra (neo, pynwb, pyabf) is not installed.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest

from dynamap import InputError, Series, get_system, read_series, simulate, write_series
from dynamap.cli.main import main

RATE = 200_000.0  # Hz: the burster simulated at dt = 0.005 ms
ABF_STEP_MV = 10 / (32768 * 0.1)  # one int16 step of pyabf's ABF1 writer for |x| < 100 (mV)
ABF_STEP_V = 10 / (32768 * 10)  # ... for |x| < 1 (V)


def write_abf(path, sweeps: np.ndarray, rate: float, units: str) -> None:
    """An ABF1 file of ``sweeps`` (one row each) with pyabf's writer, plus the synch array (sweep
    start and length, ABF1 header fields lSynchArrayPtr at byte 92 and lSynchArraySize at 96) that
    the writer leaves out and without which readers see one gap-free segment."""
    from pyabf.abfWriter import writeABF1

    writeABF1(np.asarray(sweeps, dtype=np.float32), str(path), rate, units=units)
    n_sweeps, n_points = sweeps.shape
    size = path.stat().st_size
    assert size % 512 == 0
    with open(path, "r+b") as fh:
        fh.seek(92)
        fh.write(struct.pack("<ii", size // 512, n_sweeps))
        fh.seek(0, 2)
        fh.write(np.array([(k * n_points, n_points) for k in range(n_sweeps)], dtype="<i4").tobytes())


def write_nwb(path, trace: np.ndarray, rate: float) -> None:
    """An NWB file: the trace as a CurrentClampSeries in volts stored with conversion 1e-3 and offset
    -0.065 V (sweep 0, starting at 2.5 s), the trace halved as a second sweep, and TimeSeries: the
    trace in mV, a ramp in pA, the trace with sample times (uniform from 0.5 s; and uneven)."""
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.icephys import CurrentClampSeries

    nwb = NWBFile(session_description="burster", identifier="dynamap-test",
                  session_start_time=datetime(2026, 1, 1, tzinfo=timezone.utc))
    el = nwb.create_icephys_electrode(name="e0", description="patch", device=nwb.create_device(name="amp"))
    conversion, offset = 1e-3, -0.065
    for k, scale in enumerate((1.0, 0.5)):
        volts = scale * trace * 1e-3
        nwb.add_acquisition(CurrentClampSeries(
            name=f"Vm{k}", data=(volts - offset) / conversion, electrode=el, gain=1.0, rate=rate,
            starting_time=2.5 + k, sweep_number=np.uint32(k), conversion=conversion, offset=offset))
    nwb.add_acquisition(TimeSeries(name="V_mV", data=trace, unit="mV", rate=rate, starting_time=0.0))
    nwb.add_acquisition(TimeSeries(name="I_inj", data=np.linspace(0.0, 50.0, 100), unit="pA", rate=1000.0,
                                   starting_time=0.0))
    t = 0.5 + np.arange(trace.size) / rate  # sample times instead of a rate: uniform, and not
    nwb.add_acquisition(TimeSeries(name="V_times", data=trace, unit="mV", timestamps=t))
    nwb.add_acquisition(TimeSeries(name="V_uneven", data=trace, unit="mV", timestamps=t + 0.3 * (t - 0.5) ** 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hdmf's notes on its own dtype choices while writing
        with NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)


@pytest.fixture(scope="module")
def trace():
    hh = get_system("hh-burster")
    v = simulate(hh, {"V_S": -40.0}, t_end=470.0, transient=400.0, dt=0.005).series("V")
    assert np.abs(v.values).max() < 100
    return v.values


@pytest.fixture(scope="module")
def files(tmp_path_factory, trace):
    for mod in ("neo", "pynwb", "pyabf"):
        pytest.importorskip(mod)
    d = tmp_path_factory.mktemp("ephys")
    write_abf(d / "two.abf", np.vstack([0.5 * trace - 30.0, trace]), RATE, "mV")
    write_abf(d / "volts.abf", trace[None, :] * 1e-3, RATE, "V")
    write_nwb(d / "rec.nwb", trace, RATE)
    return d


def test_abf_sweeps_values_and_times(files, trace):
    for k, want in enumerate((0.5 * trace - 30.0, trace)):
        s = read_series(files / "two.abf", segment=k)
        assert s.name == "ch0" and len(s) == trace.size
        np.testing.assert_allclose(s.values, want, rtol=0, atol=ABF_STEP_MV)
        assert s.dt == pytest.approx(1 / RATE, rel=1e-12)  # seconds
        assert s.t0 == pytest.approx(k * trace.size / RATE, rel=1e-12)
    s = read_series(files / "volts.abf")  # stored in V: read in mV
    np.testing.assert_allclose(s.values, trace, rtol=0, atol=ABF_STEP_V * 1e3)
    assert np.abs(s.values - trace).max() > 1e-3 * ABF_STEP_V * 1e3  # the int16 steps are really there


def test_nwb_units_conversion_offset_and_times(files, trace):
    s = read_series(files / "rec.nwb", channel="Vm0")  # volts, conversion and offset: mV
    np.testing.assert_allclose(s.values, trace, rtol=1e-12, atol=1e-9)
    assert s.dt == pytest.approx(1 / RATE, rel=1e-12) and s.t0 == pytest.approx(2.5, rel=1e-12)
    np.testing.assert_allclose(read_series(files / "rec.nwb", channel="Vm1").values, 0.5 * trace, atol=1e-9)
    np.testing.assert_allclose(read_series(files / "rec.nwb", channel="V_mV").values, trace, rtol=1e-15)
    cur = read_series(files / "rec.nwb", channel="I_inj", param_value=1.0)  # not a voltage: kept in pA
    np.testing.assert_allclose(cur.values, np.linspace(0.0, 50.0, 100), rtol=1e-15)
    assert cur.dt == pytest.approx(1e-3) and cur.param_value == 1.0
    s = read_series(files / "rec.nwb", channel="V_times")  # sample times: uniform, so a series
    np.testing.assert_array_equal(s.values, trace)
    assert s.dt == pytest.approx(1 / RATE, rel=1e-9) and s.t0 == 0.5
    with pytest.raises(InputError, match="'V_uneven' is not sampled at a uniform step"):
        read_series(files / "rec.nwb", channel="V_uneven")
    # --column is the same selector as --channel
    np.testing.assert_array_equal(read_series(files / "rec.nwb", column="V_mV").values,
                                  read_series(files / "rec.nwb", channel="V_mV").values)


def test_wrong_channel_or_segment_is_one_clear_error(files):
    with pytest.raises(InputError, match=r"no channel named 'nope'.*\['I_inj', 'V_mV', 'Vm0', 'Vm1', 'V_times', 'V_uneven'\]"):
        read_series(files / "rec.nwb", channel="nope")
    with pytest.raises(InputError, match=r"has 6 channels .*--channel"):
        read_series(files / "rec.nwb")
    with pytest.raises(InputError, match=r"2 segments \(sweeps\).*--segment N .*0 to 1"):
        read_series(files / "two.abf")
    with pytest.raises(InputError, match=r"segment 2 is out of range.*0 to 1"):
        read_series(files / "two.abf", segment=2)
    with pytest.raises(InputError, match="disagrees with the recording's sampling step"):
        read_series(files / "volts.abf", dt=0.005)
    assert read_series(files / "volts.abf", dt=1 / RATE).dt == pytest.approx(1 / RATE)
    bad = files / "junk.abf"
    bad.write_bytes(b"not an abf file at all" * 10)
    with pytest.raises(InputError, match=r"junk.abf: not a readable .abf recording"):
        read_series(bad)


def test_cli_wrong_channel_exit_2_and_one_line(files, tmp_path):
    for rec, listed in (("two.abf", "['ch0']"), ("rec.nwb", "['I_inj', 'V_mV', 'Vm0', 'Vm1', 'V_times', 'V_uneven']")):
        r = subprocess.run([sys.executable, "-m", "dynamap", "fit", str(files / rec), "--channel", "nope",
                            "--sweep", "1" if rec == "two.abf" else "0", "--out", str(tmp_path / "x")],
                           capture_output=True, text=True, timeout=120)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1, r.stderr
        assert "no channel named 'nope'" in lines[0] and listed in lines[0], lines[0]
        assert not (tmp_path / "x").exists()


def test_without_neo_recordings_name_the_extra_and_tables_still_read(tmp_path, monkeypatch, trace):
    written = _series(trace)
    write_series(written, tmp_path / "v.npy")  # tables need no neo
    (tmp_path / "r.abf").write_bytes(b"ABF ")
    for mod in ("neo", "neo.io", "quantities"):
        monkeypatch.setitem(sys.modules, mod, None)  # import neo -> ImportError
    with pytest.raises(InputError, match=r"r.abf: reading .abf recordings needs neo; .*pip install dynamap\[ephys\]"):
        read_series(tmp_path / "r.abf")
    np.testing.assert_array_equal(read_series(tmp_path / "v.npy").values, written.values)
    with pytest.raises(InputError, match="drop --segment"):
        read_series(tmp_path / "v.npy", segment=1)


def _series(values):
    return Series(np.asarray(values, dtype=np.float64), 0.005, 0.0, "V")


@pytest.fixture(scope="module")
def fitted(files, tmp_path_factory, tiny_config, trace):
    """Bundles fitted from the CLI on the ABF's sweep 1 and on the NWB's Vm0 (the burster, in s and mV),
    and on the same trace as a table in ms."""
    d = tmp_path_factory.mktemp("ephys-fit")
    (d / "tiny.json").write_text(tiny_config.to_json())
    write_series(Series(trace, 1e3 / RATE, 0.0, "V"), d / "v_ms.npy")
    out = {}
    for key, args in (("abf", [str(files / "two.abf"), "--sweep", "1"]),
                      ("nwb", [str(files / "rec.nwb"), "--channel", "Vm0"]),
                      ("table_ms", [str(d / "v_ms.npy")])):
        out[key] = d / key
        assert main(["fit", *args, "--param-value", "-40", "--config", str(d / "tiny.json"), "--quiet",
                     "--out", str(out[key])]) == 0
    return out


def test_fit_and_sweep_recordings_from_the_cli(fitted, tmp_path):
    from dynamap import load_model

    for key, bundle in fitted.items():
        if key == "table_ms":
            continue
        m = load_model(bundle)
        k = m.dt_ * RATE  # the map step in seconds: a whole number of the recording's samples
        assert abs(k - round(k)) < 1e-6 and 1 <= round(k) <= 100, (key, m.dt_)
        metrics = json.loads((bundle / "metrics.json").read_text())
        data = metrics["series"][0]["data"]
        assert data["regime"] == "bursting" and data["spikes_per_burst"] == [4], (key, data)
        assert 1e-4 < data["isi_mean"] < 1e-2, (key, data)  # about 1 ms, in seconds
        out = tmp_path / f"sweep-{key}"
        assert main(["sweep", "--model", str(bundle), "--param", "c", "--from", "-41", "--to", "-39", "--num", "3",
                     "--t-end", "0.06", "--transient", "0.01", "--no-lyapunov", "--quiet", "--out", str(out)]) == 0
        doc = json.loads((out / "sweep.json").read_text())
        assert [p["value"] for p in doc["points"]] == [-41.0, -40.0, -39.0]
        assert all(p["regime"] for p in doc["points"]) and (out / "sweep.png").is_file()


def test_a_fit_in_seconds_is_the_fit_in_milliseconds_rescaled(fitted):
    """The NWB trace (stored in V with a conversion and an offset, read in mV and s) and the same
    trace as a table in ms give the same fit: unitless scores equal, times scaled by 1e-3."""
    from dynamap import load_model

    assert load_model(fitted["nwb"]).dt_ == pytest.approx(1e-3 * load_model(fitted["table_ms"]).dt_, rel=1e-9)
    (s,), (ms,) = (json.loads((fitted[k] / "metrics.json").read_text())["series"] for k in ("nwb", "table_ms"))
    for score in ("power_hellinger", "state_space_kl"):
        assert s[score]["value"] == pytest.approx(ms[score]["value"], rel=1e-9), score
    assert (s["data"]["regime"], s["map"]["regime"]) == (ms["data"]["regime"], ms["map"]["regime"])
    assert s["data"]["isi_mean"] == pytest.approx(1e-3 * ms["data"]["isi_mean"], rel=1e-9)
    assert s["threshold"] == pytest.approx(ms["threshold"], rel=1e-9)
