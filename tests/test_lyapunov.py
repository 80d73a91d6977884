"""Lyapunov spectra of flows against published values and the trace identity."""

from __future__ import annotations

import numpy as np

from dynamap import get_system, lyapunov_spectrum


def test_lorenz_spectrum():
    """Lorenz (10, 28, 8/3): (0.906, 0, -14.57) per unit time (Sprott, Chaos and Time-Series Analysis,
    2003, table A.1); tolerance 0.02 as required. The sum is the trace -(sigma + 1 + beta) exactly."""
    res = lyapunov_spectrum(get_system("lorenz"), t_end=1100, transient=100)
    assert res.units == "per unit time"
    np.testing.assert_allclose(res.spectrum, [0.906, 0.0, -14.572], atol=0.02)
    np.testing.assert_allclose(res.spectrum.sum(), -(10 + 1 + 8 / 3), atol=1e-4)


def test_henon_spectrum_per_step():
    """Henon (1.4, 0.3): (0.419, -1.624) per step (Sprott 2003); sum = ln(b) since det J = -b."""
    res = lyapunov_spectrum(get_system("henon"), t_end=101_000, transient=1_000)
    assert res.units == "per step"
    np.testing.assert_allclose(res.spectrum, [0.419, -1.624], atol=0.01)
    np.testing.assert_allclose(res.spectrum.sum(), np.log(0.3), atol=1e-9)


def test_hh_periodic_burst_has_zero_largest_exponent_and_chaos_positive():
    hh = get_system("hh-burster")
    periodic = lyapunov_spectrum(hh, {"V_S": -40.0}, t_end=1200, transient=400, k=1)
    chaotic = lyapunov_spectrum(hh, {"V_S": -38.5}, t_end=1200, transient=400, k=1)
    assert abs(periodic.spectrum[0]) < 0.02
    assert chaotic.spectrum[0] > 0.1
