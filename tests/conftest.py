"""Shared fixtures. Tests import from the installed package, as users do."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)


def tiny_fit_config(**changes):
    """The smallest FitConfig that runs every stage of a fit, by default of the default reconstruction
    (the delay encoder under the ridge map: one penalty, one noise level and draw, one candidate, one
    round, short selection runs); with ``encoder``/``map_family`` in ``changes`` the other families'
    tiny settings apply (a VAE of 1-2 units, a two-stage curriculum of the MLP map). The mechanics in
    seconds, not a quality fit. ``changes`` replace top-level FitConfig fields."""
    import dataclasses

    from dynamap import FitConfig, LinearConfig, MLPConfig, RidgeConfig, SelectionConfig, VAEConfig

    cfg = FitConfig(
        vae=VAEConfig(hidden=16, latent_min=1, latent_max=2, steps_per_dim=40, refine_steps=10,
                      eval_windows=256),
        linear=LinearConfig(dim=3),
        ridge=RidgeConfig(features=60, ridge=(1e-7,), noise=(1e-3,), draws=1, candidates=1),
        mlp=MLPConfig(hidden=16, horizons=(1, 3), stage_steps=(30, 20), batch_size=32, select_every=10, candidates=1),
        selection=SelectionConfig(select_starts=2, select_steps=300, select_transient=50, final_steps=600,
                                  final_transient=100),
        restarts=0,
    )
    return dataclasses.replace(cfg, **changes)


@pytest.fixture(scope="session")
def tiny_config():
    """:func:`tiny_fit_config` as a fixture (the default reconstruction)."""
    return tiny_fit_config()


@pytest.fixture(scope="session")
def tiny_vae_config():
    """:func:`tiny_fit_config` of the paper's reconstruction: the VAE encoder under the MLP map."""
    return tiny_fit_config(encoder="vae", map_family="mlp")


@pytest.fixture
def cli_exit_2(capsys):
    """``cli_exit_2(argv, fragment)``: the command line exits with status 2 and prints one line on
    stderr that contains ``fragment``."""
    from dynamap.cli.main import main

    def check(argv, fragment):
        code = main(argv)
        err = capsys.readouterr().err.strip()
        assert code == 2, err
        assert len(err.splitlines()) == 1, err
        assert fragment in err, err

    return check


@pytest.fixture(scope="session")
def make_tiny_config():
    """:func:`tiny_fit_config` itself (``make_tiny_config(encoder=..., ...)``)."""
    return tiny_fit_config
