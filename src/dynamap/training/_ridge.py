"""Ridge readouts of the random-feature maps (:class:`~dynamap.models.delay_map.RandomFeatures`: the
delay map, which predicts the newest sample u_0, and the feature map, which predicts every coordinate).

The readouts a, b of each output j, f_j(x, c) = a . phi(x) + c b . phi(x), are the ridge regression
of its increments u_j(n+1) - u~_j(n) on [phi(x~), c phi(x~)] (the same design for every output), where x~ are the taps with Gaussian
noise of standard deviation ``noise`` (the target is the clean next sample, so the readout learns to
pull perturbed histories back and free runs stay on the data; Cestnik & Martens 2025), each pair with
``draws`` independent draws of the noise; with ``tangent`` each row's noise loses its part along the
orbit (the direction from the row's taps to the next row's), so a shift in phase, which a flow keeps,
is not pulled back. All segments are fitted at once. The penalty is relative to
the mean diagonal of the Gram matrix, and ``c_penalty`` times that on b (``MapConfig.ridge_c_penalty``):
a narrow control pathway, c changing the one field a that all tags share only where the data need it.

With one training value (single-series mode, ``drive`` given) the data cannot tell a from b: the
readout a is fitted on phi alone and c enters as an additive drive, b = (g, 0, ..., 0) with a's
constant lowered by g c_0, so that f(x, c) = a . phi(x) + g (c - c_0); g is ``drive`` times the median
|u_j(n+1) - u_j(n)| of the output's coordinate (``MapConfig.drive``).
"""

from __future__ import annotations

import numpy as np
import torch

from ..models.delay_map import RandomFeatures

__all__ = ["ridge_readouts", "ridge_readout_sets"]

#: rows of the design matrix accumulated at a time (bounds the memory of the Gram matrix pass)
CHUNK = 65536


def ridge_readouts(fmap: RandomFeatures, states: list[np.ndarray], c_norm: list[float], noise: float,
                   penalties, rng: np.random.Generator, drive: float | None = None) -> list[dict]:
    """The readout of ``fmap`` fitted to the one-step pairs of each segment of delay ``states`` ((n_i,
    span) each, standardised) with its control ``c_norm[i]``, once per penalty in ``penalties``: a state
    dict of ``fmap`` for each. ``drive``: the single-series drive (one segment; see the module)."""
    return ridge_readout_sets(fmap, states, c_norm, noise, penalties, rng, drive)[None]


def ridge_readout_sets(fmap: RandomFeatures, states: list[np.ndarray], c_norm: list[float], noise: float,
                       penalties, rng: np.random.Generator, drive: float | None = None,
                       without=(), draws: int = 1, c_penalty: float = 1.0, tangent: bool = False) -> dict:
    """:func:`ridge_readouts` on all segments (key None) and, for each segment k in ``without``, on all
    segments but k (key k; the fit's cross-tag validation): the same noise draws and features, one
    pass over the data; ``draws``: independent draws of the tap noise per row (``MapConfig.ridge_draws``);
    ``c_penalty``: the penalty on the c readout b relative to that on a (``MapConfig.ridge_c_penalty``);
    ``tangent``: the tap noise without its part along the orbit (``MapConfig.ridge_tangent``)."""
    if drive is not None and len(states) != 1:
        raise ValueError(f"the single-series drive needs one segment, got {len(states)}")
    blocks = _segment_blocks(fmap, states, noise, rng, draws, tangent)
    g = None
    if drive is not None:  # one gain per output
        outs = fmap.tap_index.numpy()[: fmap.n_out]
        g = [float(drive) * float(np.median(np.abs(np.diff(states[0][:, int(j)].astype(np.float64)))))
             for j in outs]
    out = {}
    for key in (None, *without):
        keep = [i for i in range(len(states)) if i != key]
        out[key] = _solve(fmap, [blocks[i] for i in keep], [c_norm[i] for i in keep], penalties, g, c_penalty)
    return out


def _segment_blocks(fmap: RandomFeatures, states: list[np.ndarray], noise: float, rng: np.random.Generator,
                    draws: int = 1, tangent: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """phi' phi and phi' target (one row per output) of each segment (noisy taps, see
    :func:`ridge_readouts`), averaged over ``draws`` independent draws of the noise."""
    idx = fmap.tap_index.numpy()
    w = fmap.w_in.numpy().astype(np.float64)
    bias = fmap.b_in.numpy().astype(np.float64)
    n_phi = 1 + fmap.taps + fmap.width
    w_t, b_t = torch.from_numpy(w), torch.from_numpy(bias)
    blocks = []
    n_draws = max(1, int(draws)) if noise > 0 else 1
    for x in states:
        g_seg, r_seg = np.zeros((n_phi, n_phi)), np.zeros((fmap.n_out, n_phi))  # phi' phi, phi' targets
        for a in range(0, x.shape[0] - 1, CHUNK):
            rows = slice(a, min(a + CHUNK, x.shape[0] - 1))
            clean = x[rows][:, idx].astype(np.float64)
            nxt = x[rows.start + 1 : rows.stop + 1]  # each row's next state
            along = None
            if tangent and noise > 0:  # the unit direction of the orbit in tap space at each row
                along = nxt[:, idx].astype(np.float64) - clean
                along /= np.maximum(np.linalg.norm(along, axis=1, keepdims=True), 1e-12)
            for _ in range(n_draws):
                taps = clean
                if noise > 0:
                    e = noise * rng.standard_normal(clean.shape)
                    if along is not None:
                        e -= np.sum(e * along, axis=1, keepdims=True) * along
                    taps = clean + e
                # the features and products in torch (float64): one thread pool for all of it (numpy's
                # BLAS and torch's threads in turn contended for the cores), and torch's tanh is 6-10x faster
                taps_t = torch.from_numpy(taps)
                phi = torch.cat([torch.ones(taps.shape[0], 1, dtype=torch.float64), taps_t,
                                 torch.tanh_(torch.addmm(b_t, taps_t, w_t.T))], 1)
                g_seg += (phi.T @ phi).numpy()
                for j in range(fmap.n_out):  # output j: the increment of input j (the first inputs)
                    target = torch.from_numpy(nxt[:, idx[j]].astype(np.float64) - taps[:, j])
                    r_seg[j] += (phi.T @ target).numpy()
        blocks.append((g_seg / n_draws, r_seg / n_draws))
    return blocks


def _solve(fmap: RandomFeatures, blocks: list, c_norm: list[float], penalties, g: float | None,
           c_penalty: float = 1.0) -> list[dict]:
    """The readouts from the segments' ``blocks`` with controls ``c_norm``, one per penalty; ``g``: the
    single-series drive's gain per output (None in tagged mode); ``c_penalty``: the penalty on b
    relative to a."""
    n_phi = 1 + fmap.taps + fmap.width
    gram = np.zeros((n_phi, n_phi) if g is not None else (2 * n_phi, 2 * n_phi))
    rhs = np.zeros((fmap.n_out, gram.shape[0]))
    for (g_seg, r_seg), cv in zip(blocks, c_norm):
        if g is not None:
            gram += g_seg
            rhs += r_seg
        else:  # the design [phi, c phi] of a segment: its Gram matrix is [[1, c], [c, c^2]] (x) phi' phi
            cv = float(cv)
            gram += np.kron(np.array([[1.0, cv], [cv, cv * cv]]), g_seg)
            for j in range(fmap.n_out):
                rhs[j] += np.concatenate([r_seg[j], cv * r_seg[j]])
    scale = float(np.mean(np.diag(gram)))
    weight = np.ones(gram.shape[0])
    if g is None:
        weight[n_phi:] = float(c_penalty)
    out = []
    for lam in penalties:
        betas = []
        for j in range(fmap.n_out):  # one right-hand side at a time (the same rounding for every output)
            beta = np.linalg.solve(gram + np.diag(float(lam) * scale * weight), rhs[j])
            if g is not None:  # b = (g, 0, ...), a's constant lowered by g c_0
                beta = np.concatenate([beta, np.zeros(n_phi)])
                beta[0] -= g[j] * float(c_norm[0])
                beta[n_phi] = g[j]
            betas.append(beta)
        state = {k: v.clone() for k, v in fmap.state_dict().items()}
        state["readout"] = fmap.readout_tensor(betas)
        out.append(state)
    return out
