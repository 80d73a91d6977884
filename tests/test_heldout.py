"""Held-out recordings of a tagged model (dynamap.analysis.heldout): closed-form checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynamap._core.errors import InputError
from dynamap.analysis.heldout import heldout_report, orbit_distance, step_errors


def _circle(n=2000, r=1.0, theta=0.01):
    t = np.arange(n) * theta
    return np.c_[r * np.cos(t), r * np.sin(t)].astype(np.float32)


class _Rotation(torch.nn.Module):
    """The exact map of :func:`_circle`'s orbits: rotation by theta, or by theta * c (``by_c``)."""

    def __init__(self, theta=0.01, by_c=False):
        super().__init__()
        self.theta, self.by_c = theta, by_c

    def forward(self, u, c):
        a = self.theta * (c[:, 0].double() if self.by_c else torch.ones(u.shape[0], dtype=torch.float64))
        co, si = torch.cos(a), torch.sin(a)
        u = u.double()
        return torch.stack([co * u[:, 0] - si * u[:, 1], si * u[:, 0] + co * u[:, 1]], 1).float()


def test_orbit_distance_of_concentric_circles_is_the_radius_gap():
    assert orbit_distance(_circle(), _circle()) == pytest.approx(0.0, abs=1e-6)
    assert orbit_distance(_circle(r=1.3), _circle(r=1.0)) == pytest.approx(0.3, abs=1e-4)


def test_step_errors_exact_map_zero_identity_one():
    z = _circle()
    assert all(v == pytest.approx(0.0, abs=1e-4) for v in step_errors(_Rotation(), z, 0.0, (1, 16)).values())
    ident = lambda u, c: u  # noqa: E731 - standing still: the error is the motion itself
    assert all(v == pytest.approx(1.0, abs=1e-6) for v in step_errors(ident, z, 0.0, (1, 16)).values())
    with pytest.raises(InputError, match="too short"):
        step_errors(ident, z[:10], 0.0, (16,))


class _Model:
    """A stand-in tagged model whose recovered states are the recordings themselves (circles whose
    radius is the parameter value) and whose map is the exact rotation."""

    mode_ = "tagged"

    class sampling_:
        window = 1

    map_ = _Rotation()

    def transform(self, series):
        return series

    def resample(self, series):
        return series[:, 0]

    def decode(self, z):
        return z[:, 0]

    def normalise_c(self, c):
        return np.asarray(c, float)


def test_heldout_report_between_and_gain():
    # the recording at value v: a circle of radius v turning by 0.01 v per step
    tags = {1.0: _circle(r=1.0, theta=0.01), 2.0: _circle(r=2.0, theta=0.02)}
    held = {1.4: _circle(r=1.4, theta=0.014), 1.0: tags[1.0]}
    model = _Model()
    model.map_ = _Rotation(by_c=True)  # the exact map at every c
    res = heldout_report(model, held, tags)
    mid = next(p for p in res["points"] if p["value"] == 1.4)
    assert mid["between"] == pytest.approx(1.0, abs=1e-3)  # on the segment between the tags' orbits
    assert mid["d_lower"] == pytest.approx(0.4, abs=1e-3) and mid["d_tags"] == pytest.approx(1.0, abs=1e-3)
    assert mid["recon_rel"] == pytest.approx(0.0, abs=1e-6)
    assert mid["err"][1] == pytest.approx(0.0, abs=1e-3)
    # with the nearest tag's c (1.0) it turns 0.010 instead of 0.014 per step: error 0.004 / 0.014
    assert mid["err_nearest"][1] == pytest.approx(0.4 / 1.4, rel=1e-2)
    assert mid["c_gain"][1] > 50
    tag_row = next(p for p in res["points"] if p["value"] == 1.0)
    assert tag_row["c_gain"][1] == pytest.approx(1.0) and "between" not in tag_row
    with pytest.raises(InputError, match="tagged"):
        heldout_report(type("M", (), {"mode_": "single"})(), {}, tags)
