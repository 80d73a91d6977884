"""Bring your own model: a Morris-Lecar neuron with a slow calcium-activated potassium current (a
square-wave burster; not one of dynamap's built-in systems), simulated with scipy and written to CSV
the way a user would hand dynamap a recording.

    python examples/morris_lecar_burster.py ml.csv          # about 10 s; 4 spikes per burst
    dynamap fit ml.csv --out ml-model                        # about 11 minutes on 2 cores

Model (time in ms, V in mV): the Morris-Lecar equations with C = 20 and the Rinzel-Ermentrout
parameters below, plus g_KCa z (V - V_K) with z = Ca / (Ca + 1) and dCa/dt = eps (-mu I_Ca - Ca).
At I = 45 it bursts periodically with 4 spikes per burst and a burst period of 932 ms; the first fifth
of the run (50 s) is dropped as transient. The recording is 200 s at a 0.5 ms step.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.integrate import solve_ivp

PARAMS = dict(C=20.0, g_Ca=4.0, g_K=8.0, g_L=2.0, V_Ca=120.0, V_K=-84.0, V_L=-60.0, V1=-1.2, V2=18.0,
              V3=12.0, V4=17.4, phi=0.23, g_KCa=0.25, eps=0.005, mu=0.02)


def rhs(t, y, current: float, p=PARAMS):
    v, w, ca = y
    m_inf = 0.5 * (1.0 + np.tanh((v - p["V1"]) / p["V2"]))
    w_inf = 0.5 * (1.0 + np.tanh((v - p["V3"]) / p["V4"]))
    tau_w = 1.0 / np.cosh((v - p["V3"]) / (2.0 * p["V4"]))
    i_ca = p["g_Ca"] * m_inf * (v - p["V_Ca"])
    z = ca / (ca + 1.0)
    dv = (current - p["g_L"] * (v - p["V_L"]) - p["g_K"] * w * (v - p["V_K"]) - i_ca
          - p["g_KCa"] * z * (v - p["V_K"])) / p["C"]
    return [dv, p["phi"] * (w_inf - w) / tau_w, p["eps"] * (-p["mu"] * i_ca - ca)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="CSV file to write (columns t, V)")
    ap.add_argument("--current", type=float, default=45.0, help="applied current I (default 45)")
    ap.add_argument("--t-end", type=float, default=250_000.0, help="ms simulated (default 250000)")
    ap.add_argument("--dt", type=float, default=0.5, help="sampling step in ms (default 0.5)")
    args = ap.parse_args()
    t = np.arange(0.0, args.t_end, args.dt)
    sol = solve_ivp(rhs, (0.0, args.t_end), [-40.0, 0.0, 0.1], t_eval=t, args=(args.current,),
                    method="LSODA", rtol=1e-8, atol=1e-10)
    if not sol.success:
        raise SystemExit(f"integration failed: {sol.message}")
    keep = t > 0.2 * args.t_end
    np.savetxt(args.out, np.c_[t[keep], sol.y[0][keep]], delimiter=",", header="t,V", comments="", fmt="%.6f")
    v = sol.y[0][keep]
    up = np.flatnonzero((v[1:] >= 0.0) & (v[:-1] < 0.0))
    print(f"wrote {args.out}: {keep.sum()} samples, {up.size} spikes (upward crossings of 0 mV)")


if __name__ == "__main__":
    main()
