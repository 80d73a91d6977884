"""The parametric neural-network map u(n+1) = F(u(n), c) (Kuptsov & Stankevich 2025, step 4): the MLP
family.

Residual form (our choice): F(u, c) = u + g([u, c]) with g an MLP, so the identity (slow motion) is
the easy default and the network learns the increment, in units of ``out_scale``. ``c`` is the
normalised control input. The output is clamped into a box around the data (buffers ``lo``, ``hi``):
a free orbit that leaves the region the map was trained on cannot run away to infinity.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import StateMap, with_run
from .vae import mlp

__all__ = ["iterate_into", "ParametricMap", "fast_stepper", "plain_stepper", "stacked_stepper", "is_plain_tanh"]


class ParametricMap(StateMap):
    """Batched map: (B, d) states and (B, 1) normalised control inputs -> (B, d)."""

    family = "mlp"

    def __init__(self, dim: int, hidden: int, depth: int, activation: str, residual: bool = True):
        super().__init__()
        self.dim = dim
        self.residual = residual
        self.net = mlp(dim + 1, dim, hidden, depth, activation)
        #: per-dimension scale of the network output (set by the trainer to the increment std)
        self.register_buffer("out_scale", torch.ones(dim))
        #: state box: outputs are clamped into [lo, hi] (set by the trainer around the data; +-inf: off)
        self.register_buffer("lo", torch.full((dim,), -torch.inf))
        self.register_buffer("hi", torch.full((dim,), torch.inf))

    def forward(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([u, c], dim=-1)) * self.out_scale
        out = u + out if self.residual else out
        return torch.clamp(out, self.lo, self.hi)

    def stepper(self, c: torch.Tensor):
        """:func:`plain_stepper` of this map."""
        return plain_stepper(self, c)


def _hidden_layers(lins: list, acts: list, c: torch.Tensor, d: int) -> list:
    """(weight, bias, buffer, activation, numpy view) per hidden layer, for transposed states (d, B);
    the first layer's control share folded into its bias (per row, in float64)."""
    hidden = []
    for i, (lin, act) in enumerate(zip(lins, acts)):
        w, b = lin.weight.detach(), lin.bias.detach()[:, None]
        if i == 0:  # (h, B): the control's share, once
            w64 = w.to(torch.float64)
            b = (b.to(torch.float64) + w64[:, d:] @ c.to(torch.float64).T).to(torch.float32)
            w = w[:, :d]
        buf = torch.empty(w.shape[0], c.shape[0])
        if isinstance(act, torch.nn.Tanh):
            fn, view = None, buf.numpy()
        elif isinstance(act, torch.nn.SiLU):
            fn, view = (lambda t: torch.nn.functional.silu(t, inplace=True)), None
        else:
            fn, view = act, None
        hidden.append((w.contiguous(), b.contiguous(), buf, fn, view))
    return hidden


def fast_stepper(net: StateMap, c: torch.Tensor, d: int | None = None):
    """The map's own step function (:meth:`StateMap.stepper <dynamap.models.base.StateMap.stepper>`)
    at the per-column controls ``c`` (B, 1); ``d`` is ignored (the map knows its dimension)."""
    return net.stepper(c)


def plain_stepper(net: ParametricMap, c: torch.Tensor):
    """A step function ``step(z_t, out) -> out`` for states kept TRANSPOSED, (d, B): it writes
    F(z, c)^T into ``out`` (which must not be ``z_t``) for the fixed per-row controls ``c`` (B, 1).

    Equal to ``net(z, c)`` up to float32 round-off and cheaper per step (the map is iterated tens of
    thousands of times on a small batch, so per-call costs and the activation dominate): the control's
    share of the first layer is computed once per row (in float64); the d-output last layer is a
    (d, h) @ (h, B) product with ``out_scale`` folded in (in float64, rounded once) and the residual
    added after it (as the module rounds); preallocated buffers, in-place activations; tanh is numpy's,
    in place on the buffer's memory (as accurate as torch's, faster on CPU, and an element's result
    does not depend on where it sits in the array). Each column is computed on its own, so a value's
    orbit does not depend on the batch around it once the batch has whole tiles of
    :data:`dynamap.models._orbits.MIN_BATCH_COLUMNS` columns."""
    d = int(net.dim)
    c = c.detach().to(torch.float32)
    layers = list(net.net)
    lins, acts = layers[0::2], layers[1::2]
    hidden = _hidden_layers(lins, acts, c, d)
    scale = net.out_scale.detach().to(torch.float64)[:, None]
    w_out = (lins[-1].weight.detach().to(torch.float64) * scale).to(torch.float32).contiguous()
    b_out = (lins[-1].bias.detach().to(torch.float64)[:, None] * scale).to(torch.float32).contiguous()
    inc = torch.empty(d, c.shape[0])
    lo, hi = net.lo.detach()[:, None].to(torch.float32), net.hi.detach()[:, None].to(torch.float32)
    clamp = not (bool(torch.all(lo == -torch.inf)) and bool(torch.all(hi == torch.inf)))
    residual = bool(net.residual)

    def step(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        h = z_t
        for w, b, buf, fn, view in hidden:
            torch.addmm(b, w, h, out=buf)
            if view is not None:
                np.tanh(view, out=view)
                h = buf
            else:
                h = fn(buf)
        if residual:
            torch.add(z_t, torch.addmm(b_out, w_out, h, out=inc), out=out)
        else:
            torch.addmm(b_out, w_out, h, out=out)
        return out.clamp_(lo, hi) if clamp else out

    return with_run(step)


def is_plain_tanh(net: torch.nn.Module) -> bool:
    """Whether ``net`` is a residual :class:`ParametricMap` with c as an input and a plain
    Linear/tanh network (the maps that :func:`stacked_stepper` and the trainer's hand-written
    rollout gradient compute directly)."""
    if not isinstance(net, ParametricMap) or not net.residual:
        return False
    layers = list(net.net)
    return (len(layers) % 2 == 1 and len(layers) >= 3
            and all(isinstance(m, torch.nn.Linear) for m in layers[0::2])
            and all(isinstance(m, torch.nn.Tanh) for m in layers[1::2]))


def stacked_stepper(nets: list[ParametricMap], c: torch.Tensor):
    """A step function ``step(z_t, out) -> out`` that iterates K maps side by side: states (K, d, B),
    map k on slice k, all with the per-column controls ``c`` (B, 1). For plain tanh maps with c as an
    input (as :func:`fast_stepper` computes them, in one batched product per layer for all K maps, so
    that the cost of evaluating K checkpoints is close to that of one); other maps step one by one
    through :func:`fast_stepper`. Equal to each map's own step up to float32 round-off."""
    first = nets[0]
    if not all(is_plain_tanh(n) for n in nets):
        steps = [fast_stepper(n, c) for n in nets]

        def each(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            for k, st in enumerate(steps):
                st(z_t[k], out[k])
            return out

        def run_each(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:  # blocks of steps, map by map
            for k, st in enumerate(steps):
                st.run(z_t[k], out[:, k])
            return out[-1]

        each.run = run_each
        return each
    d, n_b, n_k = first.dim, c.shape[0], len(nets)
    c64 = c.detach().to(torch.float64)
    lins = [[m for m in n.net if isinstance(m, torch.nn.Linear)] for n in nets]
    with torch.no_grad():
        hidden = []
        for i in range(len(lins[0]) - 1):
            w = torch.stack([ls[i].weight.detach() for ls in lins])          # (K, h, in)
            b = torch.stack([ls[i].bias.detach() for ls in lins])[:, :, None]  # (K, h, 1)
            if i == 0:  # the control's share of the first layer, once per column (in float64)
                b = (b.to(torch.float64) + w[:, :, d:].to(torch.float64) @ c64.T).to(torch.float32)
                w = w[:, :, :d]
            else:
                b = b.expand(-1, -1, n_b)
            buf = torch.empty(n_k, w.shape[1], n_b)
            hidden.append((w.contiguous(), b.contiguous(), buf, buf.numpy()))
        scale = torch.stack([n.out_scale.detach().to(torch.float64) for n in nets])[:, :, None]
        w_out = (torch.stack([ls[-1].weight.detach().to(torch.float64) for ls in lins]) * scale
                 ).to(torch.float32).contiguous()
        b_out = (torch.stack([ls[-1].bias.detach().to(torch.float64) for ls in lins])[:, :, None] * scale
                 ).to(torch.float32).expand(-1, -1, n_b).contiguous()
        lo = torch.stack([n.lo.detach() for n in nets])[:, :, None].to(torch.float32)
        hi = torch.stack([n.hi.detach() for n in nets])[:, :, None].to(torch.float32)
    inc = torch.empty(n_k, d, n_b)

    def step(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        h = z_t
        for w, b, buf, view in hidden:
            torch.baddbmm(b, w, h, out=buf)
            np.tanh(view, out=view)
            h = buf
        torch.add(z_t, torch.baddbmm(b_out, w_out, h, out=inc), out=out)
        return out.clamp_(lo, hi)

    return with_run(step)


def iterate_into(step, z_t: torch.Tensor, out: torch.Tensor, *, block: int = 0, on_block=None) -> torch.Tensor:
    """The step loop of a map's stepper: ``out[k] = step(out[k - 1])`` from the transposed state
    ``z_t`` (d, B) into the time-major buffer ``out`` (n, d, B), a block at a time by ``step.run``; with
    ``block`` > 0, ``on_block(k0, k)`` is called after every ``block`` steps and after the last.
    Returns the last state."""
    n, k0 = out.shape[0], 0
    size = block if block > 0 else n
    while k0 < n:
        k = min(n, k0 + size)
        z_t = step.run(z_t, out[k0:k])
        if on_block is not None:
            on_block(k0, k)
        k0 = k
    return z_t
