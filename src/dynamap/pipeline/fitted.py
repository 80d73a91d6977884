"""What a fit learns, frozen: the control's normalisation and the fitted reconstruction, and how a
model bundle holds them (:mod:`dynamap.io.bundle` writes the files)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .._core.errors import InputError
from ..embedding.rules import SamplingChoice
from ..io.bundle import Bundle, read_bundle, write_bundle
from ..models.base import StateMap
from ..models.encoders import ENCODERS, Encoder
from ..training.map import blank_map
from . import _compat
from .config import FitConfig

__all__ = ["Control", "Fitted", "load_fitted", "save_fitted"]

#: start states kept per segment for free runs (spread evenly over the recording)
N_ANCHORS = 64


@dataclasses.dataclass(frozen=True)
class Control:
    """The control input c, in the units of the training values, and the network's normalised input.

    ``mode`` "single" (one training value ``p0``: c_norm = offset + (c - p0) / scale) or "tagged"
    (c_norm = (c - center) / scale, centred on the tags with half-range 1); ``shift`` adds the
    calibration shift of each training value (``SelectionConfig.c_shifts``), linear between them."""

    mode: str
    param_values: tuple[float, ...]
    center: float
    scale: float
    offset: float
    shift: tuple[float, ...]

    @classmethod
    def of(cls, tags, series_list, cfg: FitConfig) -> Control:
        """Single-series (one tag or none: c offset by ``single_c_value`` and scaled by |p0| when the
        tag is known) or tagged (several series)."""
        if tags is None or len(series_list) == 1:
            p0 = None if tags is None else tags[0]
            if p0 is None:
                p0 = series_list[0].param_value
            known = p0 is not None
            p0 = float(p0) if known else 1.0
            scale = cfg.single_c_scale or (abs(p0) if known and p0 != 0 else 1.0)
            offset = cfg.single_c_value if known else p0
            return cls("single", (p0,), p0, float(scale), float(offset), (0.0,))
        values = tuple(float(t) for t in tags)
        arr = np.asarray(values)
        return cls("tagged", values, float(arr.mean()), float(max(0.5 * (arr.max() - arr.min()), 1e-12)), 0.0,
                   (0.0,) * len(values))

    def normalise(self, c) -> np.ndarray:
        """Control input in the tags' units -> the network's normalised input."""
        c = np.asarray(c, dtype=np.float64)
        base = self.offset + (c - self.center) / self.scale
        shift = np.asarray(self.shift or [0.0], dtype=np.float64)
        if not np.any(shift):
            return base
        tags = np.asarray(self.param_values, dtype=np.float64)
        order = np.argsort(tags)
        return base + np.interp(c, tags[order], shift[order])


@dataclasses.dataclass(frozen=True)
class Fitted:
    """Everything a fit learned, built at its end and assigned once (:class:`~dynamap.DynamapModel`
    reads its fitted attributes from here): the sampling choice, the series' name and
    standardisation, the control, the encoder and the map, the start states of free runs
    (``anchors`` (N, dim) with their training values ``anchor_c``), the fit's history."""

    sampling: SamplingChoice
    name: str
    x_mean: float
    x_std: float
    control: Control
    encoder: Encoder
    map: StateMap
    anchors: np.ndarray
    anchor_c: np.ndarray
    history: dict
    source_dir: str = ""


def anchors_of(latents: list[np.ndarray], values) -> tuple[np.ndarray, np.ndarray]:
    """:data:`N_ANCHORS` states spread over each segment, and each one's training value."""
    anchors, anchor_c = [], []
    for i, lat in enumerate(latents):
        pos = np.linspace(0, lat.shape[0] - 1, N_ANCHORS).astype(int)
        anchors.append(lat[pos])
        anchor_c += [values[i]] * N_ANCHORS
    return np.concatenate(anchors).astype(np.float64), np.asarray(anchor_c, dtype=np.float64)


def save_fitted(directory, fitted: Fitted, config: FitConfig, seed: int, extra_files: dict) -> None:
    """The bundle of a fitted model: the config, the fitted scalars and the encoder's parameters
    (``config.json``), the map's, the encoder's and the anchors' tensors (``weights.pt``)."""
    ctl, samp = fitted.control, fitted.sampling
    scalars = {"mode": ctl.mode, "param_values": list(ctl.param_values), "sampling": samp.to_dict(),
               "x_mean": fitted.x_mean, "x_std": fitted.x_std, "c_center": ctl.center, "c_scale": ctl.scale,
               "c_offset": ctl.offset, "c_shift": list(ctl.shift), "name": fitted.name, "seed": seed,
               "encoder": fitted.encoder.params()}
    tensors = {"map": fitted.map.state_dict(),
               **{f"encoder.{k}": v for k, v in fitted.encoder.tensors().items()},
               "anchors": torch.from_numpy(np.asarray(fitted.anchors)),
               "anchor_c": torch.from_numpy(np.asarray(fitted.anchor_c))}
    write_bundle(directory, Bundle(config.to_dict(), scalars, tensors, fitted.history), extra_files)


def load_fitted(directory) -> tuple[FitConfig, int, Fitted]:
    """The config, the seed and the fitted reconstruction of a bundle (of any version)."""
    b = _compat.current_bundle(read_bundle(directory))
    f = b.fitted
    try:
        config = FitConfig.from_dict(b.fit_config)
        values = tuple(float(x) for x in f["param_values"])
        shift = tuple(float(x) for x in f.get("c_shift", [0.0] * len(values)))
        control = Control(str(f["mode"]), values, float(f["c_center"]), float(f["c_scale"]), float(f["c_offset"]),
                          shift)
        enc_tensors = {k[8:]: v for k, v in b.tensors.items() if k.startswith("encoder.")}
        encoder = ENCODERS[f["encoder"]["family"]].restore(f["encoder"], enc_tensors)
        sampling = SamplingChoice(**f["sampling"])
        anchors, anchor_c = b.tensors["anchors"].numpy(), b.tensors["anchor_c"].numpy()
        seed, name, x_mean, x_std = int(f["seed"]), str(f["name"]), float(f["x_mean"]), float(f["x_std"])
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{directory}/config.json is not a valid model config ({e!r})") from None
    if len(shift) != len(values):
        raise InputError(f"{directory}/config.json: c_shift has {len(shift)} values for {len(values)} training "
                         "values")
    fmap = blank_map(config.map_settings(control.mode)[0], encoder, (config.delay.taps, config.delay.lag))
    fmap.load_state_dict(b.tensors["map"])
    fmap.eval()
    return config, seed, Fitted(sampling, name, x_mean, x_std, control, encoder, fmap, anchors, anchor_c,
                                b.history, str(directory))
