"""Where between its tags a tagged HH model goes wrong: latent space, local accuracy or control pathway
(:mod:`dynamap.analysis.heldout`), at each held-out value beside the regime the model's sweep gives
there and the true one.

    python benchmarks/knob_diagnostic.py MODEL_DIR [MODEL_DIR ...] [--sweep SWEEP.json ...] [--truth SWEEP.json]
        [--step 0.5] [--record 400]

MODEL_DIR: a tagged bundle of the HH burster's V (e.g. a demo's ``model_tagged``, or an ensemble's
``member-i``). The true recordings are simulated at the tags and on a grid of ``--step`` mV over
[-44, -34] (``--record`` s each after the demo's transient). With ``--sweep`` (one per model) and
``--truth`` (the demo's ``sweep_true.json`` or an ensemble benchmark's ``sweep_true_heldout.json``)
each row also says whether the model's regime there was right; the summary compares the errors of
the right and the wrong values.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

import dynamap
from dynamap.analysis.compare import point_label
from dynamap.analysis.heldout import heldout_report
from dynamap.pipeline.demo import FULL


def _labels(path, member: int | None = None) -> dict:
    pts = json.load(open(path))["points"]
    out = {}
    for p in pts:
        if member is not None and "member_regimes" in p:
            p = {**p, "regime": p["member_regimes"][member], "spikes_per_burst": p["member_spikes_per_burst"][member]}
        out[round(float(p["value"]), 6)] = point_label(p)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--sweep", nargs="*", default=[], help="each model's sweep over the held-out values")
    ap.add_argument("--member", type=int, nargs="*", default=[],
                    help="with an ensemble sweep: the member each model is (one per model)")
    ap.add_argument("--truth", help="the true sweep at those values")
    ap.add_argument("--step", type=float, default=0.5)
    ap.add_argument("--record", type=float, default=400.0)
    args = ap.parse_args(argv)

    hh = dynamap.get_system("hh-burster")
    tr = FULL.single_transient

    def rec(v):
        return dynamap.simulate(hh, {"V_S": v}, t_end=tr + args.record, transient=tr, dt=FULL.dt).series("V")

    grid = [round(float(v), 6) for v in np.arange(-44.0, -34.0 + 1e-9, args.step)]
    truth = _labels(args.truth) if args.truth else {}
    summary = []
    for i, mdir in enumerate(args.models):
        model = dynamap.load_model(mdir)
        tags = [float(t) for t in model.param_values_]
        tag_rec = {t: rec(t) for t in tags}
        recs = {v: rec(v) for v in grid if all(abs(v - t) > 1e-6 for t in tags)}
        recs.update(tag_rec)
        res = heldout_report(model, recs, tag_rec)
        lab = _labels(args.sweep[i], args.member[i] if args.member else None) if i < len(args.sweep) else {}
        print(f"\n{mdir}  (tags {tags}, D_r {model.state_dim_})")
        print("   V_S  tag?  recon  between  err1   err16  gain1 gain16  model / true")
        for p in res["points"]:
            v = round(p["value"], 6)
            is_tag = any(abs(v - t) < 1e-6 for t in tags)
            ok = None
            if v in lab and v in truth:
                ok = lab[v] == truth[v]
            btw = p.get("between", float("nan"))
            print(f"{v:7.2f}  {'tag' if is_tag else '   '}  {p['recon_rel']:.3f}  {btw:7.2f}  {p['err'][1]:.3f}"
                  f"  {p['err'][16]:.3f}  {p['c_gain'][1]:.3f} {p['c_gain'][16]:.3f}  "
                  f"{lab.get(v, '?')} / {truth.get(v, '?')}{'' if ok is None else (' ok' if ok else ' WRONG')}")
            if not is_tag:
                summary.append({"model": i, "ok": ok, "recon_rel": p["recon_rel"], "between": btw, "err1": p["err"][1], "err16": p["err"][16],
                                "gain1": p["c_gain"][1], "gain16": p["c_gain"][16]})
        at_tags = [p for p in res["points"] if any(abs(p["value"] - t) < 1e-6 for t in tags)]
        e1, e16 = np.mean([p["err"][1] for p in at_tags]), np.mean([p["err"][16] for p in at_tags])
        print(f"at the tags: err1 {e1:.3f}, err16 {e16:.3f} (mean)")
    if summary:
        print("\nheld-out values, mean (all models):")
        for name, sel in (("all", summary), ("right", [r for r in summary if r["ok"] is True]),
                          ("wrong", [r for r in summary if r["ok"] is False])):
            if sel:
                print(f"  {name:5s} n={len(sel):3d}  " + "  ".join(
                    f"{k} {np.nanmean([r[k] for r in sel]):.3f}"
                    for k in ("recon_rel", "between", "err1", "err16", "gain1", "gain16")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
