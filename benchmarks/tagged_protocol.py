"""The demo's tagged protocol alone, with any change of the map settings: one tagged fit per seed on the
demo's tags, its sweep over the demo's held-out values, and the scores of docs/metrics.md beside the
nearest-tag lookup (held-out accuracy, beyond-lookup recall, transition, sign agreement), the
slow-direction ratios at the tags and the held-out one-step errors (:mod:`dynamap.analysis.heldout`).

    python benchmarks/tagged_protocol.py --seeds 0 1 2 [--fit K=V ...] [--truth DIR] [--out DIR]

Another built-in system (the same scores beside the same lookup):

    python benchmarks/tagged_protocol.py --system hindmarsh-rose --tags 1.6 2.2 2.8 3.1 --grid 1.4 3.4 41 \
        --segment 20000 --transient 2000 --dt 0.05 --true-t-end 12000 --true-transient 2000 \
        --model-t-end 5000 --model-transient 1000

(``--grid FROM TO NUM``: the held-out values, the tags left out; times in the system's units; the
spike threshold is the system's unless ``--threshold``.)

``--fit K=V``: a ``FitConfig`` setting by its dotted name, V in JSON (for example
``--fit encoder='"delay"'``); ``--truth DIR``: reuse the true sweeps written by an
earlier run's ``--out`` (``sweep_true_heldout.json``, ``sweep_true_tags.json``; ``benchmarks/ensemble_demo.py
--out`` writes the same files) instead of sweeping the system again. One fit after the other, each
with the fit's default processes (both cores); a fit takes 2-3 minutes on 2 cores (the delay map, the
tagged default; ``--fit encoder='"vae"' --fit map_family='"mlp"'``: 10-15 minutes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import dynamap
from dynamap.analysis.compare import compare_summary
from dynamap.analysis.heldout import heldout_report
from dynamap.analysis.scores import points_at
from dynamap.analysis.tag_spectra import spectra_at_tags
from dynamap.io.outputs import write_json
from dynamap.pipeline.demo import DEMO_RESTARTS, FULL, _heldout_grid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _settings import configured, kv  # noqa: E402
from noise_protocol import noisy_copy  # noqa: E402

#: spacing (mV) of the held-out recordings of the one-step error check
ERR_STEP = 0.5


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--fit", type=kv, nargs="*", default=[], help="a FitConfig setting KEY=JSON (dotted: ridge.noise=...)")
    ap.add_argument("--truth", help="a folder with sweep_true_heldout.json and sweep_true_tags.json")
    ap.add_argument("--no-spectra", action="store_true", help="skip the spectra at the tags")
    ap.add_argument("--out", help="write each seed's model, sweep and scores here (seed-N/)")
    s = FULL
    ap.add_argument("--system", default="hh-burster")
    ap.add_argument("--tags", type=float, nargs="+", default=[float(v) for v in s.tagged_values])
    ap.add_argument("--grid", type=float, nargs=3, metavar=("FROM", "TO", "NUM"),
                    help="held-out values (default: the demo's)")
    ap.add_argument("--segment", type=float, default=s.tagged_segment, help="recorded time per tag")
    ap.add_argument("--transient", type=float, default=s.single_transient, help="dropped before each recording")
    ap.add_argument("--dt", type=float, default=s.dt)
    ap.add_argument("--true-t-end", type=float, default=s.true_t_end)
    ap.add_argument("--true-transient", type=float, default=s.true_transient)
    ap.add_argument("--model-t-end", type=float, default=s.model_t_end)
    ap.add_argument("--model-transient", type=float, default=s.model_transient)
    ap.add_argument("--threshold", type=float, help="spike threshold (default: the system's; HH: the demo's -30)")
    ap.add_argument("--noise", default="clean", help="measurement noise on every training segment, drawn per "
                    "seed (noise_protocol.py's white:SD, ou:SD:TAU); the truth stays clean")
    args = ap.parse_args(argv)

    system = dynamap.get_system(args.system)
    param, obs = system.control, system.observable
    threshold = args.threshold if args.threshold is not None else (
        -30.0 if args.system == "hh-burster" else system.spike_threshold)
    base = dynamap.FitConfig(spike_threshold=threshold, restarts=DEMO_RESTARTS)
    cfg = configured(base, args.fit)
    tags = list(args.tags)
    if args.grid is None:
        grid = [float(v) for v in _heldout_grid(s)]
    else:
        grid = [round(float(v), 9) for v in np.linspace(args.grid[0], args.grid[1], int(args.grid[2]))
                if min(abs(v - t) for t in tags) > 1e-9 * (1 + abs(v))]
    true_settings = dynamap.SweepSettings(t_end=args.true_t_end, transient=args.true_transient, dt=args.dt)
    if args.truth:
        truth = json.load(open(Path(args.truth) / "sweep_true_heldout.json"))
        at_tags = json.load(open(Path(args.truth) / "sweep_true_tags.json"))
    else:
        truth = dynamap.sweep(system, param, grid, true_settings).to_dict()
        at_tags = dynamap.sweep(system, param, tags, true_settings).to_dict()
        if args.out:  # for --truth in later runs
            Path(args.out).mkdir(parents=True, exist_ok=True)
            write_json(truth, Path(args.out) / "sweep_true_heldout.json")
            write_json(at_tags, Path(args.out) / "sweep_true_tags.json")

    def rec(v: float, length: float):
        return dynamap.simulate(system, {param: v}, t_end=args.transient + length,
                                transient=args.transient, dt=args.dt).series(obs)

    segs = [rec(v, args.segment) for v in tags]
    lo, hi = min(grid), max(grid)
    if args.grid is None:  # the demo's: every ERR_STEP mV of [-44, -34]
        err_values = [round(float(v), 6) for v in np.arange(lo, hi + 1e-9, ERR_STEP)]
    else:
        err_values = [round(float(v), 9) for v in np.linspace(lo, hi, 21)]
    err_recs = {v: rec(v, args.segment / 3) for v in err_values if min(abs(v - t) for t in tags) > 1e-9}
    print(f"{args.system}: settings changed: "
          f"{dict(args.fit) or 'none'}; noise {args.noise}; tags {tags}; {len(grid)} held-out values; seeds {args.seeds}",
          flush=True)
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        train = [noisy_copy(s, args.noise, seed, k) for k, s in enumerate(segs)]
        model = dynamap.DynamapModel(cfg, seed=seed).fit(train, param_values=tags, progress=False)
        t_fit = time.perf_counter() - t0
        sw = dynamap.sweep(model.as_system(), "c", grid,
                           dynamap.SweepSettings(t_end=args.model_t_end, transient=args.model_transient)).to_dict()
        res = dynamap.compare(truth, sw, mode="tagged", tag_points=points_at(at_tags["points"], tags))
        held = heldout_report(model, err_recs, dict(zip(tags, segs)))
        e1 = float(np.mean([p["err"][1] for p in held["points"]]))
        g1 = float(np.mean([p["c_gain"][1] for p in held["points"]]))
        if args.out:  # the model and its sweep before the slow spectra
            d = Path(args.out) / f"seed-{seed}"
            model.save(d / "model")
            write_json(sw, d / "sweep.json")
        # a tag where the map's spectrum cannot be computed has slow_ratio None and its "error"
        spectra = None if args.no_spectra else spectra_at_tags(
            system, param, model.as_system(), tags, t_end=args.true_t_end, transient=args.true_transient)
        row = {"seed": seed, "fit_s": t_fit, "latent_dim": int(model.state_dim_),
               "selected_score": float(model.history_["map"]["selected_score"]),
               "heldout_accuracy": res["heldout_accuracy"], "n_match": res["n_match"],
               "n_points": res["n_points"], "nearest_tag_baseline": res["nearest_tag_baseline"],
               "beyond_lookup_recall": res.get("beyond_lookup_recall"),
               "transition_error": res["transition"]["abs_error"],
               "sign_agreement": res.get("lyapunov_sign_agreement"),
               "periodic_near_zero": (res.get("lyapunov_periodic") or {}).get("share"),
               "flow_sign_agreement": res.get("lyapunov_flow_sign_agreement"),
               "flow_periodic_near_zero": (res.get("lyapunov_flow_periodic") or {}).get("share"),
               "heldout_err1": e1, "heldout_c_gain1": g1,
               "slow_ratios": None if spectra is None else [p["slow_ratio"] for p in spectra["points"]],
               "flow_slow_ratios": None if spectra is None else [p.get("flow_slow_ratio") for p in spectra["points"]]}
        rows.append(row)
        print(json.dumps(row), flush=True)
        print(compare_summary(res), file=sys.stderr, flush=True)
        if args.out:
            write_json({"compare": res, "heldout_errors": held, "spectra_at_tags": spectra, "row": row},
                       d / "scores.json")
    keys = ("heldout_accuracy", "nearest_tag_baseline", "beyond_lookup_recall", "sign_agreement",
            "flow_sign_agreement", "flow_periodic_near_zero", "heldout_err1", "fit_s")
    print("mean  " + "  ".join(f"{k} {np.mean([r[k] for r in rows if r[k] is not None]):.3f}" for k in keys))
    worst_acc = min(r["heldout_accuracy"] for r in rows)
    worst_rec = min((r["beyond_lookup_recall"] for r in rows if r["beyond_lookup_recall"] is not None), default=None)
    print(f"worst heldout_accuracy {worst_acc:.3f}, recall {worst_rec}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
