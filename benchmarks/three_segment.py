"""The tagged 3-segment check of the slow suite, one line per seed, with any change of the settings.

    python benchmarks/three_segment.py [--seeds 0 1 2] [--fit K=V ...]

HH at V_S = -42, -40, -38.5 mV, 1200 s each after 400 s (dt 0.005 s): one tagged ``dynamap`` fit per
seed (``FitConfig()`` with the changes; the fit of
``tests/test_fit_pipeline.py::test_default_tagged_fit_reproduces_each_segment``) and its free-running
check at each segment: the data's and the map's regime and spikes per burst, whether they match, ISI W1
and D_H (% of the mean ISI, and each with its truth-vs-truth floor), then the fit's cross-tag validation
(the map refitted without each interior tag, its free-run score there; 0 is the data's own).
``--fit K=V``: a ``FitConfig`` setting by its dotted name (V in JSON).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import dynamap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _settings import configured, kv  # noqa: E402

TAGS = (-42.0, -40.0, -38.5)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--fit", type=kv, nargs="*", default=[], help="a FitConfig setting KEY=JSON (dotted: ridge.noise=...)")
    a = ap.parse_args(argv)
    base = dynamap.FitConfig()
    cfg = configured(base, a.fit)
    hh = dynamap.get_system("hh-burster")
    series = [dynamap.simulate(hh, {"V_S": v}, t_end=1600, transient=400, dt=0.005).series("V", param_value=v)
              for v in TAGS]
    for seed in a.seeds:
        t0 = time.perf_counter()
        model = dynamap.DynamapModel(cfg, seed=seed).fit(series, param_values=list(TAGS), progress=False)
        t_fit = time.perf_counter() - t0
        rows = []
        for e in model.free_running_check(series)["series"]:
            rows.append((e["param_value"], e["data"]["regime"], e["data"]["spikes_per_burst"], e["map"]["regime"],
                         e["map"]["spikes_per_burst"], e["match"], round(100 * e["isi_w1"]["value_rel"], 1),
                         round(100 * e["isi_w1"]["floor_rel"], 1), round(e["power_hellinger"]["value"], 3),
                         round(e["power_hellinger"]["floor"], 3)))
        xval = [(r["value"], round(r["score"], 3)) for r in model.history_["between_tags"] or []]
        print(seed, f"{t_fit:.0f} s", rows, xval, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
