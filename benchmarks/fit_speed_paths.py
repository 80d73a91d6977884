"""The fit's fast paths against the paths they replaced, measured side by side in one run.

Usage: OMP_NUM_THREADS=1 python benchmarks/fit_speed_paths.py [--repeat 30]

Prints, for a default-sized map (4 states, 64 x 2 tanh units):

* the rollout loss and its gradient per optimiser step at each stage of the default schedule
  (horizon, batch): autograd (the old path, still used for other maps) vs the hand-written
  backpropagation through time of ``dynamap.training._bptt``; both gradients are compared too (at
  one step the two are about even: that stage is arithmetic, not bookkeeping);
* one Adam step: the per-tensor loop vs the fused kernel;
* scoring 8 selection checkpoints (8000-step free runs from 6 starts): one map after another
  (``iterate``) vs side by side (``iterate_stacked``).

Each pair runs alternately in the same process, so load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import time

import torch

from dynamap.models.map import ParametricMap
from dynamap.training._bptt import rollout_loss_grad
from dynamap.training._seeding import build
from dynamap.training.rollout import rollout_loss as _rollout_loss
from dynamap.training.selection import iterate, iterate_stacked


def _pair(fn_old, fn_new, repeat: int) -> tuple[float, float]:
    """Median seconds per call of each, measured alternately."""
    for _ in range(3):
        fn_old(), fn_new()
    old, new = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn_old()
        t1 = time.perf_counter()
        fn_new()
        t2 = time.perf_counter()
        old.append(t1 - t0)
        new.append(t2 - t1)
    old.sort(), new.sort()
    return old[len(old) // 2], new[len(new) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    d = 4
    fmap = build(ParametricMap, d, 64, 2, "tanh", True, gen=gen)
    print("rollout loss + gradient per optimiser step (default schedule: horizon, batch)")
    total_old = total_new = 0.0
    for horizon, batch, steps in ((1, 1024, 8000), (4, 256, 1000), (16, 128, 1000), (48, 128, 1000)):
        tgt = torch.randn(batch, horizon + 1, d, generator=gen) * 0.5
        c = torch.randn(batch, 1, generator=gen)
        z = tgt[:, 0]
        work: dict = {}

        def old():
            fmap.zero_grad(set_to_none=True)
            _rollout_loss(fmap, z, c, tgt, horizon).backward()

        def new():
            rollout_loss_grad(fmap, z, c, tgt, horizon, work)

        t_old, t_new = _pair(old, new, args.repeat)
        old()
        want = [p.grad.clone() for p in fmap.parameters()]
        new()
        err = max(float((p.grad - w).abs().max() / w.abs().max()) for p, w in zip(fmap.parameters(), want))
        total_old += steps * t_old
        total_new += steps * t_new
        print(f"  H={horizon:2d} B={batch:4d}: autograd {t_old * 1e3:6.2f} ms, by hand {t_new * 1e3:6.2f} ms, "
              f"ratio {t_old / t_new:4.2f}x (max gradient difference {err:.1e} of the largest entry)")
    print(f"  the default schedule's 11000 steps: {total_old:.1f} s -> {total_new:.1f} s, "
          f"ratio {total_old / total_new:.2f}x")

    params = [p.detach().clone().requires_grad_() for p in fmap.parameters()]
    for p in params:
        p.grad = torch.randn_like(p)
    plain = torch.optim.Adam(params, lr=1e-3, foreach=False)
    fused = torch.optim.Adam(params, lr=1e-3, fused=True)
    t_old, t_new = _pair(plain.step, fused.step, args.repeat * 10)
    print(f"Adam step: per tensor {t_old * 1e6:.0f} us, fused {t_new * 1e6:.0f} us, ratio {t_old / t_new:.2f}x")

    nets = [build(ParametricMap, d, 64, 2, "tanh", True, gen=gen).eval() for _ in range(8)]
    z0 = torch.randn(6, d, generator=gen) * 0.5
    c0 = torch.randn(6, 1, generator=gen)
    t_old, t_new = _pair(lambda: [iterate(n, z0, c0, 8000) for n in nets],
                         lambda: iterate_stacked(nets, z0, c0, 8000), max(3, args.repeat // 10))
    print(f"8 checkpoints' free runs (8000 steps x 6 starts): one by one {t_old:.2f} s, side by side "
          f"{t_new:.2f} s, ratio {t_old / t_new:.2f}x")


if __name__ == "__main__":
    main()
