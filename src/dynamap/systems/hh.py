"""The Hodgkin-Huxley-type bursting neuron: two fast variables (V, n), one slow (S), control V_S
(about -44 ... -34 mV: period-adding bursting, a narrow irregular window, tonic spiking above).

Sherman-Rinzel-Keizer pancreatic beta-cell model in the form used by Stankevich & Mosekilde
("physiological neuron"): membrane potential V (mV), K+ activation n, slow variable S; time in s.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Flow, Parameter

# parameter order (the vector layout used by the compiled kernels)
_NAMES = (
    "g_Ca", "V_Ca", "g_K", "V_K", "g_S", "V_m", "theta_m", "V_n", "theta_n",
    "V_S", "theta_S", "sigma", "tau", "tau_S",
)  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy")
def _rhs(t, y, p, out):
    V = y[0]
    n = y[1]
    S = y[2]
    g_Ca, V_Ca, g_K, V_K, g_S = p[0], p[1], p[2], p[3], p[4]
    V_m, th_m, V_n, th_n, V_S, th_S = p[5], p[6], p[7], p[8], p[9], p[10]
    sigma, tau, tau_S = p[11], p[12], p[13]
    m_inf = 1.0 / (1.0 + np.exp((V_m - V) / th_m))
    n_inf = 1.0 / (1.0 + np.exp((V_n - V) / th_n))
    s_inf = 1.0 / (1.0 + np.exp((V_S - V) / th_S))
    i_ca = g_Ca * m_inf * (V - V_Ca)
    i_k = g_K * n * (V - V_K)
    i_s = g_S * S * (V - V_K)
    out[0] = (-i_ca - i_k - i_s) / tau
    out[1] = sigma * (n_inf - n) / tau
    out[2] = (s_inf - S) / tau_S


@njit(cache=True, nogil=True, error_model="numpy")
def _jac(t, y, p, out):
    V = y[0]
    n = y[1]
    S = y[2]
    g_Ca, V_Ca, g_K, V_K, g_S = p[0], p[1], p[2], p[3], p[4]
    V_m, th_m, V_n, th_n, V_S, th_S = p[5], p[6], p[7], p[8], p[9], p[10]
    sigma, tau, tau_S = p[11], p[12], p[13]
    m_inf = 1.0 / (1.0 + np.exp((V_m - V) / th_m))
    n_inf = 1.0 / (1.0 + np.exp((V_n - V) / th_n))
    s_inf = 1.0 / (1.0 + np.exp((V_S - V) / th_S))
    # d/dV of a Boltzmann w_inf is w_inf (1 - w_inf) / theta
    dm = m_inf * (1.0 - m_inf) / th_m
    dn = n_inf * (1.0 - n_inf) / th_n
    ds = s_inf * (1.0 - s_inf) / th_S
    out[0, 0] = -(g_Ca * (dm * (V - V_Ca) + m_inf) + g_K * n + g_S * S) / tau
    out[0, 1] = -g_K * (V - V_K) / tau
    out[0, 2] = -g_S * (V - V_K) / tau
    out[1, 0] = sigma * dn / tau
    out[1, 1] = -sigma / tau
    out[1, 2] = 0.0
    out[2, 0] = ds / tau_S
    out[2, 1] = 0.0
    out[2, 2] = -1.0 / tau_S


HH_BURSTER = Flow(
    name="hh-burster",
    variables=("V", "n", "S"),
    parameters=(
        Parameter("g_Ca", 3.6, "", None, "Ca2+ conductance (scaled)"),
        Parameter("V_Ca", 25.0, "mV", None, "Ca2+ reversal potential"),
        Parameter("g_K", 10.0, "", None, "K+ conductance (scaled)"),
        Parameter("V_K", -75.0, "mV", None, "K+ reversal potential"),
        Parameter("g_S", 4.0, "", None, "slow-current conductance (scaled)"),
        Parameter("V_m", -20.0, "mV", None, "Ca2+ activation midpoint"),
        Parameter("theta_m", 12.0, "mV", None, "Ca2+ activation slope"),
        Parameter("V_n", -16.0, "mV", None, "K+ activation midpoint"),
        Parameter("theta_n", 5.6, "mV", None, "K+ activation slope"),
        Parameter("V_S", -40.0, "mV", (-44.0, -34.0), "slow-variable midpoint (control parameter)"),
        Parameter("theta_S", 10.0, "mV", None, "slow-variable slope"),
        Parameter("sigma", 0.85, "", None, "K+ time-scale ratio"),
        Parameter("tau", 0.02, "s", None, "fast time constant"),
        Parameter("tau_S", 35.0, "s", None, "slow time constant"),
    ),
    observable="V",
    initial_state=(-60.0, 0.0, 0.17),
    control="V_S",
    citation=(
        "Sherman, Rinzel & Keizer, Biophys. J. 54 (1988) 411; Stankevich & Mosekilde, Chaos 27 (2017) "
        "123101; used by Kuptsov & Stankevich, Chaos Solitons Fractals 191 (2025) 115818"
    ),
    description="Hodgkin-Huxley-type bursting neuron (two fast variables, one slow).",
    units={"V": "mV", "n": "", "S": "", "t": "s"},
    spike_threshold=-30.0,
    rhs=_rhs,
    jac=_jac,
    time_unit="s",
    default_dt=0.005,
    default_transient=400.0,
    default_t_end=1200.0,
    rtol=1e-8,
    atol=1e-8,
    lyapunov_renorm_dt=1.0,
)

assert tuple(p.name for p in HH_BURSTER.parameters) == _NAMES
