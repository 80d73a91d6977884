"""The map on delay coordinates (the ridge family on the delay encoder): the state is the last ``span`` samples of
the standardised series, newest first, then K leaky averages of it (``decay``; none by default), and one
step predicts the next sample, shifts the rest and updates the averages.

    u(n+1) = [u_0', u_0, u_1, ..., u_{span-2}, s_1', ..., s_K'],   u_0' = u_0 + f(x, c)
    s_k' = a_k s_k + (1 - a_k) u_0',                             x = (u_0, u_lag, ..., u_{(taps-1) lag}, s_1, ..., s_K)
    f(x, c) = a . phi(x) + c b . phi(x),                         phi(x) = [1, x, tanh(W x + w)]

``W`` (``width`` x ``taps``, Gaussian of standard deviation 1 / sqrt(taps)) and ``w`` (uniform in [-1,
1]) are fixed random features; the readouts a and b are fitted by ridge regression
(:mod:`dynamap.training._ridge`). The increment is affine in c with the same features for every value,
so all training values fit one field and one control pathway: this is the parameter-aware
next-generation reservoir computer (Gauthier et al., Nat. Commun. 2021; the parameter as an input and
the training noise as in Cestnik & Martens, arXiv 2509.11338, 2025). The newest sample is clamped into
the box ``[lo, hi]`` (as a :class:`~dynamap.models.map.ParametricMap`'s states), so a free run cannot
run away.

The delay encoder (:class:`~dynamap.models.encoders.DelayEncoder`) gives its states; under another
encoder the ridge family is :class:`~dynamap.models.feature_map.FeatureMap`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .base import StateMap

__all__ = ["DelayMap", "RandomFeatures"]

#: steps of whole states kept at a time by the stepper's ``run_newest`` (64 x 16 x 100 float32 states:
#: 400 kB, cache-sized)
NEWEST_BLOCK = 64


class RandomFeatures(StateMap):
    """The ridge family's common part: fixed random features phi(x) = [1, x, tanh(W x + w)] of the
    inputs x = u[tap_index], readouts for 1 and for c of the first ``n_out`` inputs' increments, and
    the state box [lo, hi]."""

    family = "ridge"

    def __init__(self, dim: int, tap_index: torch.Tensor, width: int, n_out: int):
        super().__init__()
        self.dim, self.taps, self.width, self.n_out = int(dim), int(tap_index.numel()), int(width), int(n_out)
        self.register_buffer("tap_index", tap_index)
        self.register_buffer("w_in", torch.zeros(self.width, self.taps))
        self.register_buffer("b_in", torch.zeros(self.width))
        shape = (2, 1 + self.taps + self.width) if n_out == 1 else (2, n_out, 1 + self.taps + self.width)
        #: readouts for 1 and for c, over phi = [1, x, tanh(W x + w)]
        self.readout = nn.Parameter(torch.zeros(shape))
        self.register_buffer("lo", torch.full((self.dim,), -torch.inf))
        self.register_buffer("hi", torch.full((self.dim,), torch.inf))

    def readout_tensor(self, betas: list[np.ndarray]) -> torch.Tensor:
        """The readout parameter of the ridge solutions ``betas`` (one (2 n_phi,) array per output)."""
        n_phi = 1 + self.taps + self.width
        parts = [b.reshape(2, n_phi) for b in betas]
        return torch.from_numpy((parts[0] if self.n_out == 1 else np.stack(parts, axis=1)).astype(np.float32))

    def init_features(self, gen: torch.Generator) -> None:
        """Draw the fixed random features from ``gen``."""
        with torch.no_grad():
            self.w_in.normal_(0.0, 1.0 / np.sqrt(self.taps), generator=gen)
            self.b_in.uniform_(-1.0, 1.0, generator=gen)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x) = [1, x, tanh(W x + w)] of tap vectors x (..., taps)."""
        one = torch.ones(x.shape[:-1] + (1,), dtype=x.dtype)
        return torch.cat([one, x, torch.tanh(x @ self.w_in.to(x.dtype).T + self.b_in.to(x.dtype))], -1)


class DelayMap(RandomFeatures):
    """Batched delay map: (B, dim) states and (B, 1) control inputs -> (B, dim). Its stepper is the
    compiled loop of :mod:`dynamap.models._delay_kernel`, which releases the GIL."""

    releases_gil = True
    shift_register = True
    spectrum_method = "exact Jacobian products + QR (compiled, float64)"
    #: over 25 000 steps the slow exponent's estimate moved by up to 8 % between runs that differ only
    #: in rounding; over four times as long the spread of such an average halves (docs/experiments.md)
    spectrum_factor = 4

    def __init__(self, taps: int, lag: int, width: int, decay=()):
        lag = int(lag)
        span, n_slow = (int(taps) - 1) * lag + 1, len(decay)
        super().__init__(span + n_slow, torch.cat([torch.arange(int(taps)) * lag, span + torch.arange(n_slow)]),
                         width, 1)
        #: the shift register: the newest (taps - 1) lag + 1 samples; then one row per leaky average
        self.span = span
        self.lag = lag
        #: a_k of the leaky averages s_k' = a_k s_k + (1 - a_k) u_0' (float32, as the compiled loops use them)
        self.register_buffer("decay", torch.tensor([float(a) for a in decay], dtype=torch.float32), persistent=False)
        # (not saved with the weights: the encoder's parameters carry it, and bundles before it have none)

    def forward(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        phi = self.features(u[..., self.tap_index])
        r = self.readout.to(u.dtype)
        inc = phi @ r[0] + c[..., 0] * (phi @ r[1])
        new = torch.clamp(u[..., 0] + inc, self.lo[0].to(u.dtype), self.hi[0].to(u.dtype))
        parts = [new[..., None], u[..., : self.span - 1]]
        if self.decay.numel():
            a = self.decay.to(u.dtype)
            parts.append(a * u[..., self.span :] + (1 - a) * new[..., None])
        return torch.cat(parts, -1)

    def _kernel_args(self, c: np.ndarray) -> tuple:
        """The arguments of :mod:`dynamap.models._delay_kernel`'s loops after the states: taps, the
        random features, the readouts, the per-column controls ``c`` (B,), the box and the leaky
        averages' decays, in float32."""
        with torch.no_grad():
            return (self.tap_index.numpy().astype(np.int64),
                    self.w_in.to(torch.float32).T.contiguous().numpy(),
                    self.b_in.to(torch.float32).contiguous().numpy(),
                    self.readout.detach().to(torch.float32).contiguous().numpy(),
                    np.ascontiguousarray(np.asarray(c, dtype=np.float32)),
                    np.float32(self.lo[0]), np.float32(self.hi[0]),
                    self.decay.numpy().astype(np.float32))

    def log_growth(self, z: np.ndarray, v: np.ndarray, c: np.ndarray, n_steps: int) -> np.ndarray:
        """Sums over ``n_steps`` steps of the log growth of unit tangent vectors ``v`` (B, dim),
        renormalised every step, along the orbits from ``z`` (B, dim) at controls ``c`` (B,):
        :meth:`qr_sums` of one tangent vector per row. Releases the GIL."""
        v = np.asarray(v, dtype=np.float64)
        return np.array([self.qr_sums(z[i], v[i][:, None], float(c[i]), 0, n_steps)[0] for i in range(len(c))])

    def flow_sums(self, z: np.ndarray, v: np.ndarray, c: np.ndarray, n_steps: int, still: float
                  ) -> np.ndarray:
        """:meth:`StateMap.flow_sums <dynamap.models.base.StateMap.flow_sums>` by the compiled loop
        :func:`dynamap.models._delay_kernel.flow_sums` (one tangent per row). Releases the GIL."""
        from . import _delay_kernel

        v = np.asarray(v, dtype=np.float64)
        out = np.empty((len(c), 3))
        idx, w, b, r, _, lo, hi, decay = self._kernel_args(np.asarray(c))
        for i in range(len(c)):
            out[i] = _delay_kernel.flow_sums(np.asarray(z[i], dtype=np.float64), v[i][:, None], idx, w, b, r,
                                             float(c[i]), lo, hi, decay, 0, int(n_steps), float(still))
        return out

    def qr_sums(self, z: np.ndarray, q: np.ndarray, c: float, n_transient: int, n_steps: int) -> np.ndarray:
        """The Lyapunov spectrum's sums of one run from the state ``z`` (dim,) with the orthonormal
        tangent basis ``q`` (dim, k) at control ``c``: the compiled loop of
        :func:`dynamap.models._delay_kernel.qr_sums` (the map and the tangents in float64)."""
        from . import _delay_kernel

        idx, w, b, r, _, lo, hi, decay = self._kernel_args(np.array([c]))
        return _delay_kernel.qr_sums(np.asarray(z, dtype=np.float64), np.asarray(q, dtype=np.float64),
                                     idx, w, b, r, float(c), lo, hi, decay, int(n_transient), int(n_steps))

    def spectrum_sums(self, z: np.ndarray, q: np.ndarray, c: np.ndarray, n_transient: int,
                      n_steps: int) -> np.ndarray:
        """:meth:`qr_sums` of each row."""
        return np.array([self.qr_sums(z[i], q[i], float(c[i]), n_transient, n_steps) for i in range(len(c))])

    def stepper(self, c: torch.Tensor):
        """A step function ``step(z_t, out) -> out`` for states kept TRANSPOSED, (dim, B), with the
        per-column controls ``c`` (B, 1), as :func:`dynamap.models.map.fast_stepper` for this map: the
        compiled float32 loop of :mod:`dynamap.models._delay_kernel`, equal to :meth:`forward` up to
        float32 round-off; ``out`` must not be ``z_t``. ``step.run(z_t, out)`` fills a time-major block
        ``out`` (n, dim, B) in one call (what :func:`~dynamap.models.map.iterate_into` uses);
        ``step.run_newest(z_t, out)`` fills ``out`` (n, B) with the newest samples alone (the same
        values, whole states kept only :data:`NEWEST_BLOCK` steps at a time) and advances ``z_t`` in
        place to the last state."""
        from . import _delay_kernel

        args = self._kernel_args(c.detach().numpy()[:, 0])

        def run(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            _delay_kernel.run(z_t.numpy(), out.numpy(), *args)
            return out[-1]

        def step(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            _delay_kernel.run(z_t.numpy(), out.numpy()[None], *args)
            return out

        def run_newest(z_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            # the same loop (the same samples bit for bit), a cache-sized block of whole states at a time
            z, newest = z_t.numpy(), out.numpy()
            buf = np.empty((min(NEWEST_BLOCK, newest.shape[0]), *z.shape), np.float32)
            for k0 in range(0, newest.shape[0], buf.shape[0]):
                m = min(buf.shape[0], newest.shape[0] - k0)
                _delay_kernel.run(z, buf[:m], *args)
                newest[k0 : k0 + m] = buf[:m, 0]
                z[:] = buf[m - 1]
            return z_t

        step.run = run
        step.run_newest = run_newest
        return step
