"""One real fit in the default suite: the default configuration with fewer optimiser steps and one
map candidate, on HH data with a clear regime, must give a free run that keeps the data's regime.

The slow checks of the full defaults are in test_fit_pipeline.py (``-m slow``). This one is their
short twin, sized to about a minute on 2 shared cores.
"""

import dataclasses

import pytest

from dynamap import DynamapModel, FitConfig, get_system, simulate

#: the defaults, reduced only in optimiser steps (VAE 500 per searched D instead of 1500, map stages
#: 2000/250/250/250 instead of 8000/1000/1000/1000) and candidates (one map, one round). Measured
#: (HH, V_S = -36 mV, 400 s, seeds 0-3, 2026-12-02): map tonic, ISI W1 0.017-0.037 % of the mean ISI,
#: D_H 0.023-0.036, fits of 35-39 s on an idle 2-core machine. Not enough: a map of 200/25/25/25
#: steps (seed 0) was tonic too but with W1 1.1 % and D_H 0.152; 500/60/60/60 steps with VAE 100
#: steps gave W1 0.10 % and D_H 0.107.
_DEFAULT = FitConfig()
QUALITY = dataclasses.replace(
    _DEFAULT,
    n_candidates=1,
    restarts=0,
    n_jobs=1,
    vae=dataclasses.replace(_DEFAULT.vae, steps_per_dim=500, refine_steps=500),
    map=dataclasses.replace(_DEFAULT.map, stage_steps=(2000, 250, 250, 250)),
)


def test_reduced_default_fit_keeps_the_tonic_regime():
    vs = -36.0  # tonic spiking in the HH reference (tonic from about -38 mV up)
    tr = simulate(get_system("hh-burster"), {"V_S": vs}, t_end=800.0, transient=400.0, dt=0.005)
    s = tr.series("V", param_value=vs)
    m = DynamapModel(QUALITY, seed=0).fit([s], progress=False)
    e = m.free_running_check([s])["series"][0]
    assert (e["data"]["regime"], e["data"]["spikes_per_burst"]) == ("tonic", [1])
    assert (e["map"]["regime"], e["map"]["spikes_per_burst"]) == ("tonic", [1]), e["map"]
    # loose bounds (10x and 3x the measured values) that an undertrained map fails: W1 of 0.5 % of
    # the mean ISI is a 0.5 % period error; D_H 0.1 (the full-default slow checks ask for 0.15)
    assert e["isi_w1"]["value_rel"] <= 0.005
    assert e["power_hellinger"]["value"] <= 0.1
    assert e["isi_mean_ratio"] == pytest.approx(1.0, abs=0.005)
