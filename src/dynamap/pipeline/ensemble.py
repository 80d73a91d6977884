"""Ensembles: K models of the same data from independent seeds (seed, seed + 1, ..., seed + K - 1),
fitted as independent work units on local processes or a Ray cluster (:mod:`dynamap._core.backends`),
saved as one folder and swept together.

The folder: ``ensemble.json`` (format, seeds, member folders, mode, training values) and
``member-0/`` ... ``member-<K-1>/``, each an ordinary model bundle (``dynamap.load_model`` reads one)
with its free-running check in ``metrics.json`` when the fit made one. Every member is exactly the
model ``dynamap.fit(series, param_values, config=config, seed=seed + i)`` gives on the machine that
starts the fit (``FitConfig.n_jobs`` left None is fixed there, see :func:`pinned_config`), whatever the
backend and however many units run at a time.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from .._core.backends import check_backend, run_units
from .._core.errors import InputError
from .._core.forking import default_jobs
from ..analysis.ensemble import combine_sweeps
from ..analysis.sweep import SweepResult, SweepSettings, sweep
from ..io.outputs import staged_dir, write_json
from ._inputs import check_series
from .check import fit_metrics
from .config import FitConfig
from .estimator import DynamapModel

__all__ = ["ENSEMBLE_FILE", "DynamapEnsemble", "check_ensemble_folder", "fit_ensemble", "fit_units", "is_ensemble", "load_ensemble",
           "member_name", "pinned_config"]

ENSEMBLE_FILE = "ensemble.json"
FORMAT = "dynamap-ensemble"
VERSION = 1


def member_name(i: int) -> str:
    """The folder of member ``i`` inside an ensemble folder."""
    return f"member-{int(i)}"


def is_ensemble(path) -> bool:
    """Whether ``path`` is an ensemble folder (holds ``ensemble.json``)."""
    return (Path(path) / ENSEMBLE_FILE).is_file()


def pinned_config(config: FitConfig | None) -> FitConfig:
    """``config`` (default: ``FitConfig()``) with ``n_jobs`` fixed to this machine's default when it
    is None: how many map candidates train at a time decides which candidates train at all (a batch
    stops at ``good_score``), so a work unit sent to another machine must not pick its own."""
    config = FitConfig() if config is None else config
    if config.n_jobs is None:
        config = dataclasses.replace(config, n_jobs=default_jobs(config.num_threads))
    return config


def _fit_unit(unit: dict):
    """One work unit: a fit (and its free-running check when ``unit["check"]``); module-level, so that
    Ray sends it by reference."""
    model = DynamapModel(unit["config"], seed=unit["seed"]).fit(unit["series"], unit["param_values"],
                                                                progress=False)
    metrics = fit_metrics(model, unit["series"]) if unit["check"] else None
    return model, metrics


def fit_units(units: Sequence[dict], *, backend: str = "local", address: str | None = None,
              jobs: int | None = None) -> list:
    """Run fit units (dicts with ``series``, ``param_values``, ``config``, ``seed``, ``check``) on
    ``backend``; returns ``[(model, metrics or None), ...]`` in their order. Each unit reserves on Ray
    the CPUs its fit uses side by side (``n_jobs``: map candidates, the latent-dimension search)."""
    units = list(units)
    cpus = max([u["config"].n_jobs or 1 for u in units] or [1])
    return run_units(_fit_unit, units, backend=backend, address=address, jobs=jobs, cpus_per_unit=cpus)


class DynamapEnsemble:
    """K fitted :class:`~dynamap.DynamapModel` of the same data (``members``, seeds ``seeds``), with
    their free-running checks (``metrics``: one dict per member, or None)."""

    def __init__(self, members: Sequence[DynamapModel], metrics: Sequence[dict | None] | None = None):
        self.members = list(members)
        if not self.members:
            raise InputError("an ensemble needs at least one member")
        self.metrics = None if metrics is None else list(metrics)
        if self.metrics is not None and len(self.metrics) != len(self.members):
            raise InputError(f"{len(self.metrics)} metrics for {len(self.members)} members")

    @property
    def k(self) -> int:
        return len(self.members)

    @property
    def seeds(self) -> list[int]:
        return [int(m.seed) for m in self.members]

    @property
    def mode_(self) -> str:
        return self.members[0].mode_

    @property
    def param_values_(self) -> list[float]:
        return list(self.members[0].param_values_)

    def as_systems(self) -> list:
        """Every member's learned map (:meth:`DynamapModel.as_system`)."""
        return [m.as_system() for m in self.members]

    def sweep(self, param: str, values, settings: SweepSettings | None = None, **kwargs) -> SweepResult:
        """Every member swept over ``values`` (:func:`dynamap.sweep`, the same ``settings`` and
        keywords), combined point by point (:func:`dynamap.analysis.ensemble.combine_sweeps`): a
        :class:`~dynamap.SweepResult` whose points carry the modal label and the agreement.
        ``kwargs["progress"]`` is called with the points of every member."""
        sweeps = [sweep(m.as_system(), param, values, settings, **kwargs) for m in self.members]
        return combine_sweeps(sweeps, seeds=self.seeds, members=[member_name(i) for i in range(self.k)])

    # ------------------------------------------------------------------ persistence
    def save(self, directory) -> None:
        """Write the ensemble folder (``ensemble.json`` and a bundle per member), atomically: killed at
        any moment, ``directory`` holds the previous complete output or this one.

        A folder that holds a single model's bundle, or members beyond this ensemble's, is refused
        (:func:`check_ensemble_folder`)."""
        directory = Path(directory)
        check_ensemble_folder(directory, self.k)
        manifest = {
            "format": FORMAT, "version": VERSION, "k": self.k, "seeds": self.seeds,
            "members": [member_name(i) for i in range(self.k)], "mode": self.mode_,
            "param_values": self.param_values_,
        }
        with staged_dir(directory) as tmp:
            for i, m in enumerate(self.members):
                m.save(tmp / member_name(i))
                if self.metrics is not None and self.metrics[i] is not None:
                    write_json(self.metrics[i], tmp / member_name(i) / "metrics.json")
            write_json(manifest, tmp / ENSEMBLE_FILE)

    @classmethod
    def load(cls, directory) -> DynamapEnsemble:
        """Rebuild an ensemble from a folder written by :meth:`save` (or ``dynamap fit --ensemble``)."""
        directory = Path(directory)
        path = directory / ENSEMBLE_FILE
        if not path.is_file():
            raise InputError(f"{directory}: no {ENSEMBLE_FILE}; pass a folder written by 'dynamap fit --ensemble K'")
        try:
            info = json.loads(path.read_text())
            names = [str(n) for n in info["members"]]
            ok = info.get("format") == FORMAT and names and all("/" not in n and n not in ("", ".", "..")
                                                                 for n in names)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not a readable ensemble description ({exc})") from None
        if not ok:
            raise InputError(f"{path}: not a dynamap ensemble description (format {info.get('format')!r})")
        members, metrics = [], []
        for n in names:
            members.append(DynamapModel.load(directory / n))
            mp = directory / n / "metrics.json"
            metrics.append(json.loads(mp.read_text()) if mp.is_file() else None)
        return cls(members, None if all(m is None for m in metrics) else metrics)


def check_ensemble_folder(directory, k: int) -> None:
    """Refuse an output folder that holds a single model's bundle, or members beyond ``k`` (files of
    a user's are kept in an output folder, so those would stay beside the new ensemble)."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    if (directory / "config.json").exists():
        raise InputError(f"--out {directory}: holds a model bundle; write the ensemble to a new "
                         "folder or remove the bundle first")
    ours = {member_name(i) for i in range(int(k))}
    extra = sorted(p.name for p in directory.glob("member-*") if p.name not in ours)
    if extra:
        raise InputError(f"--out {directory}: holds {', '.join(extra)} of a larger ensemble; write "
                         "to a new folder or remove them first")


def _member_units(series, param_values, k: int, seed: int, config: FitConfig, check: bool) -> list[dict]:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise InputError(f"the ensemble size must be a positive integer, got {k!r}")
    return [{"series": series, "param_values": param_values, "config": config, "seed": int(seed) + i,
             "check": check} for i in range(int(k))]


def fit_ensemble(series, param_values=None, *, k: int = 5, seed: int = 0, config: FitConfig | None = None,
                 backend: str = "local", address: str | None = None, jobs: int | None = None,
                 check: bool = False) -> DynamapEnsemble:
    """Fit ``k`` models from the seeds ``seed`` ... ``seed + k - 1`` as independent work units on
    ``backend`` (``"local"``: forked processes, ``jobs`` at a time; ``"ray"``: a Ray cluster at
    ``address``, see :mod:`dynamap._core.backends`). ``check``: also run each member's free-running
    check (:meth:`DynamapModel.free_running_check`, kept in ``metrics``). Member i is
    ``dynamap.fit(series, param_values, config=config, seed=seed + i)``."""
    check_backend(backend, address, jobs)
    series_list, tags = check_series(series, param_values)
    units = _member_units(series_list, tags, k, seed, pinned_config(config), check)
    done = fit_units(units, backend=backend, address=address, jobs=jobs)
    return DynamapEnsemble([m for m, _ in done], [met for _, met in done] if check else None)


def load_ensemble(path) -> DynamapEnsemble:
    """The ensemble in the folder ``path`` (written by :meth:`DynamapEnsemble.save` or ``dynamap fit
    --ensemble K``)."""
    return DynamapEnsemble.load(Path(path))
