"""The rollout loss and its gradient by hand-written backpropagation through time.

The map is tiny (64 x 2 tanh units) and the rollouts are long (up to 48 steps), so much of autograd's
cost is bookkeeping: about 40 small operations per rollout step, each with its graph node.
For the plain tanh :class:`~dynamap.models.map.ParametricMap` (control as an input, residual, box
clamp) this module computes the same loss and gradient with about 14 operations per step:

* forward: each step is a few ``addmm`` into preallocated time-major buffers and numpy's in-place
  tanh (faster than torch's float32 tanh on CPU); the control's share of the first layer is computed
  once per batch; ``out_scale`` is folded into the last layer;
* backward: only the chain through the state is sequential (three products per step); the weight
  gradients are one large product per layer over all steps at once.

The result equals autograd's up to float32 round-off (``tests/test_bptt.py`` checks it).
:func:`supports` says whether a map qualifies; the trainer falls back to autograd otherwise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..models.map import ParametricMap, is_plain_tanh

__all__ = ["supports", "rollout_loss_grad"]


def _linears(fmap: ParametricMap) -> list[torch.nn.Linear]:
    return [m for m in fmap.net if isinstance(m, torch.nn.Linear)]


def supports(fmap: torch.nn.Module) -> bool:
    """Whether ``fmap`` is a residual :class:`ParametricMap` with c as an input and tanh units
    (:func:`~dynamap.models.map.is_plain_tanh`)."""
    return is_plain_tanh(fmap)


class _Weights(NamedTuple):
    """The map's parameters, detached and laid out for the forward and backward passes."""

    w: list[torch.Tensor]          # the layers' weights
    b: list[torch.Tensor]          # the layers' biases
    scale: torch.Tensor            # out_scale
    w_in: torch.Tensor             # (d, h0): the first layer's state columns, transposed
    cb0: torch.Tensor              # (B, h0): the first layer's bias plus the control's share
    w_mid: list[torch.Tensor]      # (h_{i-1}, h_i): the hidden layers' weights, transposed
    w_scaled: torch.Tensor         # (d, h_last): the last layer with out_scale folded in
    w_out: torch.Tensor            # its transpose
    b_out: torch.Tensor            # the last layer's bias times out_scale
    lo: torch.Tensor               # the state box
    hi: torch.Tensor


def _buffer(work: dict, name: str, *shape: int) -> torch.Tensor:
    """The buffer ``name`` of ``work``, allocated (uninitialised) when missing or of another shape."""
    t = work.get(name)
    if t is None or t.shape != shape:
        t = work[name] = torch.empty(shape)
    return t


def _weights(fmap: ParametricMap, lins: list[torch.nn.Linear], c: torch.Tensor, d: int) -> _Weights:
    """The parameters of ``fmap`` (its linear layers ``lins``, state dimension ``d``) for controls ``c``."""
    w = [lin.weight.detach() for lin in lins]
    b = [lin.bias.detach() for lin in lins]
    scale = fmap.out_scale.detach()
    w_in = w[0][:, :d].T.contiguous()                 # (d, h0)
    cb0 = torch.addmm(b[0], c, w[0][:, d:].T)         # (B, h0): bias plus the control's share
    w_mid = [wi.T.contiguous() for wi in w[1:-1]]     # (h_{i-1}, h_i)
    w_scaled = (w[-1] * scale[:, None]).contiguous()  # (d, h_last), out_scale folded in
    w_out, b_out = w_scaled.T.contiguous(), b[-1] * scale
    lo, hi = fmap.lo.detach(), fmap.hi.detach()
    return _Weights(w, b, scale, w_in, cb0, w_mid, w_scaled, w_out, b_out, lo, hi)


def _forward(p: _Weights, z: torch.Tensor, horizon: int, hs: list[int], work: dict):
    """The rollout from ``z``: states Z[0..H], activations A[i][j] and pre-clamp states Y[j]."""
    n_b, d = z.shape
    zs = _buffer(work, "z", horizon + 1, n_b, d)
    zs[0] = z
    acts = [_buffer(work, f"a{i}", horizon, n_b, h) for i, h in enumerate(hs)]
    ys = _buffer(work, "y", horizon, n_b, d)
    views = [a.numpy() for a in acts]
    for j in range(horizon):
        torch.addmm(p.cb0, zs[j], p.w_in, out=acts[0][j])
        np.tanh(views[0][j], out=views[0][j])
        for i, wm in enumerate(p.w_mid, 1):
            torch.addmm(p.b[i], acts[i - 1][j], wm, out=acts[i][j])
            np.tanh(views[i][j], out=views[i][j])
        torch.addmm(p.b_out, acts[-1][j], p.w_out, out=ys[j])
        ys[j].add_(zs[j])
        torch.clamp(ys[j], p.lo, p.hi, out=zs[j + 1])
    return zs, acts, ys


def _backward(p: _Weights, resid: torch.Tensor, norm: float, ys: torch.Tensor, acts: list[torch.Tensor],
              hs: list[int], work: dict):
    """Backward through the state chain from the residuals ``resid`` (scaled in place to dL/dz);
    returns dL/dy and G[i][j] = dL/d(pre-activation of layer i) at step j."""
    horizon, n_b, d = resid.shape
    passed = _buffer(work, "m", horizon, n_b, d)       # clamp's gradient (as torch.clamp's)
    passed.copy_(torch.logical_and(ys >= p.lo, ys <= p.hi))
    resid.mul_(2.0 * norm)                             # dL/dz from each step's own error
    dact = [torch.mul(a, a, out=_buffer(work, f"da{i}", *a.shape)).neg_().add_(1.0)  # tanh' = 1 - tanh^2
            for i, a in enumerate(acts)]
    w_mid_t = [wi.contiguous() for wi in p.w[1:-1]]
    w_in_t = p.w[0][:, :d].contiguous()
    g_out = _buffer(work, "gy", horizon, n_b, d)       # dL/dy (the scaled last layer's output)
    g_hid = [_buffer(work, f"g{i}", horizon, n_b, h) for i, h in enumerate(hs)]
    gz = _buffer(work, "gz", n_b, d).zero_()           # dL/dz of the state after step j
    for j in range(horizon - 1, -1, -1):
        gz.add_(resid[j])
        torch.mul(gz, passed[j], out=g_out[j])
        g = g_hid[-1][j]
        torch.mm(g_out[j], p.w_scaled, out=g).mul_(dact[-1][j])
        for i in range(len(p.w_mid) - 1, -1, -1):
            g = torch.mm(g, w_mid_t[i], out=g_hid[i][j]).mul_(dact[i][j])
        torch.addmm(g_out[j], g, w_in_t, out=gz)       # dL/dz of the step's start state
    return g_out, g_hid


def _flat(t: torch.Tensor) -> torch.Tensor:
    """``t`` with all but its last axis merged."""
    return t.reshape(-1, t.shape[-1])


def _weight_grads(lins: list[torch.nn.Linear], zs: torch.Tensor, c: torch.Tensor, acts: list[torch.Tensor],
                  g_hid: list[torch.Tensor], g_out: torch.Tensor, scale: torch.Tensor, horizon: int) -> None:
    """The layers' weight and bias gradients, one product per layer over all steps, into ``.grad``."""
    first = torch.cat([_flat(zs[:-1]), c.repeat(horizon, 1)], 1)
    inputs = [first] + [_flat(a) for a in acts]
    grads_out = [_flat(g) for g in g_hid] + [_flat(g_out) * scale]
    for lin, x, g in zip(lins, inputs, grads_out):
        lin.weight.grad = g.T @ x
        lin.bias.grad = g.sum(0)


def rollout_loss_grad(fmap: ParametricMap, z: torch.Tensor, c: torch.Tensor, tgt: torch.Tensor,
                      horizon: int, work: dict | None = None) -> float:
    """The mean squared error of a free rollout of ``horizon`` steps from ``z`` (B, d) with controls
    ``c`` (B, 1) against ``tgt[:, 1:]`` ((B, H + 1, d)), averaged over the steps; writes its gradient
    into the ``.grad`` of ``fmap``'s parameters (replacing what was there) and returns the loss.

    ``work``: a dict kept between calls, where the time-major buffers are reused (fresh large buffers
    cost page faults on each call)."""
    lins = _linears(fmap)
    n_b, d = z.shape
    hs = [lin.out_features for lin in lins[:-1]]
    work = {} if work is None else work
    with torch.no_grad():
        p = _weights(fmap, lins, c, d)
        zs, acts, ys = _forward(p, z, horizon, hs, work)
        resid = torch.sub(zs[1:], tgt[:, 1:].transpose(0, 1), out=_buffer(work, "r", horizon, n_b, d))
        norm = 1.0 / (n_b * d * horizon)
        loss = float(resid.pow(2).sum()) * norm
        g_out, g_hid = _backward(p, resid, norm, ys, acts, hs, work)
        _weight_grads(lins, zs, c, acts, g_hid, g_out, p.scale, horizon)
    return loss
