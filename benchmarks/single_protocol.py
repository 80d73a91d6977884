"""The single-series protocol (the paper's experiment) with any change of the settings: one fit per seed
of one series at one parameter value p0 (its tag known, so c is in the tag's units), the free-running
check at p0, and the map's sweep of c over p0 +- ``--rel`` (25 %: the natural sweep of the issue's check)
scored against the true sweep over the same range by the regime-sequence agreement of docs/metrics.md
beside its chance level (the map's own regime runs in random order; ``p`` the share of shuffles that
score as high).

    python benchmarks/single_protocol.py --seeds 0 1 2 3 4 [--fit K=V ...] [--out DIR] [--noise white:0.5]

Another built-in system:

    python benchmarks/single_protocol.py --system hindmarsh-rose --value 2.7 --segment 20000 \
        --transient 2000 --dt 0.05 --true-t-end 12000 --true-transient 2000 --model-t-end 5000 \
        --model-transient 1000

A user's recording (no built-in truth): ``--csv FILE --truth SWEEP.json`` (a sweep in the format of
``dynamap sweep``, for example ``examples/morris_lecar_burster.py --sweep``) and ``--value p0``.
One fit after the other, each with the fit's default processes (both cores).
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
from dynamap.analysis.compare import evaluate_single
from dynamap.io.outputs import write_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _settings import configured, kv  # noqa: E402
from noise_protocol import noisy_copy  # noqa: E402


def _runs(points) -> str:
    """The regime runs of a sweep, 'value:label' at each change."""
    out, prev = [], None
    for p in sorted(points, key=lambda q: q["value"]):
        lab = p["regime"] + (str(p.get("spikes_per_burst") or "") if p["regime"] == "bursting" else "")
        if lab != prev:
            out.append(f"{p['value']:.4g}:{lab}")
            prev = lab
    return " ".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--fit", type=kv, nargs="*", default=[], help="a FitConfig setting KEY=JSON (dotted: ridge.noise=...)")
    ap.add_argument("--system", default="hh-burster")
    ap.add_argument("--value", type=float, default=-40.0, help="the training value p0")
    ap.add_argument("--csv", help="a user's recording at p0 instead of a built-in system's")
    ap.add_argument("--truth", help="the true sweep over p0 +- rel (JSON of 'dynamap sweep')")
    ap.add_argument("--rel", type=float, default=0.25, help="the sweep's half-range relative to |p0|")
    ap.add_argument("--segment", type=float, default=1200.0, help="recorded time")
    ap.add_argument("--transient", type=float, default=400.0, help="dropped before the recording")
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--true-num", type=int, default=201)
    ap.add_argument("--true-t-end", type=float, default=1200.0)
    ap.add_argument("--true-transient", type=float, default=400.0)
    ap.add_argument("--num", type=int, default=101, help="values of c in the map's sweep")
    ap.add_argument("--model-t-end", type=float, default=250.0)
    ap.add_argument("--model-transient", type=float, default=50.0)
    ap.add_argument("--threshold", type=float,
                    help="spike threshold of the fit and both sweeps (default: HH -30; other systems: the "
                         "fit picks its own, the true sweep uses the system's)")
    ap.add_argument("--out", help="write each seed's model, sweep and scores here (seed-N/)")
    ap.add_argument("--noise", default="clean",
                    help="measurement noise on the fitted series, drawn per seed (noise_protocol.py's white:SD, "
                         "ou:SD:TAU); the check and the truth stay clean")
    a = ap.parse_args(argv)

    p0, half = a.value, a.rel * abs(a.value)
    lo, hi = p0 - half, p0 + half
    out = Path(a.out) if a.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    if a.csv:
        if not a.truth:
            ap.error("--csv needs --truth (the true sweep over p0 +- rel)")
        series = dynamap.read_series(a.csv)
        series = dataclasses.replace(series, param_value=p0)
        threshold = a.threshold
    else:
        system = dynamap.get_system(a.system)
        threshold = a.threshold if a.threshold is not None else (-30.0 if a.system == "hh-burster" else None)
        series = dynamap.simulate(system, {system.control: p0}, t_end=a.transient + a.segment,
                                  transient=a.transient, dt=a.dt).series(system.observable)
        series = dataclasses.replace(series, param_value=p0)
    if a.truth:
        truth = json.loads(Path(a.truth).read_text())
    else:
        t0 = time.perf_counter()
        truth = dynamap.sweep(system, system.control, np.linspace(lo, hi, a.true_num),
                              dynamap.SweepSettings(t_end=a.true_t_end, transient=a.true_transient, dt=a.dt,
                                                    spike_threshold=threshold)).to_dict()
        print(f"true sweep over [{lo:g}, {hi:g}] ({a.true_num} values) in {time.perf_counter() - t0:.0f} s")
        if out:
            write_json(truth, out / "sweep_true.json")
    print("truth:", _runs(truth["points"]))
    train_spb = None

    rows = []
    for seed in a.seeds:
        base = dynamap.FitConfig(**({"spike_threshold": threshold} if threshold is not None else {}))
        cfg = configured(base, a.fit)
        t0 = time.perf_counter()
        model = dynamap.fit([noisy_copy(series, a.noise, seed)], config=cfg, seed=seed, progress=False)
        t_fit = time.perf_counter() - t0
        chk = model.free_running_check([series])["series"][0]
        train_spb = chk["data"]["spikes_per_burst"]
        sw = dynamap.sweep(model.as_system(), "c", np.linspace(lo, hi, a.num),
                           dynamap.SweepSettings(t_end=a.model_t_end, transient=a.model_transient)).to_dict()
        ev = evaluate_single(truth, sw, training_spb=train_spb)
        row = {"seed": seed, "noise": a.noise, "fit_s": round(t_fit, 1), "encoder": model.encoder_.describe(),
               "map_family": model.config.map_family,
               "data": chk["data"]["regime"], "data_spb": train_spb, "map": chk["map"]["regime"],
               "map_spb": chk["map"]["spikes_per_burst"], "match": chk["match"],
               "w1_rel": (chk.get("isi_w1") or {}).get("value_rel"),
               "dh": (chk.get("power_hellinger") or {}).get("value"),
               "score": ev["score"], "chance": ev["chance"]["mean"], "p": ev["chance"]["p_value"],
               "precision": ev["precision"], "model_runs": _runs(sw["points"])}
        rows.append(row)
        w1 = f"{100 * row['w1_rel']:.1f} %" if row["w1_rel"] is not None else "-"
        dh = f"{row['dh']:.3f}" if row["dh"] is not None else "-"
        print(f"seed {seed}: fit {t_fit:.0f} s ({row['encoder']} x {model.config.map_family}); at p0 data {row['data']} {train_spb}, map "
              f"{row['map']} {row['map_spb']} ({'match' if row['match'] else 'NO match'}), W1 {w1}, D_H {dh}; "
              f"order along c: score {ev['score']:.2f} beside chance {ev['chance']['mean']:.2f} "
              f"(p {ev['chance']['p_value']:.3f}), precision {ev['precision']:.2f}", flush=True)
        print("   map:", row["model_runs"], flush=True)
        if out:
            (out / f"seed-{seed}").mkdir(exist_ok=True)
            model.save(out / f"seed-{seed}" / "model")
            write_json(sw, out / f"seed-{seed}" / "sweep_model.json")
            write_json({"row": row, "single": ev}, out / f"seed-{seed}" / "scores.json")
    n_sig = sum(r["p"] < 0.05 for r in rows)
    print(f"order beats chance (p < 0.05) for {n_sig} of {len(rows)} seeds; the training regime kept by "
          f"{sum(r['match'] for r in rows)} of {len(rows)}")
    if out:
        write_json({"args": vars(a), "rows": rows}, out / "summary.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
