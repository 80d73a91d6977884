"""Model bundles on disk: a directory with

* ``weights.pt``: state_dicts of the modules plus the fitted arrays (tensors only), written by
  ``torch.save`` and read back with ``weights_only=True`` (no pickled code);
* ``config.json``: the fit configuration and the fitted scalars (``{"fit_config": ..., "fitted": ...}``);
* ``versions.json``: dynamap, torch, numpy, python versions;
* ``fit_report.json``: the training history;
* further files the caller passes (the latent-dimension figure).

This module knows files, not models: :meth:`dynamap.DynamapModel.save` and ``load`` turn a model's
fitted attributes into these dicts and back. Files are written to a temporary sibling directory and
moved into place, so a failed save leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import shutil
from pathlib import Path

import numpy as np
import torch

from .._core.errors import InputError
from .._core.version import VERSION
from .outputs import replace_dir, temp_sibling_dir

__all__ = ["Bundle", "read_bundle", "write_bundle"]

FORMAT = 1


@dataclasses.dataclass
class Bundle:
    """The contents of a bundle: config and fitted scalars (JSON), tensors, history (JSON)."""

    fit_config: dict
    fitted: dict
    tensors: dict
    history: dict


def _versions() -> dict:
    return {"dynamap": VERSION, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "bundle_format": FORMAT}


def write_bundle(directory, bundle: Bundle, extra_files: dict[str, bytes] | None = None) -> None:
    """Write ``bundle`` to ``directory`` (created; replaced whole if it exists)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling_dir(directory)  # named for this process: a killed save's is removed next time
    try:
        torch.save(bundle.tensors, tmp / "weights.pt")
        config = {"fit_config": bundle.fit_config, "fitted": bundle.fitted}
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        (tmp / "versions.json").write_text(json.dumps(_versions(), indent=2))
        (tmp / "fit_report.json").write_text(json.dumps(bundle.history, indent=1))
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
        replace_dir(tmp, directory)  # the previous bundle or the new one, never a half-deleted one
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_bundle(directory) -> Bundle:
    """Read a bundle written by :func:`write_bundle`; a clear :class:`InputError` when it is not one."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"--model {directory}: not a folder; pass the folder written by 'dynamap fit --out'")
    missing = [f for f in ("weights.pt", "config.json") if not (directory / f).is_file()]
    if missing and (directory / "ensemble.json").is_file():  # dynamap.pipeline.ensemble.ENSEMBLE_FILE
        raise InputError(f"--model {directory}: an ensemble of models, not one model; load it with "
                         "dynamap.load_ensemble, or pass one member's folder (member-0, ...)")
    if missing:
        raise InputError(f"--model {directory}: not a dynamap model bundle (missing {', '.join(missing)}); "
                         "run 'dynamap fit' first")
    try:
        config = json.loads((directory / "config.json").read_text())
        fit_config, fitted = config["fit_config"], config["fitted"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"{directory}/config.json is not a valid model config ({e})") from None
    tensors = torch.load(directory / "weights.pt", weights_only=True)
    report = directory / "fit_report.json"
    history = json.loads(report.read_text()) if report.is_file() else {}
    return Bundle(fit_config, fitted, tensors, history)
