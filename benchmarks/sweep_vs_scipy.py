"""Project sweep vs scipy LSODA on the HH burster, measured side by side in one run.

Both integrate the same model time (t_end = 1200 s, transient 400 s, samples every 0.005 s) at the same
V_S points; both outputs are labelled by the same function (dynamap.analysis.regimes.classify without
the Lyapunov exponent, so the labels depend on the trajectories only). LSODA gets a Python right-hand
side and rtol=1e-8 (atol=1e-8), the baseline a user would write. The project's sweep runs first once to
compile (the compile time is printed separately), then is timed on one thread and on all cores.

    python benchmarks/sweep_vs_scipy.py [--num 11] [--lsoda-points 11]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.integrate import solve_ivp

from dynamap.analysis.regimes import classify
from dynamap.analysis.sweep import SweepSettings, sweep
from dynamap.systems import get_system

HH = get_system("hh-burster")
T_END, TRANSIENT, DT = 1200.0, 400.0, 0.005


def rhs(t, y, p):
    g_Ca, V_Ca, g_K, V_K, g_S, V_m, th_m, V_n, th_n, V_S, th_S, sigma, tau, tau_S = p
    V, n, S = y
    m_inf = 1.0 / (1.0 + np.exp((V_m - V) / th_m))
    n_inf = 1.0 / (1.0 + np.exp((V_n - V) / th_n))
    s_inf = 1.0 / (1.0 + np.exp((V_S - V) / th_S))
    dV = (-g_Ca * m_inf * (V - V_Ca) - g_K * n * (V - V_K) - g_S * S * (V - V_K)) / tau
    return [dV, sigma * (n_inf - n) / tau, (s_inf - S) / tau_S]


def lsoda_point(vs):
    p = tuple(HH.param_vector({"V_S": vs}))
    t_eval = TRANSIENT + DT * np.arange(int(round((T_END - TRANSIENT) / DT)) + 1)
    sol = solve_ivp(rhs, (0.0, T_END), list(HH.initial_state), method="LSODA", t_eval=t_eval,
                    rtol=1e-8, atol=1e-8, args=(p,))
    return classify(sol.y[0], DT, HH.spike_threshold)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num", type=int, default=11, help="V_S points in [-44, -34]")
    ap.add_argument("--cli-num", type=int, nargs="*", default=[11, 51, 101],
                    help="points of the command-line sweeps, end to end")
    a = ap.parse_args()
    values = np.linspace(-44.0, -34.0, a.num)
    settings = SweepSettings(t_end=T_END, transient=TRANSIENT, dt=DT, lyapunov=False)

    t0 = time.perf_counter()
    sweep(HH, "V_S", values[:1], settings, n_jobs=1)
    compile_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    ours1 = sweep(HH, "V_S", values, settings, n_jobs=1)
    ours1_s = time.perf_counter() - t0
    cores = os.cpu_count() or 1
    t0 = time.perf_counter()
    sweep(HH, "V_S", values, settings, n_jobs=cores)
    oursn_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours_le = sweep(HH, "V_S", values, SweepSettings(T_END, TRANSIENT, DT, lyapunov=True), n_jobs=1)
    oursle_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    ref = [lsoda_point(v) for v in values]
    lsoda_s = time.perf_counter() - t0

    agree = 0
    print(f"{'V_S':>7s} | {'dynamap':24s} | {'LSODA rtol 1e-8':24s} | same")
    for v, mine, theirs in zip(values, ours1.points, ref):
        same = mine["regime"] == theirs.regime and (
            mine["spikes_per_burst"] == theirs.spikes_per_burst or theirs.regime == "irregular"
        )
        agree += same
        a_lab = f"{mine['regime']} {mine['spikes_per_burst']}"
        b_lab = f"{theirs.regime} {theirs.spikes_per_burst}"
        print(f"{v:7.2f} | {a_lab:24s} | {b_lab:24s} | {'yes' if same else 'NO'}")
    n = len(values)
    print()
    print(f"labels identical at {agree}/{n} points")
    print(f"one-time compile of the dynamap kernel: {compile_s:.1f} s")
    print(f"LSODA:                       {lsoda_s:8.2f} s ({lsoda_s / n:.2f} s per point)")
    print(f"dynamap, 1 thread:           {ours1_s:8.2f} s  -> {lsoda_s / ours1_s:6.1f}x faster")
    print(f"dynamap, {cores} threads:           {oursn_s:8.2f} s  -> {lsoda_s / oursn_s:6.1f}x faster")
    print(f"dynamap, 1 thread, with the largest Lyapunov exponent: {oursle_s:8.2f} s "
          f"-> {lsoda_s / oursle_s:6.1f}x faster")
    _ = ours_le
    exe = shutil.which("dynamap", path=os.path.dirname(sys.executable)) or shutil.which("dynamap")
    for num in a.cli_num:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [exe, "sweep", "--system", "hh-burster", "--param", "V_S", "--from", "-44", "--to", "-34",
                   "--num", str(num), "--t-end", str(T_END), "--transient", str(TRANSIENT), "--dt", str(DT),
                   "--out", os.path.join(tmp, "s"), "--quiet"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            cli_s = time.perf_counter() - t0
        print(f"dynamap sweep (command line, {num} points, with exponents, end to end): {cli_s:6.2f} s "
              f"-> {num * lsoda_s / n / cli_s:6.1f}x LSODA's {num} points")


if __name__ == "__main__":
    main()
