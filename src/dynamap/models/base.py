"""The members every map family has: states (B, dim) and controls (B, 1) -> next states (B, dim).

A family overrides what it computes better; the defaults work for any module whose ``forward`` is
the map:

* ``stepper(c)``: a step function ``step(z_t, out) -> out`` on TRANSPOSED states (dim, B) at the
  per-column controls ``c`` (B, 1), with ``step.run(z_t, out)`` filling a time-major block ``out``
  (n, dim, B) and returning its last state (default: the module's forward, :func:`with_run`);
* ``log_growth(z, v, c, n_steps)``: the largest Lyapunov exponent's sums (default: forward-mode
  tangents in float64);
* ``spectrum_sums(z, q, c, n_transient, n_steps)``: the Lyapunov spectrum's sums (default: the QR
  loop of :func:`~dynamap.systems.tangent.tangent_sums` on the exact Jacobians of a float64 copy);
* ``releases_gil``: the stepper is compiled code that releases the GIL (parts of a batch may run
  in threads);
* ``shift_register``: the map writes only coordinate 0 of the state and shifts the rest (a delay
  map), so an orbit is the newest samples alone;
* ``spectrum_method``, ``spectrum_factor``: how its spectrum is computed, and over how many times a
  system's default orbit it is averaged (a compiled loop makes long orbits cheap).
"""

from __future__ import annotations

import copy
import warnings
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.func import jacrev, vmap

from ..systems.tangent import tangent_sums

__all__ = ["Float64Map", "StateMap", "with_run"]


def with_run(step):
    """``step`` with ``step.run(z_t, out)``: ``out[k] = step(out[k - 1])`` from ``z_t`` over a time-major
    block ``out`` (n, dim, B), returning ``out[-1]`` (families with a compiled block loop have their own)."""

    def run(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        for dest in out.unbind(0):
            z_t = step(z_t, dest)
        return out[-1]

    step.run = run
    return step


class Float64Map:
    """A map module in float64 as a batched system of normalised controls: ``step(x, c)`` and the
    exact ``jacobian(x, c)`` (torch.func, reverse mode, vmapped over rows) of states (B, dim) at
    controls (B, 1), on a frozen float64 copy of the module."""

    def __init__(self, module: nn.Module):
        net = copy.deepcopy(module).to(torch.float64).eval()
        for prm in net.parameters():
            prm.requires_grad_(False)
        self.net = net

    def step(self, x: np.ndarray, c) -> np.ndarray:
        with torch.no_grad():
            return self.net(torch.from_numpy(np.asarray(x, dtype=np.float64)), torch.as_tensor(c)).numpy()

    def jacobian(self, x: np.ndarray, c) -> np.ndarray:
        net = self.net
        f = lambda xi, ci: net(xi[None], ci[None])[0]  # noqa: E731
        return vmap(jacrev(f, argnums=0))(torch.from_numpy(np.asarray(x, dtype=np.float64)),
                                          torch.as_tensor(c)).numpy()


class StateMap(nn.Module):
    """Base of the map families (see the module)."""

    family: ClassVar[str] = ""
    releases_gil: ClassVar[bool] = False
    shift_register: ClassVar[bool] = False
    spectrum_method: ClassVar[str] = "exact Jacobian (autograd) products + QR"
    spectrum_factor: ClassVar[int] = 1

    def stepper(self, c: torch.Tensor):
        """The module's forward as a step on transposed states."""
        c = c.detach().to(torch.float32)
        return with_run(lambda z_t, out: out.copy_(self(z_t.T, c).T))

    def log_growth(self, z: np.ndarray, v: np.ndarray, c: np.ndarray, n_steps: int) -> np.ndarray:
        """Sums over ``n_steps`` steps of the log growth of unit tangents ``v`` (B, dim), renormalised
        every step, along the orbits from ``z`` (B, dim) at normalised controls ``c`` (B,), by
        torch.func.jvp of a float64 copy of the map."""
        from torch.func import jvp

        net = Float64Map(self).net
        x = torch.as_tensor(np.asarray(z, dtype=np.float64))
        v = torch.as_tensor(np.asarray(v, dtype=np.float64)).clone()
        cc = torch.as_tensor(np.asarray(c, dtype=np.float64))[:, None]
        acc = torch.zeros(x.shape[0], dtype=torch.float64)
        with torch.no_grad(), warnings.catch_warnings():
            # torch.func.jvp imports a torch-internal module that calls the deprecated torch.jit.script
            warnings.simplefilter("ignore", DeprecationWarning)
            for _ in range(n_steps):
                x, v = jvp(lambda s: net(s, cc), (x,), (v,))
                nrm = v.norm(dim=1, keepdim=True)
                acc += torch.log(nrm[:, 0])
                v = v / nrm
        return acc.numpy()

    def flow_sums(self, z: np.ndarray, v: np.ndarray, c: np.ndarray, n_steps: int, still: float
                  ) -> np.ndarray:
        """Sums (B, 3) over ``n_steps`` steps from ``z`` (B, dim) at normalised controls ``c`` (B,):
        of log |v| (v(m) = z(m+1) - z(m-1), the direction of motion at z(m)) over the first and over
        the last quarter of the steps, and of the log growth of the unit tangents ``v`` (B, dim) kept
        orthogonal to the motion (the largest exponent transverse to it; not projected where |v| is
        below ``still``; the first projection of ``v`` is not counted), by torch.func.jvp of a float64
        copy of the map (as :func:`dynamap.models._delay_kernel.flow_sums` for the delay map)."""
        from torch.func import jvp

        net = Float64Map(self).net
        cc = torch.as_tensor(np.asarray(c, dtype=np.float64))[:, None]
        prev = torch.as_tensor(np.asarray(z, dtype=np.float64))
        w = torch.as_tensor(np.asarray(v, dtype=np.float64)).clone()
        acc = torch.zeros(prev.shape[0], 3, dtype=torch.float64)
        quarter = max(1, n_steps // 4)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cur, w = jvp(lambda s: net(s, cc), (prev,), (w,))  # z(1) and the tangents there
            for step in range(-1, n_steps):  # step -1: the first projection, not counted
                nxt = net(cur, cc)
                mv = nxt - prev
                vn = mv.norm(dim=1, keepdim=True)
                if 0 <= step < quarter or step >= n_steps - quarter:
                    acc[:, 0 if step < quarter else 1] += torch.log(vn[:, 0].clamp_min(1e-300))
                vh = torch.where(vn > still, mv / vn.clamp_min(1e-300), torch.zeros_like(mv))
                for _ in range(2):
                    w = w - (w * vh).sum(1, keepdim=True) * vh
                nrm = w.norm(dim=1, keepdim=True)
                if step >= 0:
                    acc[:, 2] += torch.log(nrm[:, 0])
                w = w / nrm
                # the projected tangents at z(m) go on to z(m+1)
                _, w = jvp(lambda s: net(s, cc), (cur,), (w,))
                prev, cur = cur, nxt
        return acc.numpy()

    def spectrum_sums(self, z: np.ndarray, q: np.ndarray, c: np.ndarray, n_transient: int,
                      n_steps: int) -> np.ndarray:
        """Each row's sums of log stretches of its tangent basis ``q`` (B, dim, k) over the last
        ``n_steps`` of ``n_transient + n_steps`` steps from ``z`` (B, dim) at normalised controls
        ``c`` (B,): :func:`~dynamap.systems.tangent.tangent_sums` of :class:`Float64Map`."""
        c = np.asarray(c, dtype=np.float64).reshape(-1, 1)
        return tangent_sums(Float64Map(self), z, c, q, n_transient, n_steps)
