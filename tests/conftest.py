"""Shared fixtures. Tests import from the installed package, as users do."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)
