"""Rollouts between neighbouring tags (MapConfig.bridge): closed-form checks of the mixing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynamap import MapConfig
from dynamap._core.errors import ConfigError
from dynamap.training.map import _Bridges


def _two_lines(n=200):
    """Segment 0: (0.01 t, 0); segment 1: (0.01 t, 1). Each state's nearest state at the other tag is
    the one with the same t, so a mix at weight l is (0.01 t, l) and moves like both lines."""
    t = np.arange(n, dtype=np.float32) * 0.01
    return [np.c_[t, np.zeros(n, np.float32)], np.c_[t, np.ones(n, np.float32)]]


def test_bridge_mixes_neighbouring_tags_in_closed_form():
    lat, c_norm, h = _two_lines(), [-1.0, 1.0], 4
    br = _Bridges(lat, c_norm, h)
    assert len(br.pairs) == 2  # 0 -> 1 and 1 -> 0
    u = torch.from_numpy(np.concatenate(lat))
    seg = np.r_[np.zeros(200, int), np.ones(200, int)]
    valid = [np.arange(0, 200 - h), np.arange(200, 400 - h)]
    tgt, c = br.mix(u, c_norm, valid, torch.arange(h + 1), 64, np.random.default_rng(0),
                    torch.Generator().manual_seed(0))
    assert tgt.shape == (64, h + 1, 2) and c.shape == (64, 1)
    lam = tgt[:, 0, 1]
    assert torch.all((lam >= 0) & (lam <= 1))
    # the mixed state sits at weight l between the lines, with control (1 - l) c_0 + l c_1 ...
    torch.testing.assert_close(c[:, 0], -1.0 + 2.0 * lam)
    torch.testing.assert_close(tgt[:, :, 1], lam[:, None].expand(-1, h + 1))
    # ... and moves along them, 0.01 per step
    torch.testing.assert_close(tgt[:, 1:, 0] - tgt[:, :-1, 0], torch.full((64, h), 0.01), atol=1e-5, rtol=0)
    assert seg.size == u.shape[0]


def test_bridge_pairs_only_neighbouring_levels():
    n = 100
    lat = [np.full((n, 1), v, np.float32) + np.arange(n, dtype=np.float32)[:, None] * 1e-3 for v in (0, 1, 2)]
    br = _Bridges(lat, [-1.0, 0.0, 1.0], 2)
    assert sorted((i, j) for i, j, _ in br.pairs) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    assert not _Bridges(lat[:1], [1.0], 2)  # one tag: nothing to bridge


def test_bridge_share_is_checked():
    with pytest.raises(ConfigError, match="bridge"):
        MapConfig(bridge=1.5)
