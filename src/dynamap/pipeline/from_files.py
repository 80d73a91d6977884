"""Fit from files: what ``dynamap fit`` does (read and validate the series, fit, write the bundle and
its free-running check, print a summary)."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .._core.backends import check_backend
from .._core.errors import InputError
from ..io.outputs import staged_dir, write_json
from ..io.series import read_series
from .check import check_summary, fit_metrics, noise_of
from .config import FitConfig
from .estimator import DynamapModel

__all__ = ["fit_from_files", "load_fit_config", "report_fit", "between_tags_summary", "write_bundle"]


def fit_from_files(
    paths: Sequence[str],
    *,
    param_values: Sequence[float] | None,
    dt: float | None,
    out: str | Path,
    seed: int = 0,
    spike_threshold: float | None = None,
    config_path: str | None = None,
    progress: bool = True,
    column: str | None = None,
    channel: str | None = None,
    segment: int | None = None,
    ensemble: int | None = None,
    backend: str = "local",
    address: str | None = None,
    jobs: int | None = None,
):
    """Read and validate the series, fit a model, write the bundle, its metrics.json, the map's sweep
    over the control (sweep.json) and the fit report (report.html, :mod:`dynamap.report.fit`) to ``out``
    (``column``: the observed variable in files with several; ``channel``, ``segment``: the trace of
    a recording, see :func:`~dynamap.read_series`).

    ``ensemble``: K models from the seeds ``seed`` ... ``seed + K - 1`` into one ensemble folder
    (:mod:`dynamap.pipeline.ensemble`), fitted as independent units on ``backend`` (``"local"``
    processes, ``jobs`` at a time, or ``"ray"`` at ``address``); returns the ensemble and its members'
    metrics."""
    _check_param_values(paths, param_values)
    _check_out(out, ensemble, backend, address, jobs)
    config = load_fit_config(config_path, spike_threshold)
    series = [
        read_series(p, dt=dt, param_value=None if param_values is None else float(v), min_length=2,
                    column=column, channel=channel, segment=segment)
        for p, v in zip(paths, param_values or [None] * len(paths))
    ]
    if ensemble is not None:
        return _fit_ensemble_to(out, series, param_values, ensemble, seed, config, backend, address, jobs)
    model = DynamapModel(config, seed=seed).fit(series, param_values=param_values, progress=progress)
    metrics = fit_metrics(model, series)
    write_bundle(out, model, series, metrics)
    report_fit(model, metrics, out)
    return model, metrics


def write_bundle(out, model: DynamapModel, series, metrics: dict) -> None:
    """The bundle of ``model`` fitted on ``series`` in the folder ``out`` (written whole or not at all),
    with its ``metrics.json``, the map's sweep over the control (``sweep.json``) and the fit report
    (``report.html``, :mod:`dynamap.report.fit`)."""
    from ..report.fit import report_sweep, write_fit_report

    sw = report_sweep(model, series)
    with staged_dir(out) as tmp:
        model.save(tmp)
        write_json(metrics, tmp / "metrics.json")
        write_json(sw, tmp / "sweep.json")
        write_fit_report(tmp / "report.html", model, series, metrics, sw)


def _check_param_values(paths: Sequence[str], param_values: Sequence[float] | None) -> None:
    """One distinct ``--param-value`` per file, or none for a single file."""
    if param_values is not None and len(param_values) != len(paths):
        raise InputError(
            f"{len(paths)} series file(s) but {len(param_values)} --param-value(s); give one value per file"
        )
    if param_values is None and len(paths) > 1:
        raise InputError(f"{len(paths)} series files need one --param-value each (tagged mode)")
    if param_values is not None and len(set(param_values)) != len(param_values) and len(paths) > 1:
        raise InputError("--param-value values repeat; give each series its own parameter value")


def _check_out(out: str | Path, ensemble: int | None, backend: str, address: str | None,
               jobs: int | None) -> None:
    """An ensemble's size, backend and folder, or that a single model's ``out`` is not an ensemble."""
    if ensemble is not None:
        from .ensemble import check_ensemble_folder

        if isinstance(ensemble, bool) or int(ensemble) != ensemble or ensemble < 1:
            raise InputError(
                f"--ensemble must be a positive integer (the number of models), got {ensemble!r}")
        check_backend(backend, address, jobs)
        check_ensemble_folder(out, ensemble)
    else:
        refuse_ensemble_folder(out)


def _fit_ensemble_to(out: str | Path, series: list, param_values: Sequence[float] | None, ensemble: int,
                     seed: int, config: FitConfig, backend: str, address: str | None, jobs: int | None):
    """Fit ``ensemble`` models from the seeds ``seed`` ... on ``backend``, save them to ``out`` and report
    each; returns the ensemble and its members' metrics."""
    from .ensemble import fit_ensemble

    print(f"fitting {ensemble} models (seeds {seed}-{seed + ensemble - 1}) "
          f"{backend_words(backend, jobs)}", file=sys.stderr)
    ens = fit_ensemble(series, param_values, k=ensemble, seed=seed, config=config, backend=backend,
                       address=address, jobs=jobs, check=True)
    ens.save(out)
    print(f"wrote an ensemble of {ens.k} model bundles to {out} (ensemble.json, member-0 ... "
          f"member-{ens.k - 1})", file=sys.stderr)
    for i, (m, met) in enumerate(zip(ens.members, ens.metrics)):
        report_fit(m, met, f"{out}/member-{i}", prefix=f"member {i} (seed {m.seed}): ")
    return ens, ens.metrics


def load_fit_config(config_path: str | None, spike_threshold: float | None) -> FitConfig:
    """``FitConfig()`` with the overrides of the JSON file ``config_path`` and ``spike_threshold``."""
    config = FitConfig()
    if config_path is not None:
        try:
            config = FitConfig.from_dict(json.loads(Path(config_path).read_text()))
        except FileNotFoundError:
            raise InputError(f"--config {config_path}: file not found") from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"--config {config_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if spike_threshold is not None:
        config = dataclasses.replace(config, spike_threshold=float(spike_threshold))
    return config


def refuse_ensemble_folder(out: str | Path) -> None:
    """A single model's bundle is not written over an ensemble folder (its ensemble.json would stay
    beside the new bundle: files an output does not write are kept)."""
    if (Path(out) / "ensemble.json").is_file():
        raise InputError(f"--out {out}: holds an ensemble (ensemble.json); write the model to a new folder "
                         "or remove the ensemble first")


def backend_words(backend: str, jobs: int | None) -> str:
    """How work units run, for the terminal."""
    if backend == "ray":
        return "as tasks of a Ray cluster"
    return "in local processes" + ("" if jobs is None else f", {jobs} at a time")


def report_fit(model: DynamapModel, metrics: dict, out, prefix: str = "") -> None:
    """The fit's summary on stderr: the bundle, its rounds, the control's calibration, the check."""
    state = f"{model.config.map_family} map on {model.encoder_.describe()}"
    print(f"{prefix}wrote model bundle to {out} ({state}, map step {model.dt_:g}, "
          f"spike threshold {model.spike_threshold_:.4g} with hysteresis {model.spike_hysteresis_:.3g})",
          file=sys.stderr)
    rounds = model.history_["map"].get("rounds", [])
    if len(rounds) > 1:
        scores = ", ".join(f"{r['selected_score']:.3g}" for r in rounds)
        print(f"{prefix}{len(rounds)} fit rounds (VAE and map candidates, fresh random streams; selection "
              f"scores {scores}): kept round {model.history_['map']['round'] + 1}", file=sys.stderr)
    noise = noise_of(model)
    print(f"{prefix}{'WARNING: ' if noise['too_large'] else ''}{noise['message']}", file=sys.stderr)
    for i, r in enumerate(model.history_.get("stationarity") or []):
        if not r["stationary"]:
            print(f"{prefix}WARNING: series {i}: {r['message']}", file=sys.stderr)
    if any(model.c_shift_):
        shifts = ", ".join(f"{s:+g} at {v:g}" for s, v in zip(model.c_shift_, model.param_values_))
        print(f"{prefix}control input calibrated (normalised shift per training value): {shifts}",
              file=sys.stderr)
    for line in check_summary(metrics):
        print(prefix + line, file=sys.stderr)
    for line in between_tags_summary(model.history_.get("between_tags")):
        print(prefix + line, file=sys.stderr)


def between_tags_summary(rows: list[dict] | None) -> list[str]:
    """Terminal lines of the fit's cross-tag validation (``history_["between_tags"]``): how the map
    fitted without each interior tag runs at it, the measure of how far the map can be trusted between
    its tags."""
    lines = []
    for r in rows or []:
        if r["starts_ok"] == 0:
            how = "silent or diverged from every start"
        else:
            how = (f"spikes-per-burst distance {r['spb_tv']:.2f}, mean ISI map/data {r['isi_ratio']:.3f}"
                   if r["isi_ratio"] is not None else f"spikes-per-burst distance {r['spb_tv']:.2f}")
        lines.append(f"between the tags: fitted without {r['value']:g}, the map scores {r['score']:.3g} "
                     f"there (0: as the data; 10: silent) with {r['starts_ok']} of {r['starts']} starts "
                     f"spiking; {how}")
    return lines
