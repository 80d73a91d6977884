"""Fixed points of maps and equilibria of flows against closed forms and independent roots."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from dynamap._core.errors import InputError
from dynamap._core.protocols import MapLike
from dynamap.analysis.fixed_points import compare_fixed_points, flow_equilibria, map_fixed_points
from dynamap.systems import get_system


class AffineMap:
    """x -> A x + c (batched), a MapLike with known fixed point and multipliers."""

    def __init__(self, a: np.ndarray, c: np.ndarray):
        self.a, self.c = np.asarray(a, dtype=np.float64), np.asarray(c, dtype=np.float64)

    @property
    def dim(self) -> int:
        return self.a.shape[0]

    def step(self, x, p):
        return x @ self.a.T + self.c

    def jacobian(self, x, p):
        return np.broadcast_to(self.a, (x.shape[0],) + self.a.shape).copy()


def _starts(lo: float, hi: float, k: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, size=(k, d))


# ------------------------------------------------------------------------------------------ maps


@pytest.mark.parametrize("a, b", [(1.4, 0.3), (1.2, 0.3), (1.0, -0.2)])
def test_henon_fixed_points_closed_form(a, b):
    # oracle: x* = (-(1-b) +- sqrt((1-b)^2 + 4a)) / (2a), y* = b x*; multipliers are the roots of
    # mu^2 + 2 a x* mu - b = 0, i.e. mu = -a x* +- sqrt(a^2 x*^2 + b); tolerance 1e-12 (Newton to rounding)
    fps = map_fixed_points(get_system("henon"), _starts(-2, 2, 16, 2, seed=0), [a, b])
    assert [fp.converged for fp in fps] == [True, True]
    disc = np.sqrt((1 - b) ** 2 + 4 * a)
    for fp, xs in zip(fps, sorted([(-(1 - b) - disc) / (2 * a), (-(1 - b) + disc) / (2 * a)])):
        np.testing.assert_allclose(fp.x, [xs, b * xs], atol=1e-12)
        root = np.sqrt(complex(a * a * xs * xs + b))
        mu = np.array([-a * xs + root, -a * xs - root])
        np.testing.assert_allclose(np.sort_complex(fp.multipliers), np.sort_complex(mu), atol=1e-12)
        assert fp.n_unstable == int(np.sum(np.abs(mu) > 1))
        assert fp.residual <= 1e-12
    # at the classic (1.4, 0.3) both fixed points are saddles
    if (a, b) == (1.4, 0.3):
        assert [fp.n_unstable for fp in fps] == [1, 1]


@pytest.mark.parametrize("r", [2.5, 3.2, 3.9])
def test_logistic_fixed_points(r):
    # oracle: x = 0 with multiplier r, x* = 1 - 1/r with multiplier 2 - r
    fps = map_fixed_points(get_system("logistic"), _starts(0.01, 0.99, 12, 1, seed=1), [r])
    assert len(fps) == 2
    np.testing.assert_allclose([fps[0].x[0], fps[1].x[0]], [0.0, 1.0 - 1.0 / r], atol=1e-12)
    np.testing.assert_allclose([fps[0].multipliers[0], fps[1].multipliers[0]], [r, 2.0 - r], atol=1e-12)
    assert fps[1].n_unstable == int(abs(2.0 - r) > 1.0)


def test_affine_map_fixed_point_and_eigenvalues():
    # oracle: u* = (I - A)^-1 c; multipliers = eigenvalues of A (chosen: 1.5, -0.5, 0.2 +- 0.9i)
    rng = np.random.default_rng(2)
    blocks = np.zeros((4, 4))
    blocks[0, 0], blocks[1, 1] = 1.5, -0.5
    blocks[2:, 2:] = [[0.2, -0.9], [0.9, 0.2]]
    s = rng.standard_normal((4, 4)) + 3 * np.eye(4)
    a = s @ blocks @ np.linalg.inv(s)
    c = rng.standard_normal(4)
    m = AffineMap(a, c)
    assert isinstance(m, MapLike)
    fps = map_fixed_points(m, _starts(-5, 5, 6, 4, seed=3), np.zeros(0))
    assert len(fps) == 1
    np.testing.assert_allclose(fps[0].x, np.linalg.solve(np.eye(4) - a, c), atol=1e-10)
    expected = np.array([1.5, -0.5, 0.2 + 0.9j, 0.2 - 0.9j])
    np.testing.assert_allclose(np.sort_complex(fps[0].multipliers), np.sort_complex(expected), atol=1e-10)
    assert fps[0].n_unstable == 1  # |0.2 +- 0.9i| = 0.922 < 1
    d = fps[0].to_dict()
    assert d["converged"] is True and len(d["multipliers"]) == 4


def test_unconverged_rows_are_flagged():
    # one Newton step from far away cannot reach the tolerance: kept only on request, flagged
    fps = map_fixed_points(get_system("henon"), [[3.0, 3.0]], [1.4, 0.3], max_iter=1)
    assert fps == []
    fps = map_fixed_points(get_system("henon"), [[3.0, 3.0]], [1.4, 0.3], max_iter=1, keep_unconverged=True)
    assert len(fps) == 1 and not fps[0].converged and fps[0].residual > 1e-6
    with pytest.raises(InputError, match="x0s"):
        map_fixed_points(get_system("henon"), np.zeros((2, 3)), [1.4, 0.3])


# ----------------------------------------------------------------------------------------- flows


def _hh_v_root(vs: float) -> float:
    """Independent check: at an equilibrium n = n_inf(V), S = S_inf(V), so dV/dt = 0 is 1-D in V."""
    hh = get_system("hh-burster")
    q = hh.defaults() | {"V_S": vs}

    def boltz(v, mid, th):
        return 1.0 / (1.0 + np.exp((mid - v) / th))

    def i_total(v):
        return (
            q["g_Ca"] * boltz(v, q["V_m"], q["theta_m"]) * (v - q["V_Ca"])
            + q["g_K"] * boltz(v, q["V_n"], q["theta_n"]) * (v - q["V_K"])
            + q["g_S"] * boltz(v, vs, q["theta_S"]) * (v - q["V_K"])
        )

    # I_total < 0 at V_K and > 0 at V_Ca: one sign change on the physiological range (checked on a grid)
    grid = np.linspace(q["V_K"], q["V_Ca"], 2001)
    assert np.sum(np.diff(np.sign(i_total(grid))) != 0) == 1
    return optimize.brentq(i_total, q["V_K"], q["V_Ca"], xtol=1e-13)


@pytest.mark.parametrize("vs", [-44.0, -40.0, -34.0])
def test_hh_equilibrium_matches_1d_root_and_is_unstable(vs):
    # oracle: brentq on the reduced 1-D current balance, tolerance 1e-9 mV; the model's single
    # equilibrium is unstable over V_S in -44..-34 (we find 2 unstable directions at each value)
    hh = get_system("hh-burster")
    eqs = flow_equilibria(hh, {"V_S": vs})
    assert len(eqs) == 1
    eq = eqs[0]
    v = _hh_v_root(vs)
    assert eq.x[0] == pytest.approx(v, abs=1e-9)
    n_inf = 1.0 / (1.0 + np.exp((-16.0 - v) / 5.6))
    s_inf = 1.0 / (1.0 + np.exp((vs - v) / 10.0))
    np.testing.assert_allclose(eq.x[1:], [n_inf, s_inf], atol=1e-12)
    assert eq.residual <= 1e-9
    assert eq.n_unstable == 2 and np.max(eq.eigenvalues.real) > 0
    np.testing.assert_allclose(
        np.sort_complex(eq.eigenvalues), np.sort_complex(np.linalg.eigvals(hh.jac_numpy(eq.x, {"V_S": vs})))
    )


@pytest.mark.parametrize("rho", [28.0, 15.0])
def test_lorenz_equilibria_closed_form(rho):
    # oracle: (0,0,0) and (+-sqrt(beta (rho-1)), +-sqrt(beta (rho-1)), rho - 1); at C+- the
    # eigenvalues are the roots of l^3 + (s+b+1) l^2 + b (s+rho) l + 2 s b (rho-1) (Lorenz 1963)
    sigma, beta = 10.0, 8.0 / 3.0
    eqs = flow_equilibria(get_system("lorenz"), {"rho": rho})
    assert len(eqs) == 3
    c = np.sqrt(beta * (rho - 1))
    np.testing.assert_allclose(
        np.array([e.x for e in eqs]), [[-c, -c, rho - 1], [0, 0, 0], [c, c, rho - 1]], atol=1e-10
    )
    poly = np.roots([1.0, sigma + beta + 1, beta * (sigma + rho), 2 * sigma * beta * (rho - 1)])
    for e in (eqs[0], eqs[2]):
        np.testing.assert_allclose(np.sort_complex(e.eigenvalues), np.sort_complex(poly), atol=1e-9)
    # origin: -beta and (-(s+1) +- sqrt((s+1)^2 + 4 s (rho-1))) / 2, one positive for rho > 1
    disc = np.sqrt((sigma + 1) ** 2 + 4 * sigma * (rho - 1))
    origin = np.array([-beta, (-(sigma + 1) + disc) / 2, (-(sigma + 1) - disc) / 2])
    np.testing.assert_allclose(np.sort(eqs[1].eigenvalues.real), np.sort(origin), atol=1e-10)
    assert eqs[1].n_unstable == 1
    # C+- lose stability at rho_H = s (s+b+3)/(s-b-1) = 24.74 (subcritical Hopf)
    assert [eqs[0].n_unstable, eqs[2].n_unstable] == ([2, 2] if rho > 24.74 else [0, 0])


def test_compare_fixed_points_predicts_exp_lambda_dt():
    # oracle: the time-dt flow map has multipliers exp(lambda dt) exactly at the equilibrium
    lam = np.array([0.1 + 10.0j, 0.1 - 10.0j, -13.9])
    dt = 0.01
    found = np.exp(lam[:2] * dt) * (1 + 1e-4)  # a 2-D map that sees only the oscillatory pair
    r = compare_fixed_points(lam, found, dt)
    assert len(r["pairs"]) == 2
    assert r["max_abs_error"] == pytest.approx(1e-4 * abs(np.exp(lam[0] * dt)), rel=1e-6)
    assert {tuple(p["eigenvalue"]) for p in r["pairs"]} == {(0.1, 10.0), (0.1, -10.0)}
    assert r["n_unstable_true"] == 2 and r["n_unstable_map"] == 2 and r["n_unstable_agree"]
    r = compare_fixed_points(lam, np.exp(lam * dt) * 0.99, dt)  # shrunk inside the unit circle
    assert r["n_unstable_map"] == 0 and not r["n_unstable_agree"]
    with pytest.raises(InputError, match="dt"):
        compare_fixed_points(lam, found, -1.0)


def test_fixed_points_of_any_system_have_one_result_type():
    """dynamap.fixed_points takes a flow or a map: the Henon map's two fixed points (closed form
    x = (-(1 - b) +- sqrt((1 - b)^2 + 4a)) / 2a, y = b x) and the Lorenz equilibria, all FixedPoint."""
    import dynamap

    a, b = 1.4, 0.3
    fps = dynamap.fixed_points(get_system("henon"), {"a": a, "b": b}, np.array([[-2.0, -0.5], [1.0, 0.3]]))
    xs = sorted((-(1 - b) + sgn * np.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a) for sgn in (-1, 1))
    assert [fp.kind for fp in fps] == ["map", "map"]
    np.testing.assert_allclose([fp.x for fp in fps], [[x, b * x] for x in xs], atol=1e-12)
    eqs = dynamap.fixed_points(get_system("lorenz"), {"rho": 28.0})
    assert len(eqs) == 3 and all(isinstance(e, dynamap.FixedPoint) and e.kind == "flow" for e in eqs)
    assert "multipliers" in fps[0].to_dict() and "eigenvalues" in eqs[0].to_dict()
    # a map's default guesses: its initial state and its orbit from there (the logistic map at r = 2.5
    # settles on its stable fixed point 1 - 1/r)
    (fp,) = [f for f in dynamap.fixed_points(get_system("logistic"), {"r": 2.5}) if f.n_unstable == 0]
    assert fp.x[0] == pytest.approx(1 - 1 / 2.5, abs=1e-12)
