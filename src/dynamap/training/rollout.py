"""The rollout trainer of the MLP family (:class:`~dynamap.models.map.ParametricMap`): multi-step
rollouts from noisy starts with clean targets, a curriculum of horizons, checkpoints taken every
``select_every`` steps after the first stage for the free-run selection (:mod:`.selection`)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..embedding.delay import same_segment_ahead
from ..models.map import ParametricMap
from . import _bptt
from ._seeding import build
from .config import MLPConfig

__all__ = ["new_mlp_map", "rollout_loss", "train_rollout"]


def new_mlp_map(dim: int, cfg: MLPConfig, gen: torch.Generator) -> ParametricMap:
    """A fresh map near the identity (small increments)."""
    fmap = build(ParametricMap, dim, *cfg.architecture(), gen=gen)
    with torch.no_grad():
        fmap.net[-1].weight.mul_(0.1)
        fmap.net[-1].bias.zero_()
    return fmap


def rollout_loss(fmap: ParametricMap, z: torch.Tensor, c: torch.Tensor, tgt: torch.Tensor,
                 horizon: int) -> torch.Tensor:
    """Mean squared error of a free rollout of ``horizon`` steps from ``z`` against ``tgt[:, 1:]``."""
    loss = 0.0
    for j in range(1, horizon + 1):
        z = fmap(z, c)
        loss = loss + ((z - tgt[:, j]) ** 2).mean(-1).mean()
    return loss / horizon


def train_rollout(job) -> int:
    """Train ``job.fmap`` (a :class:`~dynamap.training.map.MapJob`) through the curriculum, adding
    checkpoints to ``job.checkpoints``; returns the number of optimiser steps."""
    fmap, cfg, gen, rng, hist = job.fmap, job.cfg, job.gen, job.rng, job.hist
    u = torch.from_numpy(np.concatenate(job.latents).astype(np.float32))
    seg = np.concatenate([np.full(x.shape[0], i) for i, x in enumerate(job.latents)])
    cvec = torch.tensor(np.asarray(job.c_norm, dtype=np.float32)[seg])[:, None]
    total_steps = int(sum(cfg.stage_steps))
    opt = torch.optim.Adam(fmap.parameters(), lr=cfg.lr, fused=True)
    by_hand, work = _bptt.supports(fmap), {}  # the rollout gradient by hand (same values, faster)
    gamma = (cfg.lr_final / cfg.lr) ** (1.0 / max(total_steps, 1))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
    stages = list(zip(cfg.horizons, cfg.stage_steps))
    step = 0
    bar = tqdm(total=sum(n for _, n in stages), desc=job.label, disable=not job.progress, leave=False)
    for stage, (horizon, n_steps) in enumerate(stages):
        valid = np.flatnonzero(same_segment_ahead(seg, horizon))
        offs = torch.arange(horizon + 1)
        bs = max(cfg.batch_size, cfg.states_per_batch // horizon)
        acc = []
        noise = cfg.noise
        for _ in range(n_steps):
            k0 = torch.from_numpy(rng.choice(valid, bs))
            tgt = u[k0[:, None] + offs[None, :]]  # (B, H+1, d)
            c = cvec[k0]
            if cfg.c_noise > 0:  # jitter the control input: nearby c values behave alike
                c = c + cfg.c_noise * torch.randn(c.shape, generator=gen)
            # noisy start, clean target: the map learns to pull perturbed states back to the data
            z = tgt[:, 0] + noise * torch.randn(tgt[:, 0].shape, generator=gen)
            if by_hand:
                loss = _bptt.rollout_loss_grad(fmap, z, c, tgt, horizon, work)
            else:
                opt.zero_grad(set_to_none=True)
                loss = rollout_loss(fmap, z, c, tgt, horizon)
                loss.backward()
                loss = float(loss.detach())
            torch.nn.utils.clip_grad_norm_(fmap.parameters(), cfg.grad_clip)
            opt.step()
            sched.step()
            acc.append(loss)
            step += 1
            bar.update(1)
            if len(acc) == 50:
                hist["loss"].append(float(np.mean(acc)))
                hist["stage_of_step"].append(stage)
                acc = []
            if stage > 0 and step % cfg.select_every == 0:
                job.checkpoints.add(step)
    bar.close()
    return step
