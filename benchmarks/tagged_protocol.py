"""The demo's tagged protocol alone, with any change of the map settings: one tagged fit per seed on the
demo's tags, its sweep over the demo's held-out values, and the scores of docs/metrics.md beside the
nearest-tag lookup (held-out accuracy, beyond-lookup recall, transition, sign agreement), the
slow-direction ratios at the tags and the held-out one-step errors (:mod:`dynamap.analysis.heldout`).

    python benchmarks/tagged_protocol.py --seeds 0 1 2 [--map K=V ...] [--fit K=V ...] [--truth DIR] [--out DIR]

``--map K=V``: a ``MapConfig`` field (V in JSON); ``--fit K=V``: a ``FitConfig`` field (for example
``--fit state='"delay"'``); ``--truth DIR``: reuse the true sweeps written by an
earlier run (``sweep_true_heldout.json``, ``sweep_true_tags.json``; ``benchmarks/ensemble_demo.py
--out`` writes the same files) instead of sweeping the system again. One fit after the other, each
with the fit's default processes (both cores); a fit takes 10-15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
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

#: spacing (mV) of the held-out recordings of the one-step error check
ERR_STEP = 0.5


def _kv(text: str) -> tuple[str, object]:
    k, _, v = text.partition("=")
    v = json.loads(v)
    return k, tuple(v) if isinstance(v, list) else v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--map", type=_kv, nargs="*", default=[], help="MapConfig field=JSON value")
    ap.add_argument("--fit", type=_kv, nargs="*", default=[], help="FitConfig field=JSON value")
    ap.add_argument("--truth", help="a folder with sweep_true_heldout.json and sweep_true_tags.json")
    ap.add_argument("--no-spectra", action="store_true", help="skip the spectra at the tags")
    ap.add_argument("--out", help="write each seed's model, sweep and scores here (seed-N/)")
    args = ap.parse_args(argv)

    s = FULL
    base = dynamap.FitConfig(spike_threshold=-30.0, restarts=DEMO_RESTARTS)
    cfg = dataclasses.replace(base, map=dataclasses.replace(base.map, **dict(args.map)), **dict(args.fit))
    hh = dynamap.get_system("hh-burster")
    tags = [float(v) for v in s.tagged_values]
    grid = [float(v) for v in _heldout_grid(s)]
    true_settings = dynamap.SweepSettings(t_end=s.true_t_end, transient=s.true_transient, dt=s.dt)
    if args.truth:
        truth = json.load(open(Path(args.truth) / "sweep_true_heldout.json"))
        at_tags = json.load(open(Path(args.truth) / "sweep_true_tags.json"))
    else:
        truth = dynamap.sweep(hh, "V_S", grid, true_settings).to_dict()
        at_tags = dynamap.sweep(hh, "V_S", tags, true_settings).to_dict()

    def rec(v: float, seconds: float):
        return dynamap.simulate(hh, {"V_S": v}, t_end=s.single_transient + seconds,
                                transient=s.single_transient, dt=s.dt).series("V")

    segs = [rec(v, s.tagged_segment) for v in tags]
    err_values = [round(float(v), 6) for v in np.arange(-44.0, -34.0 + 1e-9, ERR_STEP)]
    err_recs = {v: rec(v, 400.0) for v in err_values if min(abs(v - t) for t in tags) > 1e-6}
    print(f"map settings changed: {dict(args.map) or 'none'}; fit settings changed: {dict(args.fit) or 'none'}; tags {tags}; seeds {args.seeds}", flush=True)
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        model = dynamap.DynamapModel(cfg, seed=seed).fit(segs, param_values=tags, progress=False)
        t_fit = time.perf_counter() - t0
        sw = dynamap.sweep(model.as_system(), "c", grid,
                           dynamap.SweepSettings(t_end=s.model_t_end, transient=s.model_transient)).to_dict()
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
            hh, "V_S", model.as_system(), tags, t_end=s.true_t_end, transient=s.true_transient)
        row = {"seed": seed, "fit_s": t_fit, "latent_dim": int(model.latent_dim_),
               "selected_score": float(model.history_["map"]["selected_score"]),
               "heldout_accuracy": res["heldout_accuracy"], "n_match": res["n_match"],
               "n_points": res["n_points"], "nearest_tag_baseline": res["nearest_tag_baseline"],
               "beyond_lookup_recall": res.get("beyond_lookup_recall"),
               "transition_error": res["transition"]["abs_error"],
               "sign_agreement": res.get("lyapunov_sign_agreement"),
               "heldout_err1": e1, "heldout_c_gain1": g1,
               "slow_ratios": None if spectra is None else [p["slow_ratio"] for p in spectra["points"]]}
        rows.append(row)
        print(json.dumps(row), flush=True)
        print(compare_summary(res), file=sys.stderr, flush=True)
        if args.out:
            write_json({"compare": res, "heldout_errors": held, "spectra_at_tags": spectra, "row": row},
                       d / "scores.json")
    keys = ("heldout_accuracy", "nearest_tag_baseline", "beyond_lookup_recall", "heldout_err1", "fit_s")
    print("mean  " + "  ".join(f"{k} {np.mean([r[k] for r in rows if r[k] is not None]):.3f}" for k in keys))
    worst_acc = min(r["heldout_accuracy"] for r in rows)
    worst_rec = min((r["beyond_lookup_recall"] for r in rows if r["beyond_lookup_recall"] is not None), default=None)
    print(f"worst heldout_accuracy {worst_acc:.3f}, recall {worst_rec}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
