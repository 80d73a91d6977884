"""Choose the latent dimension D_r from the VAE training process (the paper's claim, our rule).

For each D in [latent_min, latent_max] a VAE is trained for the same number of steps and evaluated on
a fixed subset of windows with fixed noise, giving L(D). With too few units the loss stalls on a
plateau well above the rest; with enough units extra ones collapse onto the prior (per-unit KL ~ 0)
and L(D) stops falling. The rule (deterministic given the losses):

    D_r = min { D : L(D) - L_best <= dim_tol * (L(latent_min) - L_best) },  L_best = min_D L(D).

The number of active units (per-unit KL > active_kl) at each D is recorded as a second line of
evidence and is reported next to the choice.
"""

from __future__ import annotations

import numpy as np
import torch

from .._core.forking import run_forked
from ..embedding.delay import DelayWindows
from ..models.vae import VAE
from ._seeding import generators
from .config import VAEConfig
from .vae import evaluate_vae, fit_vae

__all__ = ["choose_latent_dim", "search_latent_dim"]


def choose_latent_dim(losses: dict[int, float], dim_tol: float) -> int:
    """Apply the rule to final evaluation losses {D: L(D)}."""
    dims = sorted(losses)
    best = min(losses.values())
    span = losses[dims[0]] - best
    for d in dims:
        if losses[d] - best <= dim_tol * span:
            return d
    return dims[-1]


def search_latent_dim(
    windows: DelayWindows, cfg: VAEConfig, *, seed: int, progress: bool = False, n_jobs: int = 1
) -> tuple[int, VAE, dict]:
    """Train one VAE per candidate D_r, apply the rule, refine the chosen one.

    The candidates' VAEs are independent (each D has its own random streams), so with ``n_jobs`` > 1
    they train in that many forked processes side by side, with the same result.

    Returns (D_r, trained VAE, evidence) where evidence is JSON-able: loss curves, final losses,
    per-unit KL and active-unit counts per D, the rule and the choice.
    """
    _, rng = generators(seed, 7)
    gen, _ = generators(seed, 8)
    m = min(cfg.eval_windows, len(windows))
    eval_idx = np.sort(rng.choice(len(windows), size=m, replace=False))
    r_eval = torch.from_numpy(windows.gather(eval_idx))
    eps_eval = torch.randn(m, cfg.latent_max, generator=gen)
    models, evidence = {}, {"per_dim": {}, "rule": "min D with L(D)-L_best <= dim_tol*(L(min)-L_best)"}
    losses = {}
    dims = list(range(cfg.latent_min, cfg.latent_max + 1))
    groups = [dims[j::max(1, n_jobs)] for j in range(min(max(1, n_jobs), len(dims)))]

    def train(group: tuple[int, list[int]]) -> list:
        j, ds = group  # the first group (this process) shows the progress bars
        return [fit_vae(windows, d, cfg, seed=seed, steps=cfg.steps_per_dim, progress=progress and j == 0,
                        desc=f"VAE D_r={d}") for d in ds]

    fitted = {d: out for g, outs in zip(groups, run_forked(train, list(enumerate(groups)), wait_s=300.0))
              for d, out in zip(g, outs)}
    for d in dims:
        vae, curve = fitted[d]
        ev = evaluate_vae(vae, r_eval, eps_eval, cfg)
        losses[d] = ev["total"]
        models[d] = vae
        evidence["per_dim"][str(d)] = {
            "curve": curve,
            "final_loss": ev["total"],
            "recon": ev["recon"],
            "kl_units": ev["kl_units"],
            "active_units": int(sum(k > cfg.active_kl for k in ev["kl_units"])),
        }
    chosen = choose_latent_dim(losses, cfg.dim_tol)
    vae = models[chosen]
    if cfg.refine_steps:
        vae, curve = fit_vae(windows, chosen, cfg, seed=seed + 1, steps=cfg.refine_steps, vae=vae,
                             progress=progress, desc=f"VAE refine D_r={chosen}")
        evidence["refine_curve"] = curve
    ev = evaluate_vae(vae, r_eval, eps_eval, cfg)
    evidence.update(chosen=chosen, final=ev, dim_tol=cfg.dim_tol, active_kl=cfg.active_kl)
    return chosen, vae, evidence
