"""The demo's tagged protocol with an ensemble: K tagged models from the seeds SEED..SEED+K-1, swept over
the demo's held-out grid; prints the modal label's held-out accuracy beside the nearest-tag lookup's,
and the accuracy by agreement level (docs/metrics.md sections 3 and 8).

    python benchmarks/ensemble_demo.py [--k 5] [--seed 0] [--backend local|ray] [--address A] [--out DIR]
    python benchmarks/ensemble_demo.py --quick     # tiny fits, short series, few points: a smoke run

The full run fits K demo-sized tagged models (about 7 minutes each on 2 cores, K at a time on as
many cores) and sweeps the true system at the held-out values and the tags (``dynamap.pipeline.demo``:
tags, segment length, held-out grid and sweep settings of ``FULL``; ``--quick`` takes ``QUICK``).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import dynamap
from dynamap.analysis.compare import compare_summary
from dynamap.analysis.scores import points_at
from dynamap.io.outputs import staged_dir, write_json
from dynamap.pipeline.demo import DEMO_RESTARTS, FULL, QUICK, _heldout_grid, _quick_fit


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=5, help="models in the ensemble (default 5)")
    ap.add_argument("--seed", type=int, default=0, help="the first member's seed")
    ap.add_argument("--backend", choices=("local", "ray"), default="local")
    ap.add_argument("--address", help="the Ray cluster (--backend ray)")
    ap.add_argument("--jobs", type=int, help="local fits at a time (default: the usable cores)")
    ap.add_argument("--quick", action="store_true", help="the demo's quick settings and tiny fits")
    ap.add_argument("--out", help="also write the ensemble, its sweep, the true sweeps and the scores here")
    args = ap.parse_args(argv)

    s = QUICK if args.quick else FULL
    cfg = _quick_fit() if args.quick else dynamap.FitConfig(spike_threshold=-30.0, restarts=DEMO_RESTARTS)
    hh = dynamap.get_system("hh-burster")
    tags = [float(v) for v in s.tagged_values]
    t0 = time.perf_counter()
    segs = [dynamap.simulate(hh, {"V_S": v}, t_end=s.single_transient + s.tagged_segment,
                             transient=s.single_transient, dt=s.dt).series("V") for v in tags]
    print(f"fitting {args.k} tagged models (tags {tags} mV, {s.tagged_segment:g} s each; seeds "
          f"{args.seed}-{args.seed + args.k - 1}) on {args.backend}", file=sys.stderr)
    ens = dynamap.fit_ensemble(segs, tags, k=args.k, seed=args.seed, config=cfg, backend=args.backend,
                               address=args.address, jobs=args.jobs)
    t_fit = time.perf_counter() - t0

    grid = _heldout_grid(s)
    true_settings = dynamap.SweepSettings(t_end=s.true_t_end, transient=s.true_transient, dt=s.dt)
    truth = dynamap.sweep(hh, "V_S", list(map(float, grid)), true_settings).to_dict()
    at_tags = dynamap.sweep(hh, "V_S", tags, true_settings).to_dict()
    ens_sweep = ens.sweep("c", grid, dynamap.SweepSettings(t_end=s.model_t_end, transient=s.model_transient))
    res = dynamap.compare(truth, ens_sweep, mode="tagged", tag_points=points_at(at_tags["points"], tags))
    t_all = time.perf_counter() - t0

    e = res["ensemble"]
    print(f"ensemble of {e['k']} tagged models, {res['n_points']} held-out values "
          f"(fits {t_fit:.0f} s, all {t_all:.0f} s)")
    print(f"modal label's held-out accuracy {res['heldout_accuracy']:.3f} ({res['n_match']} of {res['n_points']}); "
          f"nearest-tag baseline {res['nearest_tag_baseline']:.3f} ({res['n_lookup_match']} of {res['n_points']})")
    print(f"mean agreement {e['mean_agreement']:.3f}; all {e['k']} agree at {e['n_unanimous']} values")
    print("agreement  values  right  accuracy")
    for row in e["by_agreement"]:
        print(f"  {row['n_agree']}/{e['k']}     {row['n_points']:6d} {row['n_match']:6d}   {row['accuracy']:.3f}")
    print(compare_summary(res), file=sys.stderr)
    if args.out:
        with staged_dir(args.out) as tmp:
            ens.save(tmp / "ensemble")
            for name, obj in (("sweep_ensemble.json", ens_sweep), ("sweep_true_heldout.json", truth),
                              ("sweep_true_tags.json", at_tags), ("scores.json", res)):
                write_json(obj, tmp / name)
        print(f"wrote {args.out}", file=sys.stderr)
    # the member seeds' single-model held-out accuracies, for comparison with the modal label's
    singles = [float(np.mean([p["match"] for p in dynamap.compare(truth, {
        "param": "c", "points": [{**p, "regime": p["member_regimes"][i],
                                  "spikes_per_burst": p["member_spikes_per_burst"][i]}
                                 for p in ens_sweep["points"]]}, mode="tagged")["points"]]))
        for i in range(ens.k)]
    print("members' own held-out accuracies: " + ", ".join(f"{a:.3f}" for a in singles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
