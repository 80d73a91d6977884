"""Single-series fits on noisy recordings of a built-in burster, scored against the clean system: the
measurement-noise protocol of docs/experiments.md ("Measurement noise").

For each noise condition, control value and seed: the system is recorded (``--t-end`` after
``--transient``, step ``--dt``), noise is added (its own stream per seed), the default fit (or the one
``--fit`` sets) is made on the noisy series, and its free run at the training value is checked against
the *clean* recording (docs/metrics.md: regime, spikes per burst, ISI W1 relative to the clean mean
ISI, D_H), the clean halves giving the floor. A row passes when the map keeps the clean regime and
spike count and its ISI W1 is at most ``--w1-max`` of the clean mean ISI.

    python benchmarks/noise_protocol.py --noise white:0.5 white:2 ou:1:0.05 --values -40 -42 --seeds 0 1 2 \
        [--fit K=V ...] [--system hh-burster --observable V --param V_S]

Noise: ``white:SD`` (Gaussian, SD in the observable's units), ``ou:SD:TAU`` (Ornstein-Uhlenbeck with
stationary SD and correlation time TAU in the system's time units), ``clean``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np

import dynamap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _settings import configured, kv  # noqa: E402


def noise(spec: str, n: int, dt: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of the noise ``spec`` (``white:SD``, ``ou:SD:TAU``, ``clean``) at step ``dt``."""
    kind, *p = spec.split(":")
    if kind == "clean":
        return np.zeros(n)
    if kind == "white":
        return float(p[0]) * rng.standard_normal(n)
    if kind == "ou":
        sd, tau = float(p[0]), float(p[1])
        a = np.exp(-dt / tau)
        xi = sd * np.sqrt(1 - a * a) * rng.standard_normal(n)
        out = np.empty(n)
        out[0] = sd * rng.standard_normal()
        for i in range(1, n):
            out[i] = a * out[i - 1] + xi[i]
        return out
    raise SystemExit(f"unknown noise {spec!r}: white:SD, ou:SD:TAU or clean")


def noisy_copy(series: dynamap.Series, spec: str, seed: int, k: int = 0) -> dynamap.Series:
    """``series`` with the noise ``spec`` added, drawn from the stream of (``seed``, ``spec``, ``k``)."""
    if spec == "clean":
        return series
    x = np.asarray(series.values, dtype=np.float64)
    rng = np.random.default_rng([1000 + seed, zlib.crc32(spec.encode())] + ([k] if k else []))
    return dynamap.Series(x + noise(spec, x.size, float(series.dt), rng), series.dt, name=series.name,
                          param_value=series.param_value)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", nargs="+", default=["white:0.5", "white:2", "ou:1:0.05"])
    ap.add_argument("--values", type=float, nargs="+", default=[-40.0, -42.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--fit", type=kv, nargs="*", default=[], help="a FitConfig setting KEY=JSON (dotted)")
    ap.add_argument("--system", default="hh-burster")
    ap.add_argument("--t-end", type=float, default=1200.0, help="recorded time")
    ap.add_argument("--transient", type=float, default=400.0)
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--threshold", type=float, help="spike threshold (default: the system's; HH: -30)")
    ap.add_argument("--w1-max", type=float, default=0.10)
    ap.add_argument("--out", help="append each row here as a JSON line")
    args = ap.parse_args(argv)

    system = dynamap.get_system(args.system)
    param, obs = system.control, system.observable
    th = args.threshold if args.threshold is not None else (-30.0 if args.system == "hh-burster"
                                                             else system.spike_threshold)
    cfg = configured(dynamap.FitConfig(spike_threshold=th), args.fit)
    print(f"{args.system}: settings changed: {dict(args.fit) or 'none'}; noise {args.noise}; "
          f"values {args.values}; seeds {args.seeds}", flush=True)
    rows = []
    for v in args.values:
        clean = dynamap.simulate(system, {param: v}, t_end=args.transient + args.t_end,
                                 transient=args.transient, dt=args.dt).series(obs, param_value=v)
        for spec in args.noise:
            for seed in args.seeds:
                noisy = noisy_copy(clean, spec, seed)
                t0 = time.perf_counter()
                m = dynamap.DynamapModel(cfg, seed=seed).fit(noisy, progress=False)
                fit_s = time.perf_counter() - t0
                e = m.free_running_check([clean])["series"][0]
                w1 = (e.get("isi_w1") or {}).get("value_rel")
                dh = (e.get("power_hellinger") or {}).get("value")
                ok = (e["data"]["regime"] == e["map"]["regime"]
                      and list(e["data"]["spikes_per_burst"] or []) == list(e["map"]["spikes_per_burst"] or [])
                      and w1 is not None and w1 <= args.w1_max)
                row = {"noise": spec, "value": v, "seed": seed, "fit_s": round(fit_s, 1),
                       "noise_est": m.history_["noise"].get("sd"),
                       "data": [e["data"]["regime"], e["data"]["spikes_per_burst"]],
                       "map": [e["map"]["regime"], e["map"]["spikes_per_burst"]],
                       "isi_w1_rel": w1, "d_h": dh, "isi_mean_ratio": e.get("isi_mean_ratio"), "pass": bool(ok)}
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    with open(args.out, "a") as f:
                        f.write(json.dumps({**row, "fit": dict(args.fit)}) + "\n")
    print(f"passed {sum(r['pass'] for r in rows)} of {len(rows)}")
    for spec in args.noise:
        for v in args.values:
            rs = [r for r in rows if r["noise"] == spec and r["value"] == v]
            w = [r["isi_w1_rel"] if r["isi_w1_rel"] is not None else np.inf for r in rs]
            print(f"{spec:>12} {v:g}: pass {sum(r['pass'] for r in rs)}/{len(rs)}, W1 mean {np.mean(w):.3f} "
                  f"worst {np.max(w):.3f}; maps {[r['map'] for r in rs]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
