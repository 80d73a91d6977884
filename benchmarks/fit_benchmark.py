"""Time split of a default fit on the HH burster, peak memory, and free-running speed.

Usage: python benchmarks/fit_benchmark.py [--vs -40] [--seconds 1200] [--seed 0]

Prints: simulation (ground truth), embedding, VAE with dimension search, map (both summed over the
fit's rounds), total fit time; the free-running check; simulate_batch speed (200 parameter values x
20000 steps, one torch batch) next to integrating the ODE for the same model time; peak resident
memory of the process and of its largest forked child (the map candidates are trained side by side
in forked processes, one per core).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from dynamap import get_system, simulate
from dynamap.pipeline.config import FitConfig
from dynamap.pipeline.estimator import DynamapModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vs", type=float, default=-40.0)
    ap.add_argument("--seconds", type=float, default=1200.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    hh = get_system("hh-burster")
    t0 = time.perf_counter()
    tr = simulate(hh, {"V_S": args.vs}, t_end=400.0 + args.seconds, transient=400.0, dt=0.005)
    t_sim = time.perf_counter() - t0
    series = tr.series("V", param_value=args.vs)

    t0 = time.perf_counter()
    model = DynamapModel(FitConfig(), seed=args.seed).fit([series], progress=False)
    t_fit = time.perf_counter() - t0
    tm = model.history_["timings"]
    print(f"ground truth simulation ({args.seconds:g} s, incl. compile): {t_sim:8.2f} s")
    print(f"embedding (rules + windows):                 {tm['embedding_s']:8.2f} s")
    rounds = model.history_["map"]["rounds"]
    print(f"VAE with dimension search:                   {tm['vae_s']:8.2f} s")
    print(f"map (rollouts + free-running selection):     {tm['map_s']:8.2f} s")
    print(f"rounds (VAE + map candidates each):          {len(rounds):8d}   selection scores "
          + ", ".join(f"{r['selected_score']:.3g}" for r in rounds))
    print(f"total fit:                                   {t_fit:8.2f} s")
    print(f"chosen D_r = {model.state_dim_}, map step = {model.dt_:g}, window = {model.sampling_.window}")

    chk = model.free_running_check([series])["series"][0]
    print("free-running check:", json.dumps({k: chk[k] for k in ("data", "map")}, default=str))
    for key in ("isi_w1", "power_hellinger", "state_space_kl"):
        if key in chk:
            print(f"  {key}: value {chk[key]['value']}, floor {chk[key]['floor']}")

    c = np.linspace(args.vs - 4, args.vs + 4, 200)
    t0 = time.perf_counter()
    model.simulate_batch(c, 20_000, 0)
    t_batch = time.perf_counter() - t0
    model_time = 20_000 * model.dt_
    t0 = time.perf_counter()
    simulate(hh, {"V_S": args.vs}, t_end=model_time, transient=0.0, dt=model.dt_)
    t_ode = time.perf_counter() - t0
    print(f"simulate_batch 200 x 20000 steps ({model_time:g} s each): {t_batch:.2f} s; "
          f"one ODE run of {model_time:g} s: {t_ode:.3f} s (x200 = {200 * t_ode:.1f} s); "
          f"ratio ODE/map = {200 * t_ode / t_batch:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB (this process); {child:.0f} MiB (largest forked child: "
          f"map candidates and sweep parts run side by side, sharing the parent's pages until written)")


if __name__ == "__main__":
    main()
