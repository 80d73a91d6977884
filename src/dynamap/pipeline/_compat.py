"""Saved settings and bundles of earlier versions: the keys they held and what they mean now.

Until 2026-12-07 a FitConfig held ``state`` ("delay"/"auto": the delay encoder under the ridge map;
"vae": the VAE encoder under the MLP map), one ``map`` settings class for both map families and the
selection, and the delay and candidate settings at the top (``delay_taps``, ``delay_lag``,
``delay_candidates``, ``delay_calibrate``, ``n_candidates``, ``tagged_steps_factor``). Options measured
and not adopted (docs/experiments.md) load only with their old defaults (:data:`REMOVED`).
"""

from __future__ import annotations

from .._core.errors import ConfigError

__all__ = ["REMOVED", "current_bundle", "translate_fit_config"]

#: FitConfig's old ``state`` -> (encoder, map_family)
STATE_FAMILIES = {"delay": ("delay", "ridge"), "auto": ("delay", "ridge"), "vae": ("vae", "mlp")}
#: removed options -> the only value a saved config may hold (their old default): FitConfig's, then
#: the old MapConfig's
REMOVED = {"tagged_c_degree": None}
REMOVED_MAP = {"rollout_noise": 0.0, "wide_noise": 0.0, "wide_fraction": 0.25, "tf_alpha": 0.0,
               "weighting": "none", "rel_floor": 0.1, "noise_mode": "isotropic", "output_scaling": False,
               "c_secant": 0, "bridge": 0.0, "ridge_common": "pull", "xval_weight": 0.0, "c_hidden": 0.0,
               "ridge_c_degree": 1, "c_degree": 0, "stage_batch": None, "stage_noise": None}
#: old top-level FitConfig keys -> (settings section, field)
MOVED = {"delay_taps": ("delay", "taps"), "delay_lag": ("delay", "lag"), "delay_candidates": ("ridge", "candidates"),
         "delay_calibrate": ("ridge", "calibrate"), "n_candidates": ("mlp", "candidates"),
         "tagged_steps_factor": ("mlp", "tagged_steps_factor")}
#: old MapConfig fields -> (settings section, field)
MAP_FIELDS = {
    **{k: ("mlp", k) for k in ("hidden", "depth", "activation", "residual", "horizons", "stage_steps",
                               "batch_size", "states_per_batch", "lr", "lr_final", "grad_clip", "noise", "c_noise",
                               "select_every")},
    **{k: ("selection", k) for k in ("box_margin", "select_starts", "select_steps", "select_transient",
                                     "select_spectral", "final_top", "final_steps", "final_transient", "c_shifts",
                                     "c_refine")},
    "features": ("ridge", "features"), "ridge": ("ridge", "ridge"), "ridge_noise": ("ridge", "noise"),
    "ridge_draws": ("ridge", "draws"), "ridge_c_penalty": ("ridge", "c_penalty"),
    "ridge_tangent": ("ridge", "tangent"), "drive": ("ridge", "drive"),
}


def _drop_removed(data: dict, table: dict, where: str) -> None:
    """Remove the keys of ``table`` from ``data``; a value other than the old default is an error."""
    for key, old in table.items():
        if key not in data:
            continue
        v = data.pop(key)
        if not (v == old and isinstance(v, bool) == isinstance(old, bool)):
            raise ConfigError(f"{where}: {key} was removed (measured and not adopted, see docs/experiments.md); "
                              f"a saved config may hold only its old default {old!r}, got {v!r}")


def translate_fit_config(data):
    """A FitConfig dict of any version in today's keys (values are left to the validation)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    _drop_removed(data, REMOVED, "FitConfig")
    if "state" in data:
        state = data.pop("state")
        if state not in STATE_FAMILIES:
            raise ConfigError(f"state must be one of {sorted(STATE_FAMILIES)}, got {state!r} "
                              "(today: encoder and map_family)")
        if "encoder" in data or "map_family" in data:
            raise ConfigError("state (the old name of an encoder and map family) and encoder/map_family "
                              "are both given; give encoder and map_family only")
        data["encoder"], data["map_family"] = STATE_FAMILIES[state]
    sections: dict[str, dict] = {}
    for old, (section, field) in MOVED.items():
        if old in data:
            sections.setdefault(section, {})[field] = data.pop(old)
    if "map" in data:
        old_map = data.pop("map")
        if not isinstance(old_map, dict):
            raise ConfigError(f"map must be a JSON object of map settings, got {type(old_map).__name__}")
        old_map = dict(old_map)
        _drop_removed(old_map, REMOVED_MAP, "map")
        unknown = sorted(set(old_map) - set(MAP_FIELDS))
        if unknown:
            raise ConfigError(f"map: unknown field(s) {unknown}")
        for old, (section, field) in MAP_FIELDS.items():
            if old in old_map:
                sections.setdefault(section, {})[field] = old_map[old]
    for section, fields in sections.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{section} must be a JSON object, got {type(given).__name__}")
        data[section] = {**fields, **given}
    return data


def current_bundle(bundle):
    """A model bundle of any version with today's fitted keys: bundles written before the encoder was
    saved by its own members (2026-12-07) held ``latent_dim``, ``state`` and the VAE's (or the delay
    map's identity VAE's) weights under ``vae`` with the state standardisation ``z_mean``, ``z_std``."""
    fitted, tensors = bundle.fitted, bundle.tensors
    if "encoder" in fitted:
        return bundle
    fitted, tensors = dict(fitted), dict(tensors)
    state = fitted.pop("state", "vae")
    if state not in STATE_FAMILIES:
        raise ConfigError(f"the bundle's fitted state {state!r} is none of {sorted(STATE_FAMILIES)}")
    dim = int(fitted.pop("latent_dim"))
    window = int(fitted["sampling"]["window"])
    enc = {"family": "delay" if state != "vae" else "vae", "window": window, "dim": dim,
           "x_mean": float(fitted["x_mean"]), "x_std": float(fitted["x_std"])}
    vae = tensors.pop("vae")
    z_mean, z_std = tensors.pop("z_mean"), tensors.pop("z_std")
    if enc["family"] == "vae":
        from ..training.config import VAEConfig

        v = VAEConfig.from_dict(bundle.fit_config.get("vae", {}))
        enc["architecture"] = [v.hidden, v.depth, v.activation]
        tensors.update({f"encoder.vae.{k}": v for k, v in vae.items()})
        tensors["encoder.z_mean"], tensors["encoder.z_std"] = z_mean, z_std
    fitted["encoder"] = enc
    # the families the model ran with are its fitted state's, whatever the saved config's state says
    fit_config = {k: v for k, v in bundle.fit_config.items() if k != "state"}
    fit_config["encoder"], fit_config["map_family"] = STATE_FAMILIES[state]
    return type(bundle)(fit_config, fitted, tensors, bundle.history)
