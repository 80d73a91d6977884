"""The hand-written rollout gradient (training/_bptt.py) against autograd on the same rollout."""

import pytest
import torch

from dynamap.models.map import ParametricMap
from dynamap.training._bptt import rollout_loss_grad, supports
from dynamap.training._seeding import build


def _autograd(fmap, z, c, tgt, horizon):
    loss = 0.0
    for j in range(1, horizon + 1):
        z = fmap(z, c)
        loss = loss + ((z - tgt[:, j]) ** 2).mean(-1).mean()
    loss = loss / horizon
    fmap.zero_grad(set_to_none=True)
    loss.backward()
    return float(loss.detach()), [p.grad.clone() for p in fmap.parameters()]


@pytest.mark.parametrize("depth,horizon,box", [(2, 1, False), (2, 16, True), (3, 5, True), (1, 7, False)])
def test_the_hand_written_gradient_is_autograd_s(depth, horizon, box):
    gen = torch.Generator().manual_seed(depth * 100 + horizon)
    d = 3
    fmap = build(ParametricMap, d, 16, depth, "tanh", True, gen=gen)
    with torch.no_grad():
        fmap.out_scale.copy_(torch.tensor([0.5, 1.0, 2.0]))
        if box:  # a tight box, so that some steps are clamped and the clamp's gradient is exercised
            fmap.lo.fill_(-0.6)
            fmap.hi.fill_(0.6)
    n_b = 37
    tgt = torch.randn(n_b, horizon + 1, d, generator=gen) * 0.5
    z = tgt[:, 0] + 0.1 * torch.randn(n_b, d, generator=gen)
    c = torch.randn(n_b, 1, generator=gen)
    want_loss, want = _autograd(fmap, z, c, tgt, horizon)
    assert supports(fmap)
    got_loss = rollout_loss_grad(fmap, z, c, tgt, horizon)
    assert got_loss == pytest.approx(want_loss, rel=1e-5)
    for p, w in zip(fmap.parameters(), want):
        assert p.grad.shape == w.shape
        torch.testing.assert_close(p.grad, w, rtol=1e-4, atol=1e-6 * float(w.abs().max()))
    if box:  # the box really clamped something
        with torch.no_grad():
            y = fmap(z, c)
        assert bool(((y == 0.6) | (y == -0.6)).any())


def test_other_maps_are_left_to_autograd():
    gen = torch.Generator().manual_seed(0)
    assert not supports(build(ParametricMap, 2, 8, 2, "silu", True, gen=gen))
    assert not supports(build(ParametricMap, 2, 8, 2, "tanh", False, gen=gen))
