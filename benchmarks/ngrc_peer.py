"""A peer on the demo's tagged protocol: a parameter-aware next-generation reservoir computer (NG-RC).

The best simple alternative to a learned map for "how does the system change with its parameter":
no latent space, no training loop, one ridge regression (Gauthier et al., Nat. Commun. 12, 5564
(2021); the pseudorandom projection, the parameter as an input and the training noise as Cestnik &
Martens, arXiv 2509.11338 (2025)).

Model. u = (V - mean) / std of the training series, sampled every ``step`` s; c = (V_S - mean of the
tags) / std of the tags. At each step the delay vector d = (u_t, u_{t-l_1}, ..., u_{t-l_q}) (lags in
samples) and c give the features

    f = [1, d, c, c d, tanh(W d + b)]

(W: ``features`` x (q + 1) Gaussian entries of standard deviation 1 / sqrt(q + 1), b uniform in [-1, 1],
drawn from the seed), so the model is affine in c, and the readout predicts the increment
u_{t+1} - u_t by ridge regression (penalty ``ridge`` x the mean diagonal of F^T F). During training
every series carries Gaussian input noise of standard deviation ``noise`` (in units of std V) and the
target is the clean next sample minus the noisy current one, which keeps the free run stable. The lags
are ``short`` delays at a stride of ``stride`` samples (the spike's shape) plus ``long`` lags (the recent
spike history, which carries the slow variable: without them every fit we tried spiked tonically, even
trained on the 4-spike tag -40.5 mV alone; with lags 20 and 40 that single-tag fit bursts with 4 spikes,
mean ISI 1.12 s as the data). ``--c-nonlinear`` puts c into the projection as well (tanh(W [d; c] + b)):
it fitted all four tags with seed 0, but its free runs between and beyond the tags mostly diverged.

Protocol (the demo's, :class:`dynamap.pipeline.demo.DemoSettings`): the HH burster at V_S = -42.5,
-40.5, -38, -36 mV, 1200 s each after a 400 s transient, sampled at 0.005 s and taken every
``step`` = 0.01 s (the sampling step the dynamap fit chose in the demo); the free run at each
held-out value (the demo's 49-value grid over [-44, -34]) lasts ``model_t_end`` = 250 s, the first
``model_transient`` = 50 s dropped, and starts from the last window of the nearest tag's training
series; it is labelled by :func:`dynamap.classify` at -30 mV (a run that leaves +-19 std of the data is
``failed``). The truth is dynamap's sweep of the HH system on the same grid with the demo's settings.

Hyper-parameters. Fixed: ``features`` = 800, ``ridge`` = 1e-9, ``short`` = 4 delays at ``stride`` 2,
``long`` = (20, 40) samples (0.2 and 0.4 s; chosen in an exploration of free runs at the training tags
with seed 0, never on the held-out grid). Chosen per seed on the TRAINING TAGS only: ``noise`` from
``--noise`` (default 0.002, 0.005, 0.01): the candidate whose free runs at the four tags match the most
tag labels, ties broken by the smaller mean ISI W1 / mean true ISI at the tags.

Scores (docs/metrics.md): held-out accuracy, the nearest-tag baseline on the same values, the
beyond-lookup recall, and the bursting -> tonic transition error; per seed (seed s draws the projection
and the training noise), then mean and worst.

Measured (2 shared cores, OMP_NUM_THREADS=1, 190-290 s a run; seeds 0, 1, 2; all chose noise 0.002): held-out
accuracy 0.592, 0.551, 0.612 (mean 0.585, worst 0.551) against the nearest-tag baseline 0.612 (the
lookup is wrong at 19 of the 49 values); beyond-lookup recall 0.421, 0.263, 0.474 (mean 0.386, worst
0.263); bursting -> tonic transition exact (0.00 mV) for seeds 1 and 2, undefined for seed 0 (failed
points between the last bursts and tonic spiking); 16, 9, 16 failed (diverged) free runs, all between
-42.4 and -38.4 mV. The recall comes almost only from the 2-spike range below the lowest tag, where
the lookup says 3 spikes and the peer bursts with 2 (it does so at the -42.5 mV tag itself too, where
the truth has 3); between the bursting tags the free runs diverge or turn irregular. With
``--c-nonlinear`` (same protocol): 0.204, 0.184, 0.224, recall 0 for every seed, 36-38 failed runs.

    OMP_NUM_THREADS=1 python benchmarks/ngrc_peer.py [--seeds 0 1 2] [--cache DIR] [--json FILE]

``--cache DIR`` keeps the true sweeps (held-out grid and tags) in DIR/ngrc_truth.json and reuses them
when the settings match.
"""

# no `from __future__ import annotations`: the repo test loads this file outside sys.modules, where a
# dataclass cannot resolve string annotations
import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from dynamap import SweepSettings, classify, get_system, simulate, sweep
from dynamap.analysis.compare import evaluate_tagged, point_label
from dynamap.analysis.metrics import (
    isi_wasserstein,
)
from dynamap.analysis.scores import (
    beyond_lookup_recall,
    heldout_accuracy,
    nearest_tag_baseline,
    nearest_tag_lookup,
    points_at,
)
from dynamap.pipeline.demo import FULL, _heldout_grid  # the demo's settings and its held-out grid

THRESHOLD = -30.0  # HH spike threshold (mV)
DIVERGED = 19.0  # a free run beyond +-19 std of the data counts as failed (it is clipped at 20)


@dataclasses.dataclass(frozen=True)
class NGRCConfig:
    """Settings of the peer (see the module docstring); ``noise`` is the one chosen per seed."""

    features: int = 800
    ridge: float = 1e-9
    short: int = 4
    stride: int = 2
    long: tuple = (20, 40)
    noise: float = 0.005
    c_nonlinear: bool = False

    @property
    def lags(self) -> list[int]:
        return [j * self.stride for j in range(self.short)] + [int(v) for v in self.long]


class NGRC:
    """Parameter-aware NG-RC: ``fit(series, tags)`` then ``run(histories, c, n)``; learned
    attributes end in ``_``."""

    def __init__(self, config: NGRCConfig, seed: int = 0):
        self.config = config
        self.seed = int(seed)

    def _features(self, d: np.ndarray, c: np.ndarray) -> np.ndarray:
        n = d.shape[0]
        z = np.concatenate([d, c[:, None]], axis=1) if self.config.c_nonlinear else d
        return np.concatenate([np.ones((n, 1)), d, c[:, None], c[:, None] * d,
                               np.tanh(z @ self.W_ + self.b_)], axis=1)

    def fit(self, series: list[np.ndarray], tags: list[float], chunk: int = 50_000) -> "NGRC":
        cfg = self.config
        lags = np.array(cfg.lags)
        span = int(lags.max())
        rng = np.random.default_rng(self.seed)
        allv = np.concatenate(series)
        self.mu_, self.sd_ = float(allv.mean()), float(allv.std())
        ct = np.asarray(tags, dtype=np.float64)
        self.cmu_, self.csd_ = float(ct.mean()), float(ct.std()) or 1.0
        q = lags.size
        q += int(cfg.c_nonlinear)
        self.W_ = rng.normal(0.0, 1.0 / np.sqrt(q), size=(q, cfg.features))
        self.b_ = rng.uniform(-1.0, 1.0, size=cfg.features)
        A = B = None
        for x, c in zip(series, tags):
            u = (np.asarray(x, dtype=np.float64) - self.mu_) / self.sd_
            un = u + cfg.noise * rng.standard_normal(u.size)
            idx = span + np.arange(u.size - span - 1)
            cn = (float(c) - self.cmu_) / self.csd_
            for a in range(0, idx.size, chunk):
                i = idx[a:a + chunk]
                F = self._features(un[i[:, None] - lags[None, :]], np.full(i.size, cn))
                y = u[i + 1] - un[i]
                if A is None:
                    A, B = np.zeros((F.shape[1], F.shape[1])), np.zeros(F.shape[1])
                A += F.T @ F
                B += F.T @ y
        lam = cfg.ridge * np.trace(A) / A.shape[0]
        self.w_ = np.linalg.solve(A + lam * np.eye(A.shape[0]), B)
        self.span_ = span
        return self

    def run(self, histories: np.ndarray, c: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Free runs of ``n`` steps from raw-V ``histories`` (rows, at least span + 1 samples) at
        control values ``c``; returns (V of shape (rows, n), diverged flags)."""
        lags = np.array(self.config.lags)
        span = self.span_
        h = (np.asarray(histories, dtype=np.float64)[:, -span - 1:] - self.mu_) / self.sd_
        buf = np.zeros((h.shape[0], span + 1 + n))
        buf[:, :span + 1] = h
        cn = (np.asarray(c, dtype=np.float64) - self.cmu_) / self.csd_
        for t in range(n):
            i = span + t
            nxt = buf[:, i] + self._features(buf[:, i - lags], cn) @ self.w_
            buf[:, i + 1] = np.clip(np.nan_to_num(nxt, nan=20.0), -20.0, 20.0)
        out = buf[:, span + 1:]
        return out * self.sd_ + self.mu_, np.abs(out).max(axis=1) > DIVERGED


# ------------------------------------------------------------------------------------- protocol


def _truth(values: np.ndarray, tags: tuple, cache: Path | None) -> dict:
    s = FULL
    settings = {"t_end": s.true_t_end, "transient": s.true_transient, "dt": s.dt,
                "values": [float(v) for v in values], "tags": [float(v) for v in tags]}
    path = cache / "ngrc_truth.json" if cache else None
    if path and path.exists():
        d = json.loads(path.read_text())
        if d.get("settings") == settings:
            return d
    hh = get_system("hh-burster")
    st = SweepSettings(t_end=s.true_t_end, transient=s.true_transient, dt=s.dt, lyapunov=True)
    d = {"settings": settings,
         "heldout": sweep(hh, "V_S", list(map(float, values)), st).to_dict(),
         "tags": sweep(hh, "V_S", list(map(float, tags)), st).to_dict()}
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(d))
    return d


def _training_series(tags: tuple, every: int) -> list[np.ndarray]:
    s = FULL
    hh = get_system("hh-burster")
    return [simulate(hh, {"V_S": float(p)}, t_end=s.single_transient + s.tagged_segment,
                     transient=s.single_transient, dt=s.dt).series("V").values[::every] for p in tags]


def _label(x: np.ndarray, failed: bool, step: float, value: float) -> dict:
    if failed:
        return {"value": value, "regime": "failed", "spikes_per_burst": [], "isi": [], "lyapunov_max": None}
    info = classify(x, step, THRESHOLD).to_dict()
    return {"value": value, "regime": info["regime"], "spikes_per_burst": info["spikes_per_burst"],
            "isi": info["isi"], "lyapunov_max": None}


def _free_points(model: NGRC, series: list[np.ndarray], tags: tuple, values: np.ndarray,
                 step: float) -> list[dict]:
    tags_a = np.asarray(tags)
    near = np.argmin(np.abs(values[:, None] - tags_a[None, :]), axis=1)
    hist = np.stack([series[k][-(model.span_ + 1):] for k in near])
    n, skip = int(round(FULL.model_t_end / step)), int(round(FULL.model_transient / step))
    x, bad = model.run(hist, values, n)
    return [_label(x[i, skip:], bool(bad[i]), step, float(v)) for i, v in enumerate(values)]


def _tag_score(points: list[dict], true_tags: list[dict]) -> tuple[int, float]:
    hits = sum(heldout_accuracy([t], [p]) == 1.0 for t, p in zip(true_tags, points))
    w = []
    for t, p in zip(true_tags, points):
        it, ip = np.asarray(t.get("isi") or []), np.asarray(p.get("isi") or [])
        w.append(isi_wasserstein(ip, it) / it.mean() if it.size and ip.size else 1.0)
    return int(hits), float(np.mean(w))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--noise", type=float, nargs="+", default=[0.002, 0.005, 0.01],
                    help="training-noise candidates (std of V units), chosen on the tags")
    ap.add_argument("--step", type=float, default=0.01, help="sampling step of the NG-RC (s)")
    ap.add_argument("--c-nonlinear", action="store_true")
    ap.add_argument("--cache", type=Path, default=None, help="folder for the true sweeps")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    args = ap.parse_args()

    t_start = time.perf_counter()
    s = FULL
    tags = tuple(float(v) for v in s.tagged_values)
    grid = _heldout_grid(s)
    every = int(round(args.step / s.dt))
    step = every * s.dt
    truth = _truth(grid, tags, args.cache)
    true_held = truth["heldout"]["points"]
    true_tags = points_at(truth["tags"]["points"], tags)
    lookup = nearest_tag_lookup([p["value"] for p in true_held], true_tags)
    base = nearest_tag_baseline(true_held, true_tags)
    series = _training_series(tags, every)
    print(f"truth and data ready in {time.perf_counter() - t_start:.0f} s; {len(grid)} held-out values, "
          f"tags {tags}; step {step:g} s; nearest-tag baseline {base:.3f}", flush=True)
    print("tag truth: " + ", ".join(f"{t:g}: {point_label(p)}" for t, p in zip(tags, true_tags)))

    rows = []
    for seed in args.seeds:
        cands = []
        for noise in args.noise:
            cfg = NGRCConfig(noise=noise, c_nonlinear=args.c_nonlinear)
            model = NGRC(cfg, seed=seed).fit(series, list(tags))
            pts = _free_points(model, series, tags, np.asarray(tags), step)
            hits, w1 = _tag_score(pts, true_tags)
            cands.append((-hits, w1, noise, model, pts))
            print(f"  seed {seed} noise {noise:g}: tags matched {hits}/{len(tags)}, ISI W1 rel {w1:.3f} "
                  f"[{', '.join(str(point_label(p)) for p in pts)}]", flush=True)
        cands.sort(key=lambda r: (r[0], r[1]))
        neg_hits, w1, noise, model, _ = cands[0]
        pts = _free_points(model, series, tags, grid, step)
        sweep_peer = {"param": "V_S", "points": pts}
        ev = evaluate_tagged(truth["heldout"], sweep_peer)
        rec = beyond_lookup_recall(true_held, pts, lookup)
        rows.append({"seed": seed, "noise": noise, "tags_matched": -neg_hits,
                     "heldout_accuracy": ev["heldout_accuracy"],
                     "nearest_tag_baseline": base, "beyond_lookup_recall": rec,
                     "n_lookup_wrong": sum(heldout_accuracy([t], [p]) < 1 for t, p in zip(true_held, lookup)),
                     "transition": ev["transition"], "n_failed": ev["n_failed"], "points": ev["points"]})

    def fmt(v, spec=".3f"):
        return "-" if v is None else format(v, spec)

    print()
    print("seed  noise   tags  held-out  lookup  beyond-lookup  transition err (mV)  failed")
    for r in rows:
        print(f"{r['seed']:>4}  {r['noise']:<6g}  {r['tags_matched']}/{len(tags)}   "
              f"{r['heldout_accuracy']:.3f}"
              f"     {r['nearest_tag_baseline']:.3f}   {fmt(r['beyond_lookup_recall']):>13}  "
              f"{fmt(r['transition']['abs_error'], '.2f'):>19}  {r['n_failed']:>6}")
    acc = [r["heldout_accuracy"] for r in rows]
    rec = [r["beyond_lookup_recall"] for r in rows if r["beyond_lookup_recall"] is not None]
    terr = [r["transition"]["abs_error"] for r in rows if r["transition"]["abs_error"] is not None]
    tn = f" ({len(terr)} of {len(rows)})" if len(terr) < len(rows) else ""
    print(f"mean        {'':4}   {np.mean(acc):.3f}     {base:.3f}   "
          f"{fmt(np.mean(rec) if rec else None):>13}  "
          f"{fmt(float(np.mean(terr)) if terr else None, '.2f'):>19}{tn}")
    print(f"worst       {'':4}   {min(acc):.3f}     {base:.3f}   {fmt(min(rec) if rec else None):>13}  "
          f"{fmt(float(max(terr)) if len(terr) == len(rows) else None, '.2f'):>19}")
    print(f"(lookup wrong at {rows[0]['n_lookup_wrong']} of {len(grid)} values; true bursting -> tonic at "
          f"{fmt(rows[0]['transition']['true'], '.2f')} mV; total {time.perf_counter() - t_start:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"config": dataclasses.asdict(NGRCConfig()), "step": step,
                                         "tags": tags, "heldout_values": [float(v) for v in grid],
                                         "rows": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
