"""Series files: round trips and every validation error names the file and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from dynamap import InputError, Series
from dynamap.io.series import read_series, write_series


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".npz"])
def test_round_trip(tmp_path, suffix):
    s = Series(np.sin(np.arange(500) * 0.1), 0.01, 2.0, "V")
    path = write_series(s, tmp_path / f"s{suffix}")
    back = read_series(path)
    np.testing.assert_allclose(back.values, s.values, rtol=1e-9)
    assert back.dt == pytest.approx(0.01, rel=1e-9)
    assert back.t0 == pytest.approx(2.0)


def _csv(tmp_path, text, name="x.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text,match",
    [
        ("t,V\n0,1\n0.1,nan\n0.2,3\n", "non-finite"),
        ("t,V\n0,1\n0.1,abc\n0.2,3\n", "non-numeric cell 'abc'"),
        ("t,V\n0,1\n0.1,1\n0.2,1\n", "constant"),
        ("t,V\n0,1\n0.2,2\n0.1,3\n", "not increasing"),
        ("t,V\n0,1\n0.1,2\n0.35,3\n0.4,1\n", "not uniform"),
        ("1,2,3\n3,4,5\n", "not a header"),
        ("", "empty"),
        ("V\n1\n2\n3\n", "no time column"),
        ("t,V,W\n0,1,2\n1,2,3\n", "one value column"),
    ],
)
def test_bad_csv(tmp_path, text, match):
    p = _csv(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        read_series(p)
    assert str(p) in str(info.value)


def test_too_short(tmp_path):
    p = _csv(tmp_path, "t,V\n0,1\n1,2\n2,3\n")
    with pytest.raises(InputError, match="fewer than 100"):
        read_series(p, min_length=100)


def test_single_column_with_dt(tmp_path):
    p = _csv(tmp_path, "V\n1\n2\n3\n")
    s = read_series(p, dt=0.5)
    assert s.dt == 0.5 and s.name == "V"


def test_npy_without_dt_and_bad_extension(tmp_path):
    p = tmp_path / "a.npy"
    np.save(p, np.arange(10.0))
    with pytest.raises(InputError, match="pass --dt"):
        read_series(p)
    assert read_series(p, dt=0.1).dt == 0.1
    q = tmp_path / "a.dat"
    q.write_text("1\n")
    with pytest.raises(InputError, match="unknown file type"):
        read_series(q)
    with pytest.raises(InputError, match="file not found"):
        read_series(tmp_path / "missing.csv")


@pytest.mark.parametrize("name,text", [
    ("semi.csv", "t;V\n0;1.5\n0.5;2.5\n1;0.5\n"),
    ("tab.tsv", "t\tV\n0\t1.5\n0.5\t2.5\n1\t0.5\n"),
    ("space.txt", "t V\n0 1.5\n0.5  2.5\n1 0.5\n"),
    ("units.csv", "time (ms),V\n0,1.5\n0.5,2.5\n1,0.5\n"),
    ("bracket.csv", "T [s],V\n0,1.5\n0.5,2.5\n1,0.5\n"),
])
def test_common_table_layouts_read_alike(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    s = read_series(p)
    assert s.name == "V" and s.dt == pytest.approx(0.5) and s.t0 == 0.0
    np.testing.assert_array_equal(s.values, [1.5, 2.5, 0.5])


def test_column_picks_the_observed_variable(tmp_path):
    p = tmp_path / "rec.csv"
    p.write_text("time (ms),V (mV),I (nA)\n0,1.5,7\n0.5,2.5,7\n1,0.5,8\n")
    with pytest.raises(InputError, match=r"found 2: \['V \(mV\)', 'I \(nA\)'\].*--column"):
        read_series(p)
    s = read_series(p, column="I (nA)")
    assert s.name == "I (nA)" and s.dt == pytest.approx(0.5)
    np.testing.assert_array_equal(s.values, [7.0, 7.0, 8.0])
    with pytest.raises(InputError, match="no value column named 'W'.*V \\(mV\\)"):
        read_series(p, column="W")
    with pytest.raises(InputError, match="is the time column"):
        read_series(p, column="time (ms)")
    z = tmp_path / "rec.npz"
    np.savez(z, t=np.arange(3.0), V=np.array([1.0, 2.0, 0.0]), I=np.array([3.0, 3.0, 4.0]))
    with pytest.raises(InputError, match="found 2"):
        read_series(z)
    np.testing.assert_array_equal(read_series(z, column="V").values, [1.0, 2.0, 0.0])


def test_headerless_tables_read_like_npy(tmp_path):
    one = tmp_path / "v.txt"
    one.write_text("1.5\n2.5\n0.5\n")
    with pytest.raises(InputError, match="pass --dt"):
        read_series(one)
    s = read_series(one, dt=0.25)
    assert s.name == "x" and s.dt == 0.25
    np.testing.assert_array_equal(s.values, [1.5, 2.5, 0.5])
    two = tmp_path / "tv.csv"
    two.write_text("10,1.5\n10.5,2.5\n11,0.5\n")
    s = read_series(two)
    assert s.dt == pytest.approx(0.5) and s.t0 == 10.0
    np.testing.assert_array_equal(s.values, [1.5, 2.5, 0.5])
    three = tmp_path / "three.csv"
    three.write_text("0,1,2\n1,2,3\n")
    with pytest.raises(InputError, match="not a header"):
        read_series(three)
