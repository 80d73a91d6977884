"""LearnedMap: a fitted DynamapModel seen through the MapLike protocol.

State x: the standardised recovered state (dim = D_r); parameter p: the control input c in the units
of the training tags (single mode: training value p0), shape (B, 1). step/jacobian run in float64
(analysis precision) on a double copy of the network; ``step_torch`` is the float32 fast path.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch.func import jacrev, vmap

__all__ = ["LearnedMap"]


class LearnedMap:
    """MapLike view of a fitted model: ``dim``, ``step``, ``jacobian``, ``decode``, ``initial_states``."""

    n_params = 1

    def __init__(self, model):
        self._model = model
        self._net64 = copy.deepcopy(model.map_).to(torch.float64).eval()
        for prm in self._net64.parameters():
            prm.requires_grad_(False)

    @property
    def dim(self) -> int:
        return int(self._model.latent_dim_)

    def _c(self, p: np.ndarray, b: int) -> torch.Tensor:
        p = np.asarray(p, dtype=np.float64).reshape(-1)
        if p.size == 1:
            p = np.full(b, p[0])
        return torch.from_numpy(self._model.normalise_c(p))[:, None]

    def step(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        with torch.no_grad():
            return self._net64(torch.from_numpy(x), self._c(p, x.shape[0])).numpy()

    def jacobian(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Exact dF/dx (B, dim, dim) by torch.func (reverse mode, vmapped over the batch)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        c = self._c(p, x.shape[0])
        f = lambda xi, ci: self._net64(xi[None], ci[None])[0]  # noqa: E731
        return vmap(jacrev(f, argnums=0))(torch.from_numpy(x), c).numpy()

    def step_torch(self, x: torch.Tensor, c_norm: torch.Tensor) -> torch.Tensor:
        """Fast path: float32 states and already-normalised control inputs (B, 1)."""
        return self._model.map_(x, c_norm)

    def decode(self, x: np.ndarray) -> np.ndarray:
        """Observable values (B,) of states (B, dim)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self._model._decode_torch(torch.from_numpy(x)).numpy().astype(np.float64)

    def initial_states(self, c: np.ndarray, start: int = 0) -> np.ndarray:
        """Start states (B, dim) on the data attractor: anchor number ``start`` (of 64 spread over the
        recording) of the training segment whose tag is nearest to each c. Depends on c only, so a
        value gives the same orbit alone or inside a batch."""
        c = np.atleast_1d(np.asarray(c, dtype=np.float64))
        m = self._model
        out = np.empty((c.size, self.dim))
        tags = np.unique(m.anchor_c_)
        for i, ci in enumerate(c):
            tag = tags[np.argmin(np.abs(tags - ci))]
            pool = m.anchors_[m.anchor_c_ == tag]
            out[i] = pool[int(start) % pool.shape[0]]
        return out
