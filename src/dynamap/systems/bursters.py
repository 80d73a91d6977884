"""Bursting neurons in ms and mV: a square-wave burster (Morris-Lecar with a slow Ca2+-activated K+
current, control I) and a parabolic burster (Plant's model of the Aplysia R15 neuron, control g_KCa).

Regimes (our sweeps at the default settings): the Morris-Lecar burster rests below I = 44.7, bursts
with 3, 4 (I = 45), then 5 and more spikes up to 45.6, with an irregular window of width 0.01 near
45.61, spikes tonically up to 53.6 and rests depolarised above. The Plant burster spikes tonically
below g_KCa = 0.0264, is irregular up to 0.0268, bursts with 17 down to 2 spikes (period adding;
6 at 0.03) up to 0.0332, fires one spike per slow wave up to 0.0339 and is silent above.

Morris-Lecar burster (Rinzel & Ermentrout's Morris-Lecar parameters with C = 20, plus a K+ current
gated by z = Ca / (Ca + 1); the parameters of examples/morris_lecar_burster.py); V (mV), K+
activation w, intracellular Ca2+ (arbitrary units):

    C dV/dt = I - g_L (V - V_L) - g_K w (V - V_K) - g_Ca m_inf(V) (V - V_Ca) - g_KCa z (V - V_K)
    dw/dt   = phi (w_inf(V) - w) cosh((V - V3) / (2 V4))
    dCa/dt  = eps (-mu g_Ca m_inf(V) (V - V_Ca) - Ca)

with m_inf = (1 + tanh((V - V1) / V2)) / 2 and w_inf = (1 + tanh((V - V3) / V4)) / 2.

Plant model as reduced by Rinzel & Lee (fast Na+ activation at its steady state): V (mV), Na+
inactivation h, K+ activation n, slow Ca2+ conductance x, intracellular Ca2+ (arbitrary units):

    C dV/dt = I - (g_I m_inf^3 h + g_x x) (V - V_I) - (g_K n^4 + g_KCa Ca / (0.5 + Ca)) (V - V_K)
              - g_L (V - V_L)
    dh/dt   = lambda (a_h (1 - h) - b_h h),   dn/dt = lambda (a_n (1 - n) - b_n n)
    dx/dt   = (x_inf(V) - x) / tau_x,         dCa/dt = rho (K_c x (V_Ca - V) - Ca)

where the Hodgkin-Huxley rates a_*, b_* (/ms) are taken at the shifted voltage u = (127 V + 8265) / 105
and x_inf(V) = 1 / (1 + exp(-0.15 (V + 50))).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Flow, Parameter

# ---------------------------------------------------------------------------- Morris-Lecar burster


@njit(cache=True, nogil=True, error_model="numpy")
def _ml_rhs(t, y, p, out):
    C, g_Ca, g_K, g_L, V_Ca, V_K, V_L = p[0], p[1], p[2], p[3], p[4], p[5], p[6]
    V1, V2, V3, V4, phi, g_KCa, eps, mu, current = p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]
    V, w, ca = y[0], y[1], y[2]
    m_inf = 0.5 * (1.0 + np.tanh((V - V1) / V2))
    w_inf = 0.5 * (1.0 + np.tanh((V - V3) / V4))
    i_ca = g_Ca * m_inf * (V - V_Ca)
    z = ca / (ca + 1.0)
    out[0] = (current - g_L * (V - V_L) - g_K * w * (V - V_K) - i_ca - g_KCa * z * (V - V_K)) / C
    out[1] = phi * (w_inf - w) * np.cosh((V - V3) / (2.0 * V4))
    out[2] = eps * (-mu * i_ca - ca)


@njit(cache=True, nogil=True, error_model="numpy")
def _ml_jac(t, y, p, out):
    C, g_Ca, g_K, g_L, V_Ca, V_K = p[0], p[1], p[2], p[3], p[4], p[5]
    V1, V2, V3, V4, phi, g_KCa, eps, mu = p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]
    V, w, ca = y[0], y[1], y[2]
    tm = np.tanh((V - V1) / V2)
    tw = np.tanh((V - V3) / V4)
    m_inf = 0.5 * (1.0 + tm)
    w_inf = 0.5 * (1.0 + tw)
    half = (V - V3) / (2.0 * V4)
    # d/dV of (1 + tanh((V - a) / b)) / 2 is (1 - tanh^2) / (2 b)
    di_ca = g_Ca * (0.5 * (1.0 - tm * tm) / V2 * (V - V_Ca) + m_inf)
    z = ca / (ca + 1.0)
    out[0, 0] = (-g_L - g_K * w - di_ca - g_KCa * z) / C
    out[0, 1] = -g_K * (V - V_K) / C
    out[0, 2] = -g_KCa * (V - V_K) / ((ca + 1.0) ** 2 * C)
    out[1, 0] = phi * (0.5 * (1.0 - tw * tw) / V4 * np.cosh(half) + (w_inf - w) * np.sinh(half) / (2.0 * V4))
    out[1, 1] = -phi * np.cosh(half)
    out[1, 2] = 0.0
    out[2, 0] = -eps * mu * di_ca
    out[2, 1] = 0.0
    out[2, 2] = -eps


MORRIS_LECAR_BURSTER = Flow(
    name="morris-lecar-burster",
    variables=("V", "w", "Ca"),
    parameters=(
        Parameter("C", 20.0, "uF/cm^2", None, "membrane capacitance"),
        Parameter("g_Ca", 4.0, "mS/cm^2", None, "Ca2+ conductance"),
        Parameter("g_K", 8.0, "mS/cm^2", None, "K+ conductance"),
        Parameter("g_L", 2.0, "mS/cm^2", None, "leak conductance"),
        Parameter("V_Ca", 120.0, "mV", None, "Ca2+ reversal potential"),
        Parameter("V_K", -84.0, "mV", None, "K+ reversal potential"),
        Parameter("V_L", -60.0, "mV", None, "leak reversal potential"),
        Parameter("V1", -1.2, "mV", None, "Ca2+ activation midpoint"),
        Parameter("V2", 18.0, "mV", None, "Ca2+ activation slope"),
        Parameter("V3", 12.0, "mV", None, "K+ activation midpoint"),
        Parameter("V4", 17.4, "mV", None, "K+ activation slope"),
        Parameter("phi", 0.23, "1/ms", None, "K+ activation rate"),
        Parameter("g_KCa", 0.25, "mS/cm^2", None, "Ca2+-activated K+ conductance"),
        Parameter("eps", 0.005, "1/ms", None, "Ca2+ rate (slow time scale)"),
        Parameter("mu", 0.02, "", None, "Ca2+ influx per unit Ca2+ current"),
        Parameter("I", 45.0, "uA/cm^2", (44.0, 47.0), "applied current (control parameter)"),
    ),
    observable="V",
    initial_state=(-40.0, 0.0, 0.1),
    control="I",
    citation=(
        "Morris & Lecar, Biophys. J. 35 (1981) 193; parameters of Rinzel & Ermentrout, in Methods in "
        "Neuronal Modeling (MIT Press 1989); slow Ca2+-activated K+ current as in Ermentrout & Terman, "
        "Mathematical Foundations of Neuroscience (Springer 2010) ch. 5"
    ),
    description="Morris-Lecar square-wave burster with a slow Ca2+-activated K+ current (ms, mV).",
    units={"V": "mV", "w": "", "Ca": "", "t": "ms"},
    spike_threshold=0.0,
    rhs=_ml_rhs,
    jac=_ml_jac,
    time_unit="ms",
    default_dt=0.5,
    default_transient=10_000.0,
    default_t_end=110_000.0,
    rtol=1e-8,
    atol=1e-10,
    lyapunov_renorm_dt=50.0,
)

# ------------------------------------------------------------------------------------ Plant model

#: the Hodgkin-Huxley rates are taken at u = _U_SLOPE * V + _U_SHIFT (Rinzel & Lee 1987)
_U_SLOPE = 127.0 / 105.0
_U_SHIFT = 8265.0 / 105.0


@njit(cache=True, nogil=True, error_model="numpy")
def _exprel(d, s):
    """d / (exp(d / s) - 1), continued through its removable singularity at d = 0."""
    x = d / s
    if abs(x) < 1e-6:
        return s * (1.0 - 0.5 * x)
    return d / np.expm1(x)


@njit(cache=True, nogil=True, error_model="numpy")
def _exprel_prime(d, s):
    """The derivative of :func:`_exprel` with respect to d."""
    x = d / s
    if abs(x) < 1e-6:
        return -0.5 + x / 6.0
    e = np.expm1(x)
    return (e - x * (e + 1.0)) / (e * e)


@njit(cache=True, nogil=True, error_model="numpy")
def _plant_rhs(t, y, p, out):
    C, g_I, g_x, g_K, g_KCa, g_L = p[0], p[1], p[2], p[3], p[4], p[5]
    V_I, V_Ca, V_K, V_L, lam, tau_x, K_c, rho, current = p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]
    V, h, n, x, ca = y[0], y[1], y[2], y[3], y[4]
    u = _U_SLOPE * V + _U_SHIFT
    a_m = 0.1 * _exprel(50.0 - u, 10.0)
    b_m = 4.0 * np.exp((25.0 - u) / 18.0)
    a_h = 0.07 * np.exp((25.0 - u) / 20.0)
    b_h = 1.0 / (1.0 + np.exp((55.0 - u) / 10.0))
    a_n = 0.01 * _exprel(55.0 - u, 10.0)
    b_n = 0.125 * np.exp((45.0 - u) / 80.0)
    m_inf = a_m / (a_m + b_m)
    x_inf = 1.0 / (1.0 + np.exp(-0.15 * (V + 50.0)))
    g_slow = g_K * n**4 + g_KCa * ca / (0.5 + ca)
    out[0] = (current - (g_I * m_inf**3 * h + g_x * x) * (V - V_I) - g_slow * (V - V_K) - g_L * (V - V_L)) / C
    out[1] = lam * (a_h * (1.0 - h) - b_h * h)
    out[2] = lam * (a_n * (1.0 - n) - b_n * n)
    out[3] = (x_inf - x) / tau_x
    out[4] = rho * (K_c * x * (V_Ca - V) - ca)


@njit(cache=True, nogil=True, error_model="numpy")
def _plant_jac(t, y, p, out):
    C, g_I, g_x, g_K, g_KCa, g_L = p[0], p[1], p[2], p[3], p[4], p[5]
    V_I, V_Ca, V_K, lam, tau_x, K_c, rho = p[6], p[7], p[8], p[10], p[11], p[12], p[13]
    V, h, n, x, ca = y[0], y[1], y[2], y[3], y[4]
    out[:, :] = 0.0
    u = _U_SLOPE * V + _U_SHIFT
    a_m = 0.1 * _exprel(50.0 - u, 10.0)
    b_m = 4.0 * np.exp((25.0 - u) / 18.0)
    a_h = 0.07 * np.exp((25.0 - u) / 20.0)
    b_h = 1.0 / (1.0 + np.exp((55.0 - u) / 10.0))
    a_n = 0.01 * _exprel(55.0 - u, 10.0)
    b_n = 0.125 * np.exp((45.0 - u) / 80.0)
    # derivatives of the rates with respect to u
    da_m = -0.1 * _exprel_prime(50.0 - u, 10.0)
    db_m = -b_m / 18.0
    da_h = -a_h / 20.0
    db_h = b_h * (1.0 - b_h) / 10.0
    da_n = -0.01 * _exprel_prime(55.0 - u, 10.0)
    db_n = -b_n / 80.0
    m_inf = a_m / (a_m + b_m)
    dm_inf = _U_SLOPE * (da_m * b_m - a_m * db_m) / (a_m + b_m) ** 2  # d m_inf / dV
    x_inf = 1.0 / (1.0 + np.exp(-0.15 * (V + 50.0)))
    g_slow = g_K * n**4 + g_KCa * ca / (0.5 + ca)
    out[0, 0] = -(g_I * h * (3.0 * m_inf**2 * dm_inf * (V - V_I) + m_inf**3) + g_x * x + g_slow + g_L) / C
    out[0, 1] = -g_I * m_inf**3 * (V - V_I) / C
    out[0, 2] = -4.0 * g_K * n**3 * (V - V_K) / C
    out[0, 3] = -g_x * (V - V_I) / C
    out[0, 4] = -g_KCa * 0.5 / (0.5 + ca) ** 2 * (V - V_K) / C
    out[1, 0] = lam * _U_SLOPE * (da_h * (1.0 - h) - db_h * h)
    out[1, 1] = -lam * (a_h + b_h)
    out[2, 0] = lam * _U_SLOPE * (da_n * (1.0 - n) - db_n * n)
    out[2, 2] = -lam * (a_n + b_n)
    out[3, 0] = 0.15 * x_inf * (1.0 - x_inf) / tau_x
    out[3, 3] = -1.0 / tau_x
    out[4, 0] = -rho * K_c * x
    out[4, 3] = rho * K_c * (V_Ca - V)
    out[4, 4] = -rho


PLANT_BURSTER = Flow(
    name="plant-burster",
    variables=("V", "h", "n", "x", "Ca"),
    parameters=(
        Parameter("C", 1.0, "uF/cm^2", None, "membrane capacitance"),
        Parameter("g_I", 4.0, "mS/cm^2", None, "fast inward (Na+) conductance"),
        Parameter("g_x", 0.01, "mS/cm^2", None, "slow inward conductance"),
        Parameter("g_K", 0.3, "mS/cm^2", None, "delayed-rectifier K+ conductance"),
        Parameter("g_KCa", 0.03, "mS/cm^2", (0.0225, 0.0375), "Ca2+-activated K+ conductance (control)"),
        Parameter("g_L", 0.003, "mS/cm^2", None, "leak conductance"),
        Parameter("V_I", 30.0, "mV", None, "reversal potential of the inward currents"),
        Parameter("V_Ca", 140.0, "mV", None, "Ca2+ reversal potential (drives the Ca2+ influx)"),
        Parameter("V_K", -75.0, "mV", None, "K+ reversal potential"),
        Parameter("V_L", -40.0, "mV", None, "leak reversal potential"),
        Parameter("lambda", 1.0 / 12.5, "", None, "rate factor of the h and n kinetics"),
        Parameter("tau_x", 235.0, "ms", None, "slow inward activation time constant"),
        Parameter("K_c", 0.0085, "1/mV", None, "Ca2+ influx per unit driving force"),
        Parameter("rho", 0.0003, "1/ms", None, "Ca2+ rate (slow time scale)"),
        Parameter("I", 0.0, "uA/cm^2", None, "applied current"),
    ),
    observable="V",
    initial_state=(-58.0, 0.95, 0.02, 0.2, 0.4),
    control="g_KCa",
    citation=(
        "Plant, J. Math. Biol. 11 (1981) 15; reduced form and parameters of Rinzel & Lee, "
        "J. Math. Biol. 25 (1987) 653"
    ),
    description="Plant's parabolic burster of the Aplysia R15 neuron (ms, mV).",
    units={"V": "mV", "h": "", "n": "", "x": "", "Ca": "", "t": "ms"},
    spike_threshold=-20.0,
    rhs=_plant_rhs,
    jac=_plant_jac,
    time_unit="ms",
    default_dt=1.0,
    default_transient=60_000.0,
    default_t_end=660_000.0,
    rtol=1e-8,
    atol=1e-10,
    lyapunov_renorm_dt=10.0,
)
