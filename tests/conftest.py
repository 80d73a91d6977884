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
    """The smallest FitConfig that runs every stage of a fit (one VAE of 1-2 units, one map
    candidate, one round, short selection runs; the VAE state in both modes): the estimator's and the
    CLI's mechanics in seconds, not a quality fit. ``changes`` replace top-level FitConfig fields."""
    import dataclasses

    from dynamap import FitConfig, MLPConfig, SelectionConfig, VAEConfig

    cfg = FitConfig(
        vae=VAEConfig(hidden=16, latent_min=1, latent_max=2, steps_per_dim=40, refine_steps=10,
                      eval_windows=256),
        restarts=0,
        encoder="vae",
        map_family="mlp",
        mlp=MLPConfig(hidden=16, horizons=(1, 3), stage_steps=(30, 20), batch_size=32, select_every=10, candidates=1),
        selection=SelectionConfig(select_starts=2, select_steps=300, select_transient=50, final_steps=600,
                                  final_transient=100),
    )
    return dataclasses.replace(cfg, **changes)


@pytest.fixture(scope="session")
def tiny_config():
    """:func:`tiny_fit_config` as a fixture."""
    return tiny_fit_config()


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
