"""The delay map's fast paths against the paths they replaced, measured side by side in one run.

Usage: python benchmarks/delay_paths.py [--batch 208] [--steps 3000] [--rows 30000] [--repeat 3]

Prints, for a default-sized delay map (6 taps, lag 3, 300 random tanh features):

* free-run steps of ``--batch`` runs: the torch step (one call per step: index_select, two addmm,
  numpy's in-place tanh; the old path) vs the compiled loop of ``dynamap.models._delay_kernel``
  (whole blocks of steps in one call), and their largest difference after one step;
* the ridge readouts of 4 segments of ``--rows`` rows each, 2 penalties: the full design [phi, c phi]
  in numpy (the old path: 4x the products, numpy's float64 tanh) vs the per-segment Gram blocks in
  torch (``dynamap.training._ridge``), and their largest difference.

Each pair runs alternately in the same process, so load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from dynamap.models.delay_map import DelayMap
from dynamap.models.map import iterate_into
from dynamap.training._ridge import ridge_readouts


def torch_stepper(m: DelayMap, c: torch.Tensor):
    """The old step of DelayMap.stepper: torch operations on preallocated buffers, one call per step."""
    n_b = c.shape[0]
    c_row = c.detach().to(torch.float32).T.contiguous()[0]
    r = m.readout.detach().to(torch.float32)
    r0, r_lin, r_feat = r[:, :1].contiguous(), r[:, 1 : 1 + m.taps].contiguous(), r[:, 1 + m.taps :].contiguous()
    w, b = m.w_in.to(torch.float32).contiguous(), m.b_in.to(torch.float32)[:, None].contiguous()
    x, h, v = torch.empty(m.taps, n_b), torch.empty(m.width, n_b), torch.empty(2, n_b)
    hv = h.numpy()
    lo, hi = float(m.lo[0]), float(m.hi[0])

    def step(z_t, out):
        torch.index_select(z_t, 0, m.tap_index, out=x)
        torch.addmm(b, w, x, out=h)
        np.tanh(hv, out=hv)
        torch.addmm(r0, r_feat, h, out=v)
        v.addmm_(r_lin, x)
        new = out[0]
        torch.mul(v[1], c_row, out=new)
        new.add_(v[0]).add_(z_t[0]).clamp_(lo, hi)
        out[1:].copy_(z_t[:-1])
        return out

    return step


def old_ridge(fmap: DelayMap, states, c_norm, noise, penalties, rng):
    """The old ridge readouts: the full design [phi, c phi] in numpy."""
    idx, w = fmap.tap_index.numpy(), fmap.w_in.numpy().astype(np.float64)
    bias = fmap.b_in.numpy().astype(np.float64)
    n_phi = 1 + fmap.taps + fmap.width
    gram, rhs = np.zeros((2 * n_phi, 2 * n_phi)), np.zeros(2 * n_phi)
    for x, cv in zip(states, c_norm):
        taps = x[:-1][:, idx].astype(np.float64) + noise * rng.standard_normal((x.shape[0] - 1, idx.size))
        phi = np.empty((taps.shape[0], n_phi))
        phi[:, 0] = 1.0
        phi[:, 1 : 1 + fmap.taps] = taps
        np.tanh(taps @ w.T + bias, out=phi[:, 1 + fmap.taps :])
        design = np.concatenate([phi, float(cv) * phi], axis=1)
        target = x[1:, 0].astype(np.float64) - taps[:, 0]
        gram += design.T @ design
        rhs += design.T @ target
    scale = float(np.mean(np.diag(gram)))
    return [np.linalg.solve(gram + lam * scale * np.eye(gram.shape[0]), rhs) for lam in penalties]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=208)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--rows", type=int, default=30000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    m = DelayMap(6, 3, 300)
    m.init_features(torch.Generator().manual_seed(0))
    gen = np.random.default_rng(0)
    segs = [(0.5 * gen.standard_normal((a.rows, m.dim))).astype(np.float32) for _ in range(4)]
    c_norm = [-1.0, -0.3, 0.3, 1.0]
    (state,) = ridge_readouts(m, segs, c_norm, 0.1, [1e-4], np.random.default_rng(0))
    m.load_state_dict(state)
    with torch.no_grad():
        m.lo.fill_(-3.0)
        m.hi.fill_(3.0)

    c = torch.linspace(-1.0, 1.0, a.batch)[:, None]
    z0 = torch.from_numpy(segs[0][: a.batch].T.copy())
    out = torch.empty(a.steps, m.dim, a.batch)
    old, new = torch_stepper(m, c), m.stepper(c)
    one_old, one_new = old(z0, torch.empty_like(z0)), new(z0, torch.empty_like(z0))
    diff = float((one_old - one_new).abs().max())
    t_old, t_new = [], []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        iterate_into(old, z0, out)
        t_old.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        iterate_into(new, z0, out)
        t_new.append(time.perf_counter() - t0)
    us_old, us_new = 1e6 * min(t_old) / a.steps, 1e6 * min(t_new) / a.steps
    print(f"free-run step, {a.batch} runs: torch ops {us_old:7.1f} us, compiled loop {us_new:7.1f} us "
          f"-> {us_old / us_new:4.2f}x (one-step difference {diff:.1e})")

    r_old, r_new = [], []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        ref = old_ridge(m, segs, c_norm, 0.1, [1e-6, 1e-4], np.random.default_rng(1))
        r_old.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = ridge_readouts(m, segs, c_norm, 0.1, [1e-6, 1e-4], np.random.default_rng(1))
        r_new.append(time.perf_counter() - t0)
    err = max(float(np.abs(g["readout"].numpy().ravel() - r).max()) for g, r in zip(got, ref))
    print(f"ridge readouts, 4 x {a.rows} rows: full design {min(r_old):6.2f} s, Gram blocks "
          f"{min(r_new):6.2f} s -> {min(r_old) / min(r_new):4.2f}x (largest readout difference {err:.1e})")


if __name__ == "__main__":
    main()
