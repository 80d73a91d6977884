"""Classic benchmark systems: Lorenz, Rossler, Hindmarsh-Rose (flows); Henon, logistic (maps)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import DiscreteMap, Flow, Parameter

# ----------------------------------------------------------------------------------------- Lorenz


@njit(cache=True, nogil=True, error_model="numpy")
def _lorenz_rhs(t, y, p, out):
    out[0] = p[0] * (y[1] - y[0])
    out[1] = y[0] * (p[1] - y[2]) - y[1]
    out[2] = y[0] * y[1] - p[2] * y[2]


@njit(cache=True, nogil=True, error_model="numpy")
def _lorenz_jac(t, y, p, out):
    out[0, 0] = -p[0]
    out[0, 1] = p[0]
    out[0, 2] = 0.0
    out[1, 0] = p[1] - y[2]
    out[1, 1] = -1.0
    out[1, 2] = -y[0]
    out[2, 0] = y[1]
    out[2, 1] = y[0]
    out[2, 2] = -p[2]


LORENZ = Flow(
    name="lorenz",
    variables=("x", "y", "z"),
    parameters=(
        Parameter("sigma", 10.0, "", (5.0, 15.0), "Prandtl number"),
        Parameter("rho", 28.0, "", (20.0, 200.0), "Rayleigh number (control)"),
        Parameter("beta", 8.0 / 3.0, "", (1.0, 4.0), "geometric factor"),
    ),
    observable="x",
    initial_state=(1.0, 1.0, 20.0),
    control="rho",
    citation="Lorenz, J. Atmos. Sci. 20 (1963) 130",
    description="Lorenz convection model.",
    rhs=_lorenz_rhs,
    jac=_lorenz_jac,
    time_unit="time unit",
    default_dt=0.01,
    default_transient=100.0,
    default_t_end=1100.0,
    rtol=1e-9,
    atol=1e-9,
    lyapunov_renorm_dt=0.5,
)

# ----------------------------------------------------------------------------------------- Rossler


@njit(cache=True, nogil=True, error_model="numpy")
def _rossler_rhs(t, y, p, out):
    out[0] = -y[1] - y[2]
    out[1] = y[0] + p[0] * y[1]
    out[2] = p[1] + y[2] * (y[0] - p[2])


@njit(cache=True, nogil=True, error_model="numpy")
def _rossler_jac(t, y, p, out):
    out[0, 0] = 0.0
    out[0, 1] = -1.0
    out[0, 2] = -1.0
    out[1, 0] = 1.0
    out[1, 1] = p[0]
    out[1, 2] = 0.0
    out[2, 0] = y[2]
    out[2, 1] = 0.0
    out[2, 2] = y[0] - p[2]


ROSSLER = Flow(
    name="rossler",
    variables=("x", "y", "z"),
    parameters=(
        Parameter("a", 0.2, "", (0.1, 0.4)),
        Parameter("b", 0.2, "", (0.1, 1.0)),
        Parameter("c", 5.7, "", (2.0, 10.0), "control"),
    ),
    observable="x",
    initial_state=(1.0, 1.0, 0.0),
    control="c",
    citation="Rossler, Phys. Lett. A 57 (1976) 397",
    description="Rossler attractor.",
    rhs=_rossler_rhs,
    jac=_rossler_jac,
    time_unit="time unit",
    default_dt=0.05,
    default_transient=200.0,
    default_t_end=2200.0,
    rtol=1e-9,
    atol=1e-9,
    lyapunov_renorm_dt=1.0,
)

# ---------------------------------------------------------------------------------- Hindmarsh-Rose


@njit(cache=True, nogil=True, error_model="numpy")
def _hr_rhs(t, y, p, out):
    a, b, c, d, r, s, x_r, current = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    x, yy, z = y[0], y[1], y[2]
    out[0] = yy - a * x**3 + b * x**2 - z + current
    out[1] = c - d * x**2 - yy
    out[2] = r * (s * (x - x_r) - z)


@njit(cache=True, nogil=True, error_model="numpy")
def _hr_jac(t, y, p, out):
    a, b, d, r, s = p[0], p[1], p[3], p[4], p[5]
    x = y[0]
    out[0, 0] = -3.0 * a * x**2 + 2.0 * b * x
    out[0, 1] = 1.0
    out[0, 2] = -1.0
    out[1, 0] = -2.0 * d * x
    out[1, 1] = -1.0
    out[1, 2] = 0.0
    out[2, 0] = r * s
    out[2, 1] = 0.0
    out[2, 2] = -r


HINDMARSH_ROSE = Flow(
    name="hindmarsh-rose",
    variables=("x", "y", "z"),
    parameters=(
        Parameter("a", 1.0),
        Parameter("b", 3.0),
        Parameter("c", 1.0),
        Parameter("d", 5.0),
        Parameter("r", 0.006, "", (0.001, 0.02)),
        Parameter("s", 4.0),
        Parameter("x_r", -1.6),
        Parameter("I", 3.25, "", (1.0, 4.0), "applied current (control)"),
    ),
    observable="x",
    initial_state=(-1.5, -10.0, 3.0),
    control="I",
    citation="Hindmarsh & Rose, Proc. R. Soc. Lond. B 221 (1984) 87",
    description="Hindmarsh-Rose bursting neuron (dimensionless).",
    spike_threshold=0.5,
    rhs=_hr_rhs,
    jac=_hr_jac,
    time_unit="time unit",
    default_dt=0.05,
    default_transient=1000.0,
    default_t_end=6000.0,
    rtol=1e-8,
    atol=1e-9,
    lyapunov_renorm_dt=1.0,
)

# ------------------------------------------------------------------------------------------- maps


def _henon_step(x, p):
    a, b = p[:, 0], p[:, 1]
    return np.stack([1.0 - a * x[:, 0] ** 2 + x[:, 1], b * x[:, 0]], axis=1)


def _henon_jac(x, p):
    a, b = p[:, 0], p[:, 1]
    out = np.zeros((x.shape[0], 2, 2))
    out[:, 0, 0] = -2.0 * a * x[:, 0]
    out[:, 0, 1] = 1.0
    out[:, 1, 0] = b
    return out


HENON = DiscreteMap(
    name="henon",
    variables=("x", "y"),
    parameters=(Parameter("a", 1.4, "", (1.0, 1.4), "control"), Parameter("b", 0.3, "", (0.0, 0.3))),
    observable="x",
    initial_state=(0.1, 0.1),
    control="a",
    citation="Henon, Commun. Math. Phys. 50 (1976) 69",
    description="Henon map.",
    step_fn=_henon_step,
    jac_fn=_henon_jac,
)


def _logistic_step(x, p):
    return p[:, :1] * x * (1.0 - x)


def _logistic_jac(x, p):
    return (p[:, 0] * (1.0 - 2.0 * x[:, 0]))[:, None, None]


LOGISTIC = DiscreteMap(
    name="logistic",
    variables=("x",),
    parameters=(Parameter("r", 4.0, "", (2.8, 4.0), "control"),),
    observable="x",
    initial_state=(0.3,),
    control="r",
    citation="May, Nature 261 (1976) 459",
    description="Logistic map.",
    step_fn=_logistic_step,
    jac_fn=_logistic_jac,
)
