"""Model bundles: a directory with

* ``weights.pt``: state_dicts of the VAE and the map plus the fitted arrays (tensors only), written by
  ``torch.save`` and read back with ``weights_only=True`` (no pickled code);
* ``config.json``: the FitConfig and the fitted scalars (sampling choices, scalers, control-input
  normalisation, mode, tags, seed);
* ``versions.json``: dynamap, torch, numpy, python versions;
* ``fit_report.json``: the training history (latent-dimension evidence, map losses, selection scores);
* ``latent_dim.png``: the latent-dimension evidence figure.

Files are written to a temporary sibling directory and moved into place, so a failed save leaves
nothing half-written.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from .._core.errors import InputError

__all__ = ["save_model", "load_model", "BUNDLE_FILES"]

BUNDLE_FILES = ("weights.pt", "config.json", "versions.json", "fit_report.json", "latent_dim.png")
FORMAT = 1


def _versions() -> dict:
    from .. import __version__

    return {"dynamap": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "bundle_format": FORMAT}


def _latent_figure(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    ev = history["latent_dim"]
    dims = sorted(int(d) for d in ev["per_dim"])
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for d in dims:
        axes[0].plot(ev["per_dim"][str(d)]["curve"], label=f"D_r={d}")
    axes[0].set_yscale("symlog")
    axes[0].set_xlabel("training (blocks of 50 steps)")
    axes[0].set_ylabel("VAE loss")
    axes[0].legend(fontsize=7)
    axes[1].plot(dims, [ev["per_dim"][str(d)]["final_loss"] for d in dims], "o-")
    axes[1].axvline(ev["chosen"], color="r", ls="--", label=f"chosen D_r={ev['chosen']}")
    axes[1].set_xlabel("latent units D")
    axes[1].set_ylabel("evaluation loss L(D)")
    axes[1].legend()
    for d in dims:
        kl = ev["per_dim"][str(d)]["kl_units"]
        axes[2].scatter([d] * len(kl), kl, s=12, color="k")
    axes[2].axhline(ev["active_kl"], color="r", ls=":", label="active threshold")
    axes[2].set_yscale("symlog", linthresh=1e-2)
    axes[2].set_xlabel("latent units D")
    axes[2].set_ylabel("per-unit KL (nats)")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fitted(model) -> dict:
    return {
        "latent_dim": model.latent_dim_, "mode": model.mode_, "param_values": model.param_values_,
        "sampling": model.sampling_.to_dict(), "x_mean": model.x_mean_, "x_std": model.x_std_,
        "c_center": model.c_center_, "c_scale": model.c_scale_, "c_offset": model.c_offset_,
        "c_shift": list(model.c_shift_),
        "name": model.name_, "seed": model.seed,
    }


def save_model(model, directory) -> None:
    """Write the bundle of a fitted model to ``directory`` (created; replaced if it exists)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=directory.parent))
    try:
        weights = {
            "vae": model.vae_.state_dict(), "map": model.map_.state_dict(),
            "z_mean": torch.from_numpy(model.z_mean_), "z_std": torch.from_numpy(model.z_std_),
            "anchors": torch.from_numpy(model.anchors_), "anchor_c": torch.from_numpy(model.anchor_c_),
        }
        torch.save(weights, tmp / "weights.pt")
        config = {"fit_config": model.config.to_dict(), "fitted": _fitted(model)}
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        (tmp / "versions.json").write_text(json.dumps(_versions(), indent=2))
        (tmp / "fit_report.json").write_text(json.dumps(model.history_, indent=1))
        _latent_figure(model.history_, tmp / "latent_dim.png")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_model(cls, directory):
    """Rebuild a fitted model of class ``cls`` (its ``config_class`` parses the config) from a bundle
    written by :func:`save_model`."""
    from ..embedding.rules import SamplingChoice

    directory = Path(directory)
    missing = [f for f in ("weights.pt", "config.json") if not (directory / f).is_file()]
    if missing:
        raise InputError(f"{directory} is not a dynamap model bundle: missing {missing}")
    try:
        config = json.loads((directory / "config.json").read_text())
        fitted = config["fitted"]
        model = cls(cls.config_class.from_dict(config["fit_config"]), seed=int(fitted["seed"]))
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"{directory}/config.json is not a valid model config ({e})") from None
    model.latent_dim_ = int(fitted["latent_dim"])
    model.mode_ = fitted["mode"]
    model.param_values_ = [float(p) for p in fitted["param_values"]]
    model.sampling_ = SamplingChoice(**fitted["sampling"])
    model.dt_ = model.sampling_.dt_map
    model.spike_threshold_ = model.sampling_.spike_threshold
    model.spike_hysteresis_ = model.sampling_.spike_hysteresis
    model.x_mean_, model.x_std_ = float(fitted["x_mean"]), float(fitted["x_std"])
    model.c_center_, model.c_scale_ = float(fitted["c_center"]), float(fitted["c_scale"])
    model.c_offset_ = float(fitted["c_offset"])
    model.c_shift_ = [float(v) for v in fitted.get("c_shift", [0.0] * len(model.param_values_))]
    if len(model.c_shift_) != len(model.param_values_):
        raise InputError(f"{directory}/config.json: c_shift has {len(model.c_shift_)} values for "
                         f"{len(model.param_values_)} training values")
    model.name_ = fitted["name"]
    weights = torch.load(directory / "weights.pt", weights_only=True)
    model._build_modules()
    model.vae_.load_state_dict(weights["vae"])
    model.map_.load_state_dict(weights["map"])
    model.vae_.eval()
    model.map_.eval()
    model.z_mean_ = weights["z_mean"].numpy()
    model.z_std_ = weights["z_std"].numpy()
    model.anchors_ = weights["anchors"].numpy()
    model.anchor_c_ = weights["anchor_c"].numpy()
    report = directory / "fit_report.json"
    model.history_ = json.loads(report.read_text()) if report.is_file() else {}
    return model
