"""``dynamap fit --manifest FILE``: a table of recordings, one model bundle (or ensemble) per group.

The table is CSV with a header naming the columns ``path``, ``channel``, ``param_value`` and
``group`` (others are ignored; ``channel`` and ``param_value`` may be empty). A row is one series:
the file at ``path`` (relative paths are relative to the manifest's folder), its ``channel`` for
recordings with several (``dynamap.read_series``'s ``channel``), tagged with ``param_value``. The
rows of a group form one fit: all with a ``param_value`` (a tagged fit, or a single series with a
known tag) or one row without (a single-series fit). Every file is read and checked before the
first fit; the groups' fits are independent work units (:mod:`dynamap._core.backends`); group G is
written to ``OUT/G/``.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import sys
from pathlib import Path

from .._core.errors import InputError
from ..io.outputs import check_out_dir
from ..io.series import read_series
from .from_files import backend_words, load_fit_config, refuse_ensemble_folder, report_fit, write_bundle

__all__ = ["COLUMNS", "ManifestGroup", "fit_manifest", "read_manifest"]

COLUMNS = ("path", "channel", "param_value", "group")


@dataclasses.dataclass
class ManifestGroup:
    """The rows of one group: files (resolved), channels (None: the file's only one), tags (None:
    untagged) and the manifest's line numbers."""

    name: str
    paths: list[Path]
    channels: list[str | None]
    param_values: list[float] | None
    lines: list[int]


def _group_name(name: str, where: str) -> str:
    if not name:
        raise InputError(f"{where}: empty group; give every row a group name (its output folder)")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise InputError(f"{where}: group {name!r} is not a folder name; use letters, digits, '-' or '_'")
    return name


def _read_table(path: Path) -> tuple[list[list[str]], dict[str, int]]:
    """The manifest's CSV rows (header first) and the index of each of :data:`COLUMNS` in them."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"--manifest {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--manifest {path}: cannot read it ({exc})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise InputError(f"--manifest {path}: empty; the first line must name the columns "
                         f"{', '.join(COLUMNS)}")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"--manifest {path}: no column {', '.join(repr(m) for m in missing)} in the header "
                         f"({', '.join(rows[0])}); the columns are {', '.join(COLUMNS)}")
    return rows, {c: header.index(c) for c in COLUMNS}


def _row_file(cell: str, base: Path, where: str) -> Path:
    """A row's existing file (relative paths are relative to the manifest's folder ``base``)."""
    if not cell:
        raise InputError(f"{where}: empty path; give the recording's file")
    file = Path(cell).expanduser()
    file = file if file.is_absolute() else base / file
    if not file.is_file():
        raise InputError(f"{where}: no such file {file}; paths are relative to the manifest's folder")
    return file


def _row_value(cell: str, where: str) -> float | None:
    """A row's finite ``param_value`` (None when the cell is empty)."""
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"{where}: param_value {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: param_value must be finite, got {cell!r}")
    return value


def _group_for(groups: dict[str, ManifestGroup], tagged: dict[str, bool], name: str, value: float | None,
               where: str) -> ManifestGroup:
    """The group ``name`` that a row with ``value`` joins (new at its first row), checked: a group's
    rows are all tagged with distinct values, or it is one untagged row."""
    g = groups.get(name)
    if g is None:
        g = groups[name] = ManifestGroup(name, [], [], [] if value is not None else None, [])
        tagged[name] = value is not None
    elif tagged[name] != (value is not None):
        raise InputError(f"{where}: group {name!r} mixes rows with and without param_value; give every "
                         "row of a group a value (tagged fit) or give the group one untagged row")
    elif value is None:
        raise InputError(f"{where}: group {name!r} has a second row without param_value; an untagged "
                         "group is one series (tag the rows for a tagged fit)")
    elif value in g.param_values:
        raise InputError(f"{where}: group {name!r} has param_value {value:g} twice; give each series "
                         "of a group its own value")
    return g


def read_manifest(path: str | Path) -> list[ManifestGroup]:
    """The groups of the manifest at ``path``, in the order of their first rows, validated: the
    columns are there, every file exists, a group's rows are all tagged (with distinct values) or it
    is a single untagged row."""
    path = Path(path)
    rows, col = _read_table(path)
    base = path.parent
    groups: dict[str, ManifestGroup] = {}
    tagged: dict[str, bool] = {}
    for n, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"--manifest {path} line {n}"
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in col.items()}
        name = _group_name(cells["group"], where)
        file = _row_file(cells["path"], base, where)
        value = _row_value(cells["param_value"], where)
        g = _group_for(groups, tagged, name, value, where)
        g.paths.append(file)
        g.channels.append(cells["channel"] or None)
        if value is not None:
            g.param_values.append(value)
        g.lines.append(n)
    if not groups:
        raise InputError(f"--manifest {path}: no rows; add one row per recording under the header")
    return list(groups.values())


def fit_manifest(manifest: str | Path, *, out: str | Path, dt: float | None = None, seed: int = 0,
                 spike_threshold: float | None = None, config_path: str | None = None,
                 column: str | None = None, segment: int | None = None, ensemble: int | None = None,
                 backend: str = "local", address: str | None = None, jobs: int | None = None) -> dict:
    """Fit every group of the manifest (:func:`read_manifest`) into ``out/GROUP/``: a model bundle with
    its ``metrics.json``, or with ``ensemble`` K an ensemble folder of K models (seeds ``seed`` ...
    ``seed + K - 1``, :mod:`dynamap.pipeline.ensemble`). All series are read and checked before the
    first fit; the fits (groups x members) run as independent units on ``backend``. Returns
    ``{group: (model or ensemble, metrics)}``."""
    from .ensemble import DynamapEnsemble, check_ensemble_folder, fit_units, pinned_config

    groups = read_manifest(manifest)
    out = check_out_dir(out)
    for g in groups:
        if ensemble is None:
            refuse_ensemble_folder(out / g.name)
        else:
            check_ensemble_folder(out / g.name, ensemble)
    config = pinned_config(load_fit_config(config_path, spike_threshold))
    series = {}
    for g in groups:
        series[g.name] = [
            read_series(p, dt=dt, param_value=v, min_length=2, column=column, channel=ch, segment=segment)
            for p, ch, v in zip(g.paths, g.channels, g.param_values or [None] * len(g.paths))
        ]
    k = 1 if ensemble is None else int(ensemble)
    units = [{"series": series[g.name], "param_values": g.param_values, "config": config, "seed": seed + i,
              "check": True, "group": g.name} for g in groups for i in range(k)]
    print(f"fitting {len(groups)} group(s) of --manifest {manifest}"
          + ("" if ensemble is None else f", {k} models each (seeds {seed}-{seed + k - 1})")
          + f", {len(units)} fit(s) {backend_words(backend, jobs)}", file=sys.stderr)
    done = fit_units(units, backend=backend, address=address, jobs=jobs)
    out.mkdir(exist_ok=True)
    result = {}
    for gi, g in enumerate(groups):
        part = done[gi * k : (gi + 1) * k]
        where = out / g.name
        if ensemble is None:
            model, metrics = part[0]
            write_bundle(where, model, series[g.name], metrics)
            report_fit(model, metrics, where, prefix=f"{g.name}: ")
            result[g.name] = (model, metrics)
        else:
            ens = DynamapEnsemble([m for m, _ in part], [met for _, met in part])
            ens.save(where)
            for i, (m, met) in enumerate(part):
                report_fit(m, met, where / f"member-{i}", prefix=f"{g.name} member {i} (seed {m.seed}): ")
            result[g.name] = (ens, ens.metrics)
    return result
