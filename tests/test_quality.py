"""One real fit in the default suite: the default reconstruction (the delay encoder under the ridge
map) with one map candidate and one round, on 600 s of the HH burster at V_S = -40 mV (4 spikes per
burst), must free-run with the data's bursts, their period and their spectrum.

Measured with seeds 0, 1, 2 (docs/experiments.md, "The house: encoder x map"): bursting with 4 spikes,
ISI W1 0.019, 0.008, 0.009 of the mean ISI, D_H 0.028, 0.018, 0.007, mean-ISI ratio 0.989, 0.996,
0.994, 8 s a fit on 2 cores. The bounds below are about 2.5x the worst of these. The slow checks of the
full defaults are in test_fit_pipeline.py (``-m slow``).
"""

import dataclasses

import pytest

from dynamap import DynamapModel, FitConfig, get_system, simulate

_DEFAULT = FitConfig()
#: the defaults with one map candidate and one round
QUALITY = dataclasses.replace(_DEFAULT, restarts=0, n_jobs=1, ridge=dataclasses.replace(_DEFAULT.ridge, candidates=1))


def test_reduced_default_fit_keeps_the_bursts():
    vs = -40.0  # 4 spikes per burst in the HH reference
    tr = simulate(get_system("hh-burster"), {"V_S": vs}, t_end=1000.0, transient=400.0, dt=0.005)
    s = tr.series("V", param_value=vs)
    m = DynamapModel(QUALITY, seed=0).fit([s], progress=False)
    e = m.free_running_check([s])["series"][0]
    assert (e["data"]["regime"], e["data"]["spikes_per_burst"]) == ("bursting", [4])
    assert (e["map"]["regime"], e["map"]["spikes_per_burst"]) == ("bursting", [4]), e["map"]
    assert e["isi_w1"]["value_rel"] <= 0.05
    assert e["power_hellinger"]["value"] <= 0.07
    assert e["isi_mean_ratio"] == pytest.approx(1.0, abs=0.03)
