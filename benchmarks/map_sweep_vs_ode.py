"""A learned map's parameter sweep vs the ODE it imitates, measured side by side in one run.

Three ways to get a 200-point regime diagram over the same physical time per point:

* the learned map (dynamap.sweep of model.as_system(), all c values iterated as ONE batch,
  ``--steps`` recorded steps (default 20 000) after ``--transient-steps``, decoded to V, spikes counted
  and classified; the Lyapunov exponent is off for all three). By default the batch is split over one
  part per core (threads for a delay map's compiled loop, forked processes otherwise); it is timed again with one
  process (the step loop on one thread, one more thread decoding finished blocks of states meanwhile),
  and the two sweeps must be equal;
* scipy ``solve_ivp`` LSODA with a Python right-hand side, rtol = atol = 1e-8, over the same physical time
  (map steps x the map's dt, transient included), output every 0.005 s and classified the same way.
  LSODA is timed on ``--lsoda-points`` values only and EXTRAPOLATED linearly to all points (it is a
  per-point loop; printed as such);
* the project's own ODE sweep (dynamap.sweep of the HH system, all points, default n_jobs = all cores) over the same
  physical time.

Without ``--model`` a quick model is fitted first (default network sizes, few training steps: its
quality does not matter for the timing, the cost of one map step does).

    python benchmarks/map_sweep_vs_ode.py [--model DIR] [--num 200] [--steps 20000] [--repeats 3]

The map's and the ODE's sweeps are timed ``--repeats`` times side by side (each after a garbage
collection) and compared by their medians.

Targets: map >= 100x faster than LSODA, and >= 2x faster than the ODE sweep.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scipy.integrate import solve_ivp  # noqa: E402
from sweep_vs_scipy import rhs  # noqa: E402  (the Python HH right-hand side)

import dynamap  # noqa: E402
from dynamap.analysis.regimes import classify  # noqa: E402
from dynamap.analysis.sweep import SweepSettings, sweep  # noqa: E402
from dynamap.models import _orbits  # noqa: E402
from dynamap.models._orbits import sweep_processes  # noqa: E402

HH = dynamap.get_system("hh-burster")
DT_ODE = 0.005


def quick_model():
    from dynamap.pipeline.config import FitConfig
    from dynamap.pipeline.estimator import DynamapModel
    from dynamap.training.config import MLPConfig, SelectionConfig, VAEConfig

    v = dynamap.simulate(HH, {"V_S": -40.0}, t_end=400.0, transient=200.0, dt=DT_ODE).series("V")
    cfg = FitConfig(spike_threshold=-30.0, restarts=0, encoder="vae", map_family="mlp",
                    vae=VAEConfig(latent_min=3, latent_max=3, steps_per_dim=100, refine_steps=20,
                                  eval_windows=256),
                    mlp=MLPConfig(horizons=(1, 4, 16), stage_steps=(100, 20, 20), select_every=50, candidates=1),
                    selection=SelectionConfig(select_starts=2, select_steps=300, select_transient=50,
                                              final_steps=600, final_transient=100))
    return DynamapModel(cfg, seed=0).fit([v], progress=False)


def timed(fn):
    """(fn(), seconds), timed after a garbage collection."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def lsoda_point(vs, t_end, transient):
    p = tuple(HH.param_vector({"V_S": float(vs)}))
    t_eval = transient + DT_ODE * np.arange(int(round((t_end - transient) / DT_ODE)) + 1)
    sol = solve_ivp(rhs, (0.0, t_end), list(HH.initial_state), method="LSODA", t_eval=t_eval,
                    rtol=1e-8, atol=1e-8, args=(p,))
    return classify(sol.y[0], DT_ODE, -30.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a model bundle folder (default: fit a quick one)")
    ap.add_argument("--num", type=int, default=200)
    ap.add_argument("--steps", type=int, default=20_000, help="recorded map steps per value")
    ap.add_argument("--transient-steps", type=int, default=5_000)
    ap.add_argument("--lsoda-points", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="timings of the map and the ODE sweep, side by side")
    a = ap.parse_args()

    t0 = time.perf_counter()
    model = dynamap.load_model(a.model) if a.model else quick_model()
    prep_s = time.perf_counter() - t0
    dt = float(model.dt_)
    t_rec, t_tr = a.steps * dt, a.transient_steps * dt
    t_end = t_rec + t_tr
    c0 = float(model.param_values_[0])
    span = 2.0 * max(abs(c0), 1.0)
    c_values = np.linspace(c0 - span, c0 + span, a.num)
    vs_values = np.linspace(-44.0, -34.0, a.num)
    print(f"model: D_r={model.state_dim_}, dt={dt:g} s ({'loaded' if a.model else 'quick fit'}, {prep_s:.1f} s); "
          f"{a.num} values x ({a.transient_steps} + {a.steps}) steps = {t_tr:g} + {t_rec:g} s each")

    learned = model.as_system()
    map_settings = SweepSettings(t_end=t_end, transient=t_tr, lyapunov=False)
    settings = SweepSettings(t_end=t_end, transient=t_tr, dt=DT_ODE, lyapunov=False)
    sweep(learned, "c", c_values[:2], map_settings)  # warm-up
    sweep(HH, "V_S", vs_values[:1], settings)  # compile outside the timing
    map_runs, ode_runs = [], []
    for _ in range(a.repeats):  # side by side, each after a garbage collection (as timeit, a full
        # collection inside a timing costs 0.1 s in a process with torch loaded)
        map_run, map_t = timed(lambda: sweep(learned, "c", c_values, map_settings).to_dict())
        ode_run, ode_t = timed(lambda: sweep(HH, "V_S", vs_values, settings))
        map_runs.append(map_t)
        ode_runs.append(ode_t)
    sw, ours = map_run, ode_run
    map_s, ode_s = float(np.median(map_runs)), float(np.median(ode_runs))
    one, one_s = timed(lambda: sweep(learned, "c", c_values, map_settings, n_jobs=1).to_dict())
    assert one == sw, "the split sweep must equal the one-process sweep"


    idx = np.linspace(0, a.num - 1, a.lsoda_points).round().astype(int)
    t0 = time.perf_counter()
    for i in idx:
        lsoda_point(vs_values[i], t_end, t_tr)
    lsoda_per = (time.perf_counter() - t0) / len(idx)
    lsoda_s = lsoda_per * a.num

    regs = {}
    for p in sw["points"]:
        regs[p["regime"]] = regs.get(p["regime"], 0) + 1
    print(f"map regimes over c: {regs}; ODE sweep points ok: "
          f"{sum(p.get('status', 'ok') == 'ok' for p in ours.points)}/{a.num}")
    parts = sweep_processes(model, a.num)
    kind = "threads" if _orbits._parts_in_threads(model, False) else "processes"
    print(f"learned map sweep (one batch, {parts} parts in {kind}): {map_s:8.2f} s (median of {a.repeats}: "
          f"{', '.join(f'{t:.2f}' for t in map_runs)})")
    print(f"learned map sweep (one part, decoding thread): {one_s:8.2f} s   -> the split is "
          f"{one_s / map_s:4.2f}x faster")
    print(f"dynamap ODE sweep (dynamap.sweep):                 {ode_s:8.2f} s (median of {a.repeats}: "
          f"{', '.join(f'{t:.2f}' for t in ode_runs)})  -> map is {ode_s / map_s:6.1f}x faster "
          f"(run by run {min(o / m for o, m in zip(ode_runs, map_runs)):.1f}-"
          f"{max(o / m for o, m in zip(ode_runs, map_runs)):.1f}x)")
    print(f"scipy LSODA, EXTRAPOLATED from {len(idx)} points ({lsoda_per:.2f} s per point x {a.num}): "
          f"{lsoda_s:8.1f} s   -> map is {lsoda_s / map_s:6.1f}x faster")
    print(f"targets: >= 100x vs LSODA: {'met' if lsoda_s / map_s >= 100 else 'NOT met'}; "
          f">= 2x the ODE sweep: {'met' if 2 * map_s <= ode_s else 'NOT met'}")


if __name__ == "__main__":
    main()
