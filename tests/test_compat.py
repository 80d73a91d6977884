"""Settings and bundles saved by dynamap 6325d7b (2026-12-07, before the encoder x map settings) load as
what they were: tests/data holds that version's default FitConfig JSON and two of its bundles (a tiny VAE
fit and the demo's single-series delay map), with the orbits that version iterated from them."""

import json
from pathlib import Path

import numpy as np
import pytest

import dynamap
from dynamap._core.errors import ConfigError

DATA = Path(__file__).parent / "data"


def test_the_old_default_config_is_todays_default():
    """Every value of the old default moved to its new place unchanged, so the old file reads as
    today's defaults exactly; the old "vae" state reads as the VAE encoder under the MLP map."""
    old = json.loads((DATA / "fit_config_6325d7b.json").read_text())
    assert "map" in old and "state" in old and "delay_taps" in old  # the old layout
    assert dynamap.FitConfig.from_dict(old) == dynamap.FitConfig()
    vae = dynamap.FitConfig.from_dict({**old, "state": "vae", "n_candidates": 3, "map": {**old["map"], "hidden": 8}})
    assert (vae.encoder, vae.map_family, vae.mlp.candidates, vae.mlp.hidden) == ("vae", "mlp", 3, 8)
    assert vae.ridge == dynamap.RidgeConfig() and vae.selection == dynamap.SelectionConfig()


def test_removed_options_load_only_with_their_old_defaults():
    old = json.loads((DATA / "fit_config_6325d7b.json").read_text())
    assert old["map"]["c_degree"] == 0
    with pytest.raises(ConfigError, match="c_degree was removed"):
        dynamap.FitConfig.from_dict({**old, "map": {**old["map"], "c_degree": 2}})
    with pytest.raises(ConfigError, match="stage_noise was removed"):
        dynamap.FitConfig.from_dict({**old, "map": {**old["map"], "stage_noise": [0.01, 0.01, 0.01, 0.0]}})
    assert dynamap.FitConfig.from_dict({**old, "map": {**old["map"], "rollout_noise": 0.0}}) == dynamap.FitConfig()
    with pytest.raises(ConfigError, match="unknown field"):
        dynamap.FitConfig.from_dict({**old, "map": {**old["map"], "no_such_option": 1}})
    with pytest.raises(ConfigError, match="unknown field"):
        dynamap.FitConfig.from_dict({"map_famliy": "ridge"})  # today's keys are checked as ever


@pytest.mark.parametrize("name,encoder,family", [("tiny_vae_single", "vae", "mlp"),
                                                 ("demo_delay_single", "delay", "ridge")])
def test_old_bundles_load_and_iterate_the_orbits_they_did(name, encoder, family):
    ref = json.loads((DATA / "bundles_6325d7b" / "orbits.json").read_text())[name]
    model = dynamap.load_model(DATA / "bundles_6325d7b" / name)
    assert (model.encoder_.family, model.config.map_family) == (encoder, family)
    x = model.simulate_batch(ref["c"], ref["n_steps"], ref["n_transient"])
    np.testing.assert_allclose(x[:, :5], ref["orbit_head"], rtol=0, atol=1e-3)
    # the whole orbit (other CPUs round otherwise, and spikes amplify it): its mean within 0.5 mV
    assert abs(float(np.mean(x)) - ref["sum"] / x.size) < 0.5
