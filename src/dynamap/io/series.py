"""Reading and writing scalar series: CSV (with a header), ``.npy`` and ``.npz``.

Formats
-------
* CSV (also ``.tsv`` and ``.txt``): a header row; cells separated by commas, semicolons, tabs or (when
  the header has none of these) spaces. Either a time column named ``t`` or ``time`` (any case, with
  or without a unit such as ``time (ms)`` or ``t [s]``) plus value columns, e.g. ``t,V``, or value
  columns alone together with an explicit ``dt``. With several value columns, ``column`` names the
  observed one. A table of numbers without a header is read like a ``.npy``: one column of values
  (needs ``dt``; the series is named ``x``) or two, time and value.
* ``.npy``: a 1-D array of values (needs ``dt``) or an (N, 2) array of (t, value) rows.
* ``.npz``: an array ``t`` (or a scalar ``dt``) and one value array (its key is the series name), or
  several, with ``column`` naming the observed one.
* Recordings (.abf, .nwb, .smr, .rhd, .axgx and the others of :mod:`dynamap.io.ephys`), read through
  neo (``pip install dynamap[ephys]``): ``channel`` and ``segment`` pick the trace; values in mV when
  the file's unit is a voltage, times in seconds.

Every problem with a file raises :class:`~dynamap.InputError` naming the file and the fix.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .._core.errors import InputError
from .._core.types import Series
from .ephys import EPHYS_SUFFIXES, INSTALL_HINT, read_recording
from .outputs import TMP_PREFIX, staged_file

__all__ = ["read_series", "write_series", "validate_values", "SUFFIXES"]

SUFFIXES = (".csv", ".npy", ".npz")
#: text tables read like CSV (written series are always .csv, .npy or .npz)
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
READ_SUFFIXES = TEXT_SUFFIXES + (".npy", ".npz")
_TIME_NAMES = ("t", "time")
_DELIMITERS = (",", ";", "\t")
#: relative tolerance on the spacing of a time column
_UNIFORM_RTOL = 1e-3


def _fail(path, what: str, fix: str) -> InputError:
    return InputError(f"{path}: {what}; {fix}")


def validate_values(values: np.ndarray, path: str | Path, *, min_length: int = 2) -> np.ndarray:
    """Check a value array: 1-D, finite, not constant, long enough. Returns float64."""
    values = np.asarray(values)
    if values.ndim != 1:
        raise _fail(path, f"expected one column of values, got shape {values.shape}", "pass a single series")
    if not np.issubdtype(values.dtype, np.number):
        raise _fail(path, f"values are not numeric (dtype {values.dtype})", "store numbers only")
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail(
            path,
            f"{int(bad.sum())} non-finite value(s) (NaN or inf), first at sample {i}",
            "remove or interpolate them before fitting",
        )
    if values.size < min_length:
        raise _fail(path, f"series has {values.size} samples, fewer than {min_length}", "supply a longer recording")
    if np.ptp(values) <= 1e-12 * max(1.0, float(np.abs(values).max())):
        raise _fail(path, "series is constant", "a constant series carries no dynamics; check the column")
    return values


def _dt_from_time(t: np.ndarray, path) -> tuple[float, float]:
    if t.size < 2:
        raise _fail(path, "time column has fewer than 2 samples", "supply a longer recording")
    if not np.all(np.isfinite(t)):
        raise _fail(path, "time column has NaN or inf", "fix the time column")
    d = np.diff(t)
    if np.any(d <= 0):
        i = int(np.flatnonzero(d <= 0)[0])
        raise _fail(path, f"time is not increasing at row {i + 1}", "sort the rows or remove duplicates")
    dt = float(np.median(d))
    if np.max(np.abs(d - dt)) > _UNIFORM_RTOL * dt:
        raise _fail(
            path,
            f"time steps are not uniform (from {d.min():.6g} to {d.max():.6g})",
            "resample the series to a uniform step",
        )
    # the end-to-end mean is far more precise than any single rounded difference
    return float((t[-1] - t[0]) / (t.size - 1)), float(t[0])


def _check_dt(dt, path) -> float:
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise _fail(path, f"dt must be a number, got {dt!r}", "pass --dt with the sampling step") from None
    if not np.isfinite(dt) or dt <= 0:
        raise _fail(path, f"dt must be positive, got {dt!r}", "pass --dt with the sampling step")
    return dt


def _is_time_name(name: str) -> bool:
    """``t``, ``time``, any case, optionally followed by a unit: ``time (ms)``, ``t [s]``, ``T_ms``."""
    base = re.split(r"[\s(\[_]", name.strip().lower(), maxsplit=1)[0]
    return base in _TIME_NAMES


def _pick_column(path, names: list[str], column: str | None, what: str) -> int:
    """Index of the observed variable among ``names``: the one there is, or the one named ``column``."""
    if column is not None:
        if column not in names:
            raise _fail(path, f"no {what} named {column!r}; the file has {names}", "pass one of these names")
        return names.index(column)
    if len(names) != 1:
        raise _fail(path, f"expected one {what} besides the time, found {len(names)}: {names}",
                    "name the observed variable with --column (column= in Python)")
    return 0


def _read_csv(path: Path, dt: float | None, column: str | None = None) -> tuple[np.ndarray, float, float, str]:
    try:
        with open(path, newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise _fail(path, "not a text CSV file", "export the series as CSV with a header row") from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delim = next((d for d in _DELIMITERS if d in first), None)
    if delim is None:  # no delimiter in the header: one column, or columns separated by spaces
        rows = [ln.split() for ln in text.splitlines()]
    else:
        rows = list(csv.reader(text.splitlines(), delimiter=delim))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise _fail(path, "file is empty", "write a header row and one value per line")
    header = [h.strip() for h in rows[0]]
    if header and all(_is_number(h) for h in header) and len(header) <= 2:
        # no header: numbers only, like a .npy: one column of values, or (t, value) rows
        header, body = (["x"] if len(header) == 1 else ["t", "x"]), rows
    elif not header or any(_is_number(h) for h in header):
        raise _fail(path, "first row is not a header", "add a header such as 't,V' (or 'V' with --dt)")
    else:
        body = rows[1:]
    cols = len(header)
    data = np.empty((len(body), cols))
    for i, r in enumerate(body):
        if len(r) != cols:
            raise _fail(path, f"row {i + 2} has {len(r)} cells, header has {cols}", "fix the row")
        for j, c in enumerate(r):
            try:
                data[i, j] = float(c)
            except ValueError:
                raise _fail(
                    path, f"non-numeric cell {c.strip()!r} at row {i + 2}, column {header[j]!r}", "fix or remove it"
                ) from None
    tcols = [j for j, h in enumerate(header) if _is_time_name(h)][:1]
    vcols = [j for j in range(cols) if j not in tcols]
    if column is not None and column in header and header.index(column) in tcols:
        raise _fail(path, f"column {column!r} is the time column", "name the observed variable")
    vcols = [vcols[_pick_column(path, [header[j] for j in vcols], column, "value column")]]
    values = data[:, vcols[0]]
    if tcols:
        tdt, t0 = _dt_from_time(data[:, tcols[0]], path)
        if dt is not None and abs(tdt - dt) > _UNIFORM_RTOL * tdt:
            raise _fail(path, f"--dt {dt} disagrees with the time column step {tdt:.6g}", "drop --dt")
        return values, tdt, t0, header[vcols[0]]
    if dt is None:
        raise _fail(path, "no time column and no sampling step", "add a 't' column or pass --dt")
    return values, dt, 0.0, header[vcols[0]]


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _read_npy(path: Path, dt: float | None):
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any loader error is the file's fault
        raise _fail(path, f"cannot read as .npy ({type(exc).__name__})", "save it with numpy.save") from None
    if arr.ndim == 2 and arr.shape[1] == 2:
        tdt, t0 = _dt_from_time(np.asarray(arr[:, 0], dtype=np.float64), path)
        return arr[:, 1], tdt, t0, "x"
    if arr.ndim != 1:
        raise _fail(path, f"array of shape {arr.shape}", "save a 1-D array of values or (N, 2) rows of (t, value)")
    if dt is None:
        raise _fail(path, "a 1-D .npy has no sampling step", "pass --dt")
    return arr, dt, 0.0, "x"


def _read_npz(path: Path, dt: float | None, column: str | None = None):
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001
        raise _fail(path, f"cannot read as .npz ({type(exc).__name__})", "save it with numpy.savez") from None
    t = arrays.pop("t", arrays.pop("time", None))
    zdt = arrays.pop("dt", None)
    names = sorted(arrays)
    name = names[_pick_column(path, names, column, "value array")]
    values = arrays[name]
    if t is not None:
        tdt, t0 = _dt_from_time(np.asarray(t, dtype=np.float64), path)
        if np.asarray(t).shape[0] != np.asarray(values).shape[0]:
            raise _fail(path, "t and values have different lengths", "save matching arrays")
        return values, tdt, t0, name
    if zdt is not None:
        return values, _check_dt(zdt, path), 0.0, name
    if dt is None:
        raise _fail(path, "no 't' or 'dt' array in the .npz", "add one or pass --dt")
    return values, dt, 0.0, name


def read_series(
    path: str | Path,
    *,
    dt: float | None = None,
    param_value: float | None = None,
    min_length: int = 2,
    column: str | None = None,
    channel: str | None = None,
    segment: int | None = None,
) -> Series:
    """Read and validate one scalar series file (format chosen by the extension).

    ``column``: the observed variable's column or array name, needed where a table holds several.
    ``channel`` and ``segment`` (sweep): the channel and segment of a recording (.abf, .nwb, .smr, ...;
    see :mod:`dynamap.io.ephys`, needs ``pip install dynamap[ephys]``); for a table ``channel`` is the
    column, and a table has one segment (0)."""
    path = Path(path)
    if dt is not None:
        dt = _check_dt(dt, path)
    if channel is not None and column is not None and str(channel) != str(column):
        raise _fail(path, f"channel {channel!r} and column {column!r} disagree", "pass only one of them")
    column = column if channel is None else str(channel)
    if not path.exists():
        raise _fail(path, "file not found", "check the path")
    if path.is_dir():
        raise _fail(path, "is a directory", "pass a series file (.csv, .npy, .npz) or a recording (.abf, .nwb, ...)")
    suffix = path.suffix.lower()
    if suffix in EPHYS_SUFFIXES:
        values, sdt, t0, name, _unit = read_recording(path, channel=column, segment=segment)
        if dt is not None and abs(sdt - dt) > _UNIFORM_RTOL * sdt:
            raise _fail(path, f"--dt {dt} disagrees with the recording's sampling step {sdt:.6g} s", "drop --dt")
        values = validate_values(values, path, min_length=min_length)
        return Series(values, float(sdt), float(t0), str(name), param_value, str(path))
    if segment not in (None, 0):
        raise _fail(path, f"segment {segment!r} asked of a table, which has one segment",
                    "drop --segment (it is for recordings such as .abf or .nwb)")
    if suffix in TEXT_SUFFIXES:
        values, sdt, t0, name = _read_csv(path, dt, column)
    elif suffix == ".npy":
        values, sdt, t0, name = _read_npy(path, dt)
    elif suffix == ".npz":
        values, sdt, t0, name = _read_npz(path, dt, column)
    else:
        raise _fail(path, f"unknown file type {suffix!r}",
                    f"use a table ({', '.join(READ_SUFFIXES)}) or a recording ({', '.join(EPHYS_SUFFIXES)}; "
                    f"{INSTALL_HINT})")
    values = validate_values(values, path, min_length=min_length)
    return Series(values, float(sdt), float(t0), str(name), param_value, str(path))


def write_series(series: Series, path: str | Path) -> Path:
    """Write ``series`` atomically; the format follows the extension (.csv, .npy, .npz)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown output type {suffix!r}; use one of {', '.join(SUFFIXES)}")
    ensure_writable(path)
    t = series.t
    with staged_file(path) as tmp:  # a temporary sibling, renamed into place when complete
        if suffix == ".csv":
            with open(tmp, "w") as fh:
                fh.write(f"t,{series.name}\n")
                np.savetxt(fh, np.column_stack([t, series.values]), delimiter=",", fmt="%.15g")
        elif suffix == ".npy":
            np.save(tmp, np.column_stack([t, series.values]))
        else:
            np.savez(tmp, t=t, **{series.name: series.values})
    return path


def ensure_writable(path: str | Path) -> None:
    """Raise InputError unless ``path`` can be created (its folder exists and is writable)."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give a file name such as {path / 'series.csv'}")
    if not parent.exists():
        raise InputError(f"{path}: folder {parent} does not exist; create it or choose another path")
    if not os.access(parent, os.W_OK):
        raise InputError(f"{path}: folder {parent} is not writable; choose another path")
    try:  # root passes os.access everywhere; a probe file is the real test
        fd, probe = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {parent} ({exc.strerror}); choose another path") from None
