"""Electrophysiology recordings through `neo <https://neo.readthedocs.io>`_: ABF, NWB, Spike2, Intan,
Axograph, WinWCP/WinEDR, Blackrock, Plexon, BrainVision, EDF.

An optional extra (``pip install dynamap[ephys]``: neo, and pynwb for NWB); neo is imported only when a
recording is read, so tables (.csv, .npy, .npz) need neither.

A recording holds segments (sweeps, episodes; one for a gap-free recording) and, in each, channels
(named signals). :func:`read_recording` returns one channel of one segment, its values in the file's
unit converted to mV when that unit is a voltage (other units, such as pA, are kept) and its times in
seconds. ``channel`` names the channel (needed when a segment has several), ``segment`` the segment
(needed when the file has several). In an NWB file each series (TimeSeries, CurrentClampSeries, ...) is
a channel named after the series, and a file not written by neo is one segment; NWB's ``conversion``
and ``offset`` are applied. neo 0.14 reads NWB files whole (its lazy NWB reading fails), the other
formats lazily (only the chosen channel is loaded).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path

import numpy as np

from .._core.errors import InputError

__all__ = ["EPHYS_SUFFIXES", "INSTALL_HINT", "read_recording", "recording_channels"]

INSTALL_HINT = "pip install dynamap[ephys]"

#: file suffix -> the neo IO that reads it (explicit, as several neo IOs claim .smr, .abf or .dat)
NEO_IO = {
    ".abf": "AxonIO",
    ".nwb": "NWBIO",
    ".smr": "Spike2IO",
    ".smrx": "CedIO",
    ".rhd": "IntanIO",
    ".rhs": "IntanIO",
    ".axgd": "AxographIO",
    ".axgx": "AxographIO",
    ".wcp": "WinWcpIO",
    ".edr": "WinEdrIO",
    **{f".ns{i}": "BlackrockIO" for i in range(1, 7)},
    ".plx": "PlexonIO",
    ".vhdr": "BrainVisionIO",
    ".edf": "EDFIO",
}
EPHYS_SUFFIXES = tuple(NEO_IO)
#: relative tolerance on the spacing of irregularly sampled signals' times (as for a table's time column)
_UNIFORM_RTOL = 1e-3
#: channel names listed in an error message at most
_MAX_LISTED = 40
#: loggers of the readers: their header notes ("ignoring buggy nTelegraphEnable") are not the user's
_LOGGERS = ("neo", "pynwb", "hdmf", "h5py")


def _fail(path, what: str, fix: str) -> InputError:
    return InputError(f"{path}: {what}; {fix}")


@contextlib.contextmanager
def _quiet():
    """Silence the readers' warnings and log lines (the series is validated by dynamap itself)."""
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _import_neo(path: Path):
    try:
        import neo.io
        import quantities
    except ImportError:
        raise _fail(path, f"reading {path.suffix} recordings needs neo", f"install the extra: {INSTALL_HINT}") from None
    return neo.io, quantities


def _open(path: Path):
    """The neo IO of ``path`` and its first block (lazy where neo can)."""
    suffix = path.suffix.lower()
    if suffix not in NEO_IO:
        raise _fail(path, f"unknown recording type {suffix!r}", f"use one of {', '.join(EPHYS_SUFFIXES)}")
    neo_io, _ = _import_neo(path)
    name = NEO_IO[suffix]
    cls = getattr(neo_io, name, None)
    if cls is None:
        raise _fail(path, f"this neo has no {name}", f"upgrade neo ({INSTALL_HINT} --upgrade)")
    try:
        io = cls(filename=str(path))
        lazy = bool(cls.support_lazy) and name != "NWBIO"  # neo 0.14's lazy NWB reading fails
        block = io.read_block(lazy=lazy)
    except ImportError as exc:
        need = exc.name or "a reader library"
        raise _fail(path, f"neo's {name} needs {need}", f"install it (pip install {need}) or {INSTALL_HINT}") from None
    except Exception as exc:  # noqa: BLE001 - any reader error is the file's fault
        msg = " ".join(str(exc).split())[:200]
        raise _fail(path, f"not a readable {suffix} recording ({type(exc).__name__}: {msg})",
                    "check the file (does it open in its acquisition software?)") from None
    return io, block


def _close(io) -> None:
    nwb = getattr(io, "_io_nwb", None)  # NWBIO keeps its HDF5 file open after reading
    if nwb is not None:
        nwb.close()


def _signals(segment) -> list[tuple[str, object, int]]:
    """(channel name, signal, column) for every channel of a neo segment."""
    out = []
    sigs = list(segment.analogsignals) + list(segment.irregularlysampledsignals)
    for k, sig in enumerate(sigs):
        shape = tuple(sig.shape)
        n = shape[1] if len(shape) > 1 else 1
        base = str(sig.name).strip() if sig.name else f"signal{k}"
        names = getattr(sig, "array_annotations", {}).get("channel_names")
        if names is not None and len(names) == n and all(str(x).strip() for x in names):
            names = [str(x).strip() for x in names]
        elif n == 1:
            names = [base]
        else:
            names = [f"{base}[{j}]" for j in range(n)]
        out.extend((name, sig, j) for j, name in enumerate(names))
    return out


def _listing(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_MAX_LISTED])
    more = f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
    return f"[{shown}{more}]"


def _pick_segment(path: Path, segments, segment: int | None) -> int:
    n = len(segments)
    if n == 0:
        raise _fail(path, "the file has no segments (no recorded signals)", "check the file")
    if segment is None:
        if n > 1:
            raise _fail(path, f"the file has {n} segments (sweeps)",
                        f"pick one with --segment N (segment= in Python), 0 to {n - 1}")
        return 0
    if isinstance(segment, bool) or not isinstance(segment, (int, np.integer)):
        raise _fail(path, f"segment must be an integer, got {segment!r}", f"pass --segment N, 0 to {n - 1}")
    if not 0 <= int(segment) < n:
        raise _fail(path, f"segment {segment} is out of range: the file has {n} segment(s)",
                    f"pass --segment N, 0 to {n - 1}")
    return int(segment)


def recording_channels(path: str | Path, segment: int | None = None) -> list[str]:
    """Names of the channels in ``segment`` of the recording ``path`` (segment 0 by default)."""
    path = Path(path)
    with _quiet():
        io, block = _open(path)
        try:
            seg = _pick_segment(path, block.segments, 0 if segment is None else segment)
            return [name for name, _, _ in _signals(block.segments[seg])]
        finally:
            _close(io)


def _to_mv(pq, units) -> tuple[float, str]:
    """Factor from ``units`` to mV when they are a voltage, else 1 and the unit's name."""
    try:
        return float(pq.Quantity(1.0, units).rescale(pq.mV).magnitude), "mV"
    except ValueError:
        name = units.dimensionality.string if hasattr(units, "dimensionality") else str(units)
        return 1.0, "" if name == "dimensionless" else name


def read_recording(path: str | Path, *, channel: str | None = None, segment: int | None = None):
    """One channel of one segment of a recording: ``(values, dt_s, t0_s, name, unit)``.

    Values are float64, in mV when the file's unit is a voltage (``unit`` says which unit they are in;
    "" when the file gives none), times in seconds. A missing channel or segment raises
    :class:`~dynamap.InputError` listing the ones there are.
    """
    path = Path(path)
    _, pq = _import_neo(path)
    with _quiet():
        io, block = _open(path)
        try:
            seg = _pick_segment(path, block.segments, segment)
            chans = _signals(block.segments[seg])
            names = [c[0] for c in chans]
            where = f"segment {seg}" if len(block.segments) > 1 else "the file"
            if not chans:
                raise _fail(path, f"{where} has no sampled signals", "check the file or pick another segment")
            if channel is None:
                if len(chans) > 1:
                    raise _fail(path, f"{where} has {len(chans)} channels {_listing(names)}",
                                "pick one with --channel NAME (channel= in Python)")
                name, sig, j = chans[0]
            else:
                if str(channel) not in names:
                    raise _fail(path, f"no channel named {channel!r}; {where} has channels {_listing(names)}",
                                "pass one of these names with --channel")
                name, sig, j = chans[names.index(str(channel))]
            return _load(path, pq, sig, j, name)
        finally:
            _close(io)


def _load(path: Path, pq, sig, j: int, name: str):
    if hasattr(sig, "load"):  # a lazy proxy: load the one channel
        try:
            sig = sig.load(channel_indexes=[j])
        except TypeError:  # proxies without channel selection
            sig = sig.load()[:, j:j + 1]
        j = 0
    data = np.asarray(sig.magnitude, dtype=np.float64)
    values = data.reshape(-1) if data.ndim == 1 else data[:, j]
    ann = getattr(sig, "annotations", {}) or {}
    offset = float(ann.get("nwb:offset", 0.0) or 0.0)
    if offset:  # NWB: value = data * conversion + offset, offset in the series' own unit
        conversion = float(ann.get("nwb:conversion", 1.0) or 1.0)
        values = values + offset / conversion
    factor, unit = _to_mv(pq, sig.units)
    values = values * factor
    t0 = float(sig.t_start.rescale(pq.s).magnitude)
    if hasattr(sig, "sampling_rate") and sig.sampling_rate is not None:
        dt = float((1.0 / sig.sampling_rate).rescale(pq.s).magnitude)
    else:  # irregularly sampled: accepted when its times are uniform
        t = np.asarray(sig.times.rescale(pq.s).magnitude, dtype=np.float64)
        d = np.diff(t)
        if t.size < 2 or not np.all(d > 0) or np.ptp(d) > _UNIFORM_RTOL * np.median(d):
            raise _fail(path, f"channel {name!r} is not sampled at a uniform step",
                        "resample it to a uniform step")
        dt, t0 = float((t[-1] - t[0]) / (t.size - 1)), float(t[0])
    if not np.isfinite(dt) or dt <= 0:
        raise _fail(path, f"channel {name!r} has sampling step {dt!r} s", "check the file's sampling rate")
    return values, dt, t0, name, unit
