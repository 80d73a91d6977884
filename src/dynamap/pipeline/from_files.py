"""Fit from files: what ``dynamap fit`` does (read and validate the series, fit, write the bundle and
its free-running check, print a summary)."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .._core.errors import InputError
from ..io.outputs import staged_dir, write_json
from ..io.series import read_series
from .check import check_summary
from .config import FitConfig
from .estimator import DynamapModel

__all__ = ["fit_from_files"]


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
):
    """Read and validate the series, fit a model, write the bundle and its metrics.json to ``out``
    (``column``: the observed variable in files with several; ``channel``, ``segment``: the trace of
    a recording, see :func:`~dynamap.read_series`)."""
    if param_values is not None and len(param_values) != len(paths):
        raise InputError(
            f"{len(paths)} series file(s) but {len(param_values)} --param-value(s); give one value per file"
        )
    if param_values is None and len(paths) > 1:
        raise InputError(f"{len(paths)} series files need one --param-value each (tagged mode)")
    if param_values is not None and len(set(param_values)) != len(param_values) and len(paths) > 1:
        raise InputError("--param-value values repeat; give each series its own parameter value")
    config = FitConfig()
    if config_path is not None:
        try:
            config = FitConfig.from_dict(json.loads(Path(config_path).read_text()))
        except FileNotFoundError:
            raise InputError(f"--config {config_path}: file not found") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"--config {config_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if spike_threshold is not None:
        config = dataclasses.replace(config, spike_threshold=float(spike_threshold))
    series = [
        read_series(p, dt=dt, param_value=None if param_values is None else float(v), min_length=2,
                    column=column, channel=channel, segment=segment)
        for p, v in zip(paths, param_values or [None] * len(paths))
    ]
    model = DynamapModel(config, seed=seed).fit(series, param_values=param_values, progress=progress)
    metrics = model.free_running_check(series)
    with staged_dir(out) as tmp:
        model.save(tmp)
        write_json(metrics, tmp / "metrics.json")
    print(f"wrote model bundle to {out} (latent dimension {model.latent_dim_}, map step {model.dt_:g}, "
          f"spike threshold {model.spike_threshold_:.4g} with hysteresis {model.spike_hysteresis_:.3g})",
          file=sys.stderr)
    rounds = model.history_["map"].get("rounds", [])
    if len(rounds) > 1:
        scores = ", ".join(f"{r['selected_score']:.3g}" for r in rounds)
        print(f"{len(rounds)} fit rounds (VAE and map candidates, fresh random streams; selection scores "
              f"{scores}): kept round {model.history_['map']['round'] + 1}", file=sys.stderr)
    if any(model.c_shift_):
        shifts = ", ".join(f"{s:+g} at {v:g}" for s, v in zip(model.c_shift_, model.param_values_))
        print(f"control input calibrated (normalised shift per training value): {shifts}", file=sys.stderr)
    for line in check_summary(metrics):
        print(line, file=sys.stderr)
    return model, metrics
