"""The VAE's loss terms against torch.distributions, on a VAE trained on real delay windows.

Oracle: for the encoder's diagonal Gaussian q = N(mu, exp(logvar / 2)) and the prior p = N(0, 1),
``torch.distributions.kl_divergence(q, p)`` (torch's own closed form, written independently of ours);
for the reconstruction term, the decoder's Gaussian likelihood N(recon, recon_sigma) through
``Normal.log_prob``. Tolerances: float32 round-off (rtol 1e-5) and, for the float64 copy of the same
network, rtol 1e-12.
"""

import copy

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from dynamap import get_system, simulate
from dynamap.embedding import DelayWindows
from dynamap.training import VAEConfig, encode_windows, fit_vae
from dynamap.training.vae import evaluate_vae, vae_loss

LATENT = 3
CFG = VAEConfig(hidden=32, batch_size=128, recon_sigma=0.05, beta=1.0)


@pytest.fixture(scope="module")
def trained():
    """A VAE trained briefly on standardised HH windows (V_S = -40 mV, 60 s at 0.01 s, window 40),
    and a batch of those windows."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tr = simulate(get_system("hh-burster"), {"V_S": -40.0}, t_end=460.0, transient=400.0, dt=0.01)
        x = tr.series("V").values
        w = DelayWindows([(x - x.mean()) / x.std()], 40)
        vae, _ = fit_vae(w, LATENT, CFG, seed=0, steps=400)
    finally:
        torch.set_num_threads(old)
    r = torch.from_numpy(w.gather(np.arange(0, len(w), 11)))
    return vae, r, w


def _eps(n, d, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def _reference_kl(mu, logvar):
    return kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu)))


def test_trained_outputs_are_not_the_prior(trained):
    """The comparison below means something only if q is far from the prior, differently per unit."""
    vae, r, _ = trained
    with torch.no_grad():
        out = vae(r, _eps(r.shape[0], LATENT))
    kl = _reference_kl(out["mu"], out["logvar"])
    assert float(kl.mean(0).max()) > 1.0  # at least one unit carries information
    assert float(out["logvar"].min()) < -2.0  # posteriors narrower than the prior
    assert float(out["mu"].std(0).max()) > 0.3


def test_kl_units_equal_torch_kl_divergence(trained):
    vae, r, _ = trained
    with torch.no_grad():
        out = vae(r, _eps(r.shape[0], LATENT))
        ref = _reference_kl(out["mu"], out["logvar"])
        assert out["kl_units"].shape == ref.shape == out["mu"].shape == (r.shape[0], LATENT)
        assert out["recon"].shape == r.shape
        torch.testing.assert_close(out["kl_units"], ref, rtol=1e-5, atol=1e-6)
        # the analytic KL does not depend on the sampling noise
        other = vae(r, _eps(r.shape[0], LATENT, seed=1))
        torch.testing.assert_close(other["kl_units"], out["kl_units"], rtol=0, atol=0)
        # float64 copy of the same network: agreement to round-off
        v64 = copy.deepcopy(vae).double()
        out64 = v64(r.double(), _eps(r.shape[0], LATENT).double())
        ref64 = _reference_kl(out64["mu"], out64["logvar"])
        torch.testing.assert_close(out64["kl_units"], ref64, rtol=1e-12, atol=1e-12)


def test_loss_terms_equal_the_gaussian_elbo(trained):
    """vae_loss: per-unit KL = batch mean of the torch KL; reconstruction = Gaussian negative
    log-likelihood of the window under N(recon, recon_sigma) minus its constant; total = recon +
    beta * sum of the per-unit KL. evaluate_vae reports the same numbers."""
    vae, r, _ = trained
    for beta in (1.0, 0.3):
        cfg = VAEConfig(hidden=32, batch_size=128, recon_sigma=CFG.recon_sigma, beta=beta)
        eps = _eps(r.shape[0], LATENT)
        with torch.no_grad():
            out = vae(r, eps)
            terms = vae_loss(out, r, cfg)
            kl = _reference_kl(out["mu"], out["logvar"]).mean(0)
            nll = -Normal(out["recon"], cfg.recon_sigma).log_prob(r).sum(-1).mean()
            const = r.shape[1] * np.log(cfg.recon_sigma * np.sqrt(2 * np.pi))
        torch.testing.assert_close(terms["kl_units"], kl, rtol=1e-5, atol=1e-6)
        assert float(terms["recon"]) == pytest.approx(float(nll) - const, rel=1e-4)
        assert float(terms["total"]) == pytest.approx(float(terms["recon"]) + beta * float(kl.sum()), rel=1e-5)
        ev = evaluate_vae(vae, r, torch.cat([eps, _eps(r.shape[0], 2, seed=5)], 1), cfg)  # extra columns unused
        np.testing.assert_allclose(ev["kl_units"], kl.numpy(), rtol=1e-5, atol=1e-6)
        assert ev["total"] == pytest.approx(float(terms["total"]), rel=1e-6)


def test_recovered_states_are_the_posterior_means(trained):
    vae, r, w = trained
    idx = np.arange(0, len(w), 11)
    with torch.no_grad():
        mu = vae(r, _eps(r.shape[0], LATENT))["mu"].numpy()
    np.testing.assert_allclose(encode_windows(vae, w)[idx], mu, rtol=1e-6, atol=1e-6)
