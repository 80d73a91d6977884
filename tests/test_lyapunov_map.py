"""Lyapunov exponents of maps (per step) by Jacobian products + QR, against known values."""

from __future__ import annotations

import numpy as np
import pytest

from dynamap.analysis.lyapunov import lyapunov_map
from dynamap.systems import get_system


class LinearMap:
    """x -> A x (batched): its Lyapunov exponents are ln |eigenvalues of A| (any orbit)."""

    def __init__(self, a):
        self.a = np.asarray(a, dtype=np.float64)

    @property
    def dim(self) -> int:
        return self.a.shape[0]

    def step(self, x, p):
        return x @ self.a.T

    def jacobian(self, x, p):
        return np.broadcast_to(self.a, (x.shape[0],) + self.a.shape).copy()


@pytest.mark.parametrize(
    "a, expected",
    [
        # diagonal: exponents = ln of the diagonal moduli (= singular values)
        (np.diag([2.0, 0.5, -0.25]), np.log([2.0, 0.5, 0.25])),
        # triangular: exponents = ln |diagonal| (eigenvalues), NOT ln of the singular values
        (np.array([[0.5, 3.0, 1.0], [0.0, -2.0, 0.7], [0.0, 0.0, 1.1]]), np.log([2.0, 1.1, 0.5])),
    ],
)
def test_linear_map_exponents(a, expected):
    # oracle above; after the transient Q has converged to the Schur basis, so every later QR step
    # returns |R_ii| = |eigenvalue_i| exactly: tolerance 1e-10. The orbit starts at the fixed point 0
    # so that it does not overflow (the exponents do not depend on the orbit of a linear map).
    m = LinearMap(a)
    spec = lyapunov_map(m, np.zeros((2, 3)), np.zeros((2, 0)), n_steps=500, n_transient=200)
    assert spec.shape == (2, 3)
    np.testing.assert_allclose(spec, np.tile(expected, (2, 1)), atol=1e-10)


def test_linear_map_largest_exponent_only():
    # k = 1 on a lower-triangular A (transpose of the case above): same eigenvalues, and the first
    # basis vector e1 is not an invariant direction, so the single tangent vector finds ln 2
    a = np.array([[0.5, 0.0, 0.0], [3.0, -2.0, 0.0], [1.0, 0.7, 1.1]])
    spec = lyapunov_map(LinearMap(a), np.zeros((1, 3)), np.zeros((1, 0)), n_steps=500, n_transient=200, k=1)
    np.testing.assert_allclose(spec[0], [np.log(2.0)], atol=1e-10)


def test_largest_exponent_from_an_invariant_first_axis():
    a = np.array([[0.5, 3.0, 1.0], [0.0, -2.0, 0.7], [0.0, 0.0, 1.1]])
    spec = lyapunov_map(LinearMap(a), np.zeros((1, 3)), np.zeros((1, 0)), n_steps=500, n_transient=200, k=1)
    np.testing.assert_allclose(spec[0], [np.log(2.0)], atol=1e-10)


def test_henon_spectrum():
    # reference: Henon (a, b) = (1.4, 0.3): 0.41922, -1.62319 per step (J. C. Sprott, Chaos and
    # Time-Series Analysis, Oxford 2003, table of Lyapunov exponents); tolerance 0.01 on the mean
    # of 8 orbits of 20000 steps. The sum is exact: |det J| = b at every step -> ln 0.3 to 1e-9.
    x0 = 0.1 + 0.01 * np.random.default_rng(5).standard_normal((8, 2))
    p = np.tile([1.4, 0.3], (8, 1))
    spec = lyapunov_map(get_system("henon"), x0, p, n_steps=20_000, n_transient=1_000)
    assert np.all(np.isfinite(spec))
    np.testing.assert_allclose(spec.sum(axis=1), np.log(0.3), atol=1e-9)
    np.testing.assert_allclose(spec.mean(axis=0), [0.41922, -1.62319], atol=0.01)


def test_logistic_r4_is_ln2():
    # oracle: r = 4 is conjugate to the tent map, exponent ln 2 exactly (invariant density
    # 1/(pi sqrt(x(1-x)))); ln|f'| differs from ln 2 by a coboundary, so the finite-time error
    # falls like 1/n (measured 8e-6 here); tolerance 1e-3 on the mean of 8 orbits of 20000 steps
    x0 = np.random.default_rng(6).uniform(0.05, 0.95, size=(8, 1))
    p = np.full((8, 1), 4.0)
    spec = lyapunov_map(get_system("logistic"), x0, p, n_steps=20_000, n_transient=100)
    assert np.all(np.isfinite(spec))
    assert spec.mean() == pytest.approx(np.log(2.0), abs=1e-3)


def test_exponents_in_a_flows_terms_on_a_uniformly_rotating_attracting_circle():
    """Closed form: the map r' = 1 + b (r - 1), theta' = theta + omega (an attracting circle, turned
    uniformly: a time-sampled limit cycle) has the exponents 0 (along the circle) and log b per step.
    From a state on the circle the direction of motion grows by 0 and the exponent transverse to it
    is log b (the central difference z(m+1) - z(m-1) is the circle's tangent exactly); the map's
    own largest exponent is 0 too, and :func:`~dynamap.analysis.sweep.flow_exponent` gives 0."""
    import torch

    from dynamap.analysis.sweep import flow_exponent
    from dynamap.models.base import StateMap

    b, omega = 0.8, 0.3

    class Circle(StateMap):
        def forward(self, u, c):
            r = torch.sqrt((u ** 2).sum(1, keepdim=True))
            th = torch.atan2(u[:, 1:2], u[:, 0:1]) + omega
            r2 = 1.0 + b * (r - 1.0)
            return torch.cat([r2 * torch.cos(th), r2 * torch.sin(th)], 1)

    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[0.3, 0.7], [1.0, 0.0]])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    n = 400
    sums = Circle().flow_sums(z, v, np.zeros(2), n, 1e-9)
    quarter = n // 4
    motion = (sums[:, 1] - sums[:, 0]) / quarter / (n - quarter)
    np.testing.assert_allclose(motion, 0.0, atol=1e-12)
    np.testing.assert_allclose(sums[:, 2] / n, np.log(b), atol=1e-9)
    assert flow_exponent(0.0, float(motion[0]), float(sums[0, 2] / n), at_rest=False) == pytest.approx(0.0, abs=1e-12)
    assert flow_exponent(-0.4, -0.5, -0.9, at_rest=True) == -0.4  # at rest: the map's own exponent
