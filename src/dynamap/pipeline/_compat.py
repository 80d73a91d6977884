"""Saved settings of earlier versions: the keys they held and what they mean now.

* ``state`` (until 2026-12-07): "delay" or "auto" is the delay encoder under the ridge map, "vae" the
  VAE encoder under the MLP map (``FitConfig.encoder``, ``FitConfig.map_family``);
* ``tagged_c_degree``: removed (measured and not adopted, docs/experiments.md); only its old default
  None loads.
"""

from __future__ import annotations

from .._core.errors import ConfigError

__all__ = ["translate_fit_config"]

#: FitConfig's old ``state`` -> (encoder, map_family)
STATE_FAMILIES = {"delay": ("delay", "ridge"), "auto": ("delay", "ridge"), "vae": ("vae", "mlp")}
#: removed FitConfig fields -> the only value a saved config may hold
REMOVED = {"tagged_c_degree": None}


def translate_fit_config(data):
    """A FitConfig dict of any version in today's keys (other values are left to the validation)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for key, old in REMOVED.items():
        if key in data and data.pop(key) != old:
            raise ConfigError(f"FitConfig: {key} was removed (measured and not adopted, see "
                              f"docs/experiments.md); a saved config may hold only its old default {old!r}")
    if "state" in data:
        state = data.pop("state")
        if state not in STATE_FAMILIES:
            raise ConfigError(f"state must be one of {sorted(STATE_FAMILIES)}, got {state!r} "
                              "(today: encoder and map_family)")
        encoder, family = STATE_FAMILIES[state]
        data.setdefault("encoder", encoder)
        data.setdefault("map_family", family)
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
