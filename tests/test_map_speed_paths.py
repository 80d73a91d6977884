"""The fast paths of a model's orbits: the batched step loop, the chunked decoder, the overlapped decoding,
the batch split over processes.

They must give the module's numbers up to float32 round-off, and a value's orbit must not depend on the
batch around it. The models here are built by hand (random weights, no fitting), so the tests are quick.
"""

from __future__ import annotations

import dataclasses
import os
import time
import types

import numpy as np
import pytest
import torch

from dynamap.models import _orbits as orbits
from dynamap.models._orbits import iterate_model
from dynamap.models.base import StateMap
from dynamap.models.encoders import VAEEncoder
from dynamap.models.map import ParametricMap, fast_stepper
from dynamap.models.vae import VAE
from dynamap.pipeline.config import FitConfig
from dynamap.pipeline.estimator import DynamapModel
from dynamap.pipeline.fitted import Control, Fitted
from dynamap.training.config import MLPConfig, VAEConfig


def _model(activation="tanh", residual=True, d=3, hidden=16, window=8, out_scale=0.05, box=3.0):
    cfg = FitConfig(vae=VAEConfig(hidden=hidden), mlp=MLPConfig(hidden=hidden, activation=activation,
                                                                  residual=residual), encoder="vae", map_family="mlp")
    m = DynamapModel(cfg, seed=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        vae = VAE(window, d, hidden, 2, "silu").eval()
        fmap = ParametricMap(d, hidden, 2, activation, residual).eval()
    with torch.no_grad():
        fmap.out_scale.fill_(out_scale)
        fmap.lo.fill_(-box)
        fmap.hi.fill_(box)
    rng = np.random.default_rng(0)
    sampling = types.SimpleNamespace(dt_map=0.01, spike_threshold=-30.0, spike_hysteresis=0.0, stride=1)
    encoder = VAEEncoder(vae, rng.normal(size=d) * 0.1, 0.5 + rng.random(d), -50.0, 10.0)
    control = Control("single", (-40.0,), -40.0, 4.0, 0.0, (0.0,))
    m.fitted_ = Fitted(sampling, "V", -50.0, 10.0, control, encoder, fmap, rng.normal(size=(64, d)),
                       np.full(64, -40.0), {})
    return m


@pytest.mark.parametrize("activation,residual", [("tanh", True), ("tanh", False), ("silu", True), ("gelu", True)])
def test_fast_stepper_matches_the_module(activation, residual):
    m = _model(activation, residual)
    z = torch.as_tensor(np.random.default_rng(2).normal(size=(40, 3)), dtype=torch.float32)
    c = torch.linspace(-1.0, 1.0, 40)[:, None]
    with torch.no_grad():
        ref = m.map_.double()(z.double(), c.double())
        m.map_.float()
        mod = m.map_(z, c)
        fast = fast_stepper(m.map_, c, m.state_dim_)(z.T.contiguous(), torch.empty(3, 40)).T
    err_fast = float((fast.double() - ref).abs().max())
    err_mod = float((mod.double() - ref).abs().max())
    assert err_fast <= max(4 * err_mod, 1e-6)  # float32 round-off, like the module itself


def test_a_map_family_without_a_stepper_of_its_own_steps_by_its_forward():
    class Other(StateMap):
        def forward(self, u, c):
            return 0.9 * u + 0.1 * c

    m = _model()
    m.fitted_ = dataclasses.replace(m.fitted_, map=Other())
    z, c = torch.randn(5, 3), torch.randn(5, 1)
    out = fast_stepper(m.map_, c, m.state_dim_)(z.T.contiguous(), torch.empty(3, 5))
    torch.testing.assert_close(out.T, 0.9 * z + 0.1 * c)


def test_decode_matches_the_decoder():
    m = _model()
    z = torch.as_tensor(np.random.default_rng(3).normal(size=(20_011, 3)))  # several chunks and a tail
    with torch.no_grad():
        enc = m.encoder_
        dec = enc.vae.decoder.double()
        ref = dec(z * torch.as_tensor(enc.z_std) + torch.as_tensor(enc.z_mean))[:, 0] * m.x_std_ + m.x_mean_
        enc.vae.float()
    x = m.decode(z)
    assert x.dtype == torch.float32 and x.shape == (20_011,)
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=0, atol=2e-5)
    assert m.decode(z[:0]).shape == (0,)


def test_orbit_matches_the_module_loop():
    m = _model()
    cv = np.linspace(-42.0, -38.0, 7)
    x, final = iterate_model(m, cv, 300, 50)
    lm = m.as_system()
    z = lm.initial_states(cv)
    ref = np.empty((cv.size, 300))
    for k in range(350):  # float64 reference: the module's own forward
        z = lm.step(z, cv[:, None])
        if k >= 50:
            ref[:, k - 50] = lm.decode(z)
    np.testing.assert_allclose(final, z, rtol=0, atol=1e-4)
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-3)


def test_a_values_orbit_is_the_same_alone_or_in_a_batch():
    m = _model()
    cv = np.linspace(-44.0, -36.0, 40)
    xb, fb = iterate_model(m, cv, 400, 100)
    for i in (0, 17, 39):
        xa, fa = iterate_model(m, cv[i : i + 1], 400, 100)
        np.testing.assert_array_equal(fa[0], fb[i])
        np.testing.assert_array_equal(xa[0], xb[i])


def test_overlapped_decoding_gives_the_inline_result(monkeypatch):
    m = _model()
    cv = np.linspace(-44.0, -36.0, 9)
    monkeypatch.setattr(orbits, "DECODE_BLOCK_STATES", 500)  # many blocks, uneven last one
    x1, f1 = iterate_model(m, cv, 1234, 10)
    monkeypatch.setattr(orbits, "usable_cores", lambda: 1)
    x2, f2 = iterate_model(m, cv, 1234, 10)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(m.simulate_batch(cv, 1234, 10), x1)


def test_diverged_rows_are_nan():
    m = _model(out_scale=50.0, box=np.inf)
    x, final = iterate_model(m, np.array([-40.0, -39.0]), 200, 0)
    bad = ~np.isfinite(x).all(axis=1)
    assert bad.all() and np.isnan(final).all()


def test_a_split_batch_gives_the_one_process_result():
    m = _model()
    cv = np.linspace(-44.0, -36.0, 41)
    x1, f1 = iterate_model(m, cv, 700, 50, processes=1)
    x3, f3 = iterate_model(m, cv, 700, 50, processes=3)  # parts of 14, 14 and 13 values
    np.testing.assert_array_equal(x3, x1)
    np.testing.assert_array_equal(f3, f1)
    assert x3.flags.owndata and f3.flags.owndata  # private copies, not views of the shared memory


def _failing_in_children(monkeypatch, action):
    parent, real = os.getpid(), orbits._iterate_part

    def part(*args, **kw):
        if os.getpid() != parent:
            action()
        return real(*args, **kw)

    monkeypatch.setattr(orbits, "_iterate_part", part)


def test_a_failed_child_part_is_redone_in_the_parent(monkeypatch):
    m = _model()
    cv = np.linspace(-44.0, -36.0, 30)
    ref = iterate_model(m, cv, 300, 20, processes=1)

    def fail():
        raise RuntimeError("child fails")

    _failing_in_children(monkeypatch, fail)
    x, f = iterate_model(m, cv, 300, 20, processes=2)
    np.testing.assert_array_equal(x, ref[0])
    np.testing.assert_array_equal(f, ref[1])


def test_a_hung_child_is_stopped_and_its_part_redone(monkeypatch):
    m = _model()
    cv = np.linspace(-44.0, -36.0, 30)
    ref = iterate_model(m, cv, 300, 20, processes=1)
    _failing_in_children(monkeypatch, lambda: time.sleep(3600))
    monkeypatch.setattr(orbits, "CHILD_WAIT_S", 0.5)
    t0 = time.perf_counter()
    x, f = iterate_model(m, cv, 300, 20, processes=2)
    assert time.perf_counter() - t0 < 30.0
    np.testing.assert_array_equal(x, ref[0])
    np.testing.assert_array_equal(f, ref[1])


def test_default_split_needs_enough_values_per_process():
    from dynamap._core.forking import default_jobs

    m = _model()
    assert orbits.sweep_processes(m, orbits.SPLIT_MIN_VALUES - 1) == 1
    assert orbits.sweep_processes(m, 10_000) == default_jobs(m.config.num_threads)
    assert orbits.sweep_processes(m, 2 * orbits.SPLIT_MIN_VALUES) == min(2, default_jobs(1))


def test_largest_exponent_fast_path_matches_qr_on_the_same_orbit():
    """Oracle: the QR path (:func:`dynamap.analysis.lyapunov.lyapunov_map`, k = 1, the exact Jacobian
    by autograd) on the same orbits from the same tangent vector (the first column of its seeded
    random basis): forward-mode tangents renormalised every step are the same computation, so the two
    agree to float64 round-off (1e-9 per step over 1500 steps)."""
    from dynamap.analysis.lyapunov import lyapunov_map

    lm = _model().as_system()
    p = np.array([[-42.0], [-40.0], [-38.0]])
    x0 = lm.initial_states(p)
    for _ in range(200):  # onto the attractor first
        x0 = lm.step(x0, p)
    q0, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((lm.dim, lm.dim)))  # lyapunov_map's seed 0
    fast = lm.largest_lyapunov(x0, p, 1500, v0=np.tile(q0[:, 0], (3, 1)))
    qr = lyapunov_map(lm, x0, p, n_steps=1500, n_transient=0, k=1, seed=0)[:, 0]
    np.testing.assert_allclose(fast, qr, rtol=0, atol=1e-9)
    assert np.all(np.abs(qr) > 1e-3)  # not trivially zero
    default = lm.largest_lyapunov(x0, p, 1500)  # its own random start: the same exponent, up to O(1/n)
    np.testing.assert_allclose(default, qr, rtol=0, atol=5e-3)


def test_stacked_maps_step_as_each_map_alone():
    """iterate_stacked (K maps in one batched product per layer) gives each map's own orbit."""
    import torch

    from dynamap.models.map import ParametricMap
    from dynamap.training._seeding import build
    from dynamap.training.selection import iterate, iterate_stacked

    gen = torch.Generator().manual_seed(3)
    nets = [build(ParametricMap, 3, 16, 2, "tanh", True, gen=gen).eval() for _ in range(3)]
    with torch.no_grad():
        for k, n in enumerate(nets):
            n.out_scale.fill_(0.3)
            n.lo.fill_(-2.0 + 0.5 * k)  # a different box per map, tight enough to clamp
            n.hi.fill_(2.0)
    z0 = torch.randn(5, 3, generator=gen)
    c = torch.randn(5, 1, generator=gen)
    both = iterate_stacked(nets, z0, c, 60)
    assert both.shape == (15, 60, 3)
    for k, n in enumerate(nets):
        alone = iterate(n, z0, c, 60)
        torch.testing.assert_close(both[5 * k : 5 * (k + 1)], alone, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(both[:5], both[5:10])
