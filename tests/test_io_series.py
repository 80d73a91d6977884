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
        ("1,2\n3,4\n", "not a header"),
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
    q = tmp_path / "a.txt"
    q.write_text("1\n")
    with pytest.raises(InputError, match="unknown file type"):
        read_series(q)
    with pytest.raises(InputError, match="file not found"):
        read_series(tmp_path / "missing.csv")
