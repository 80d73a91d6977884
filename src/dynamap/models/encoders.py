"""Encoders: delay windows of the standardised series -> states, and states -> the observable.

A reconstruction is an encoder and a map (:mod:`dynamap.models.maps`): the encoder turns each delay
window R(n) of the series (newest sample first, standardised by the series' mean and standard
deviation) into a state u(n), the map advances states, and the encoder's decoder reads the observable
back from a state. Every family implements the same members:

* ``dim``: the state's dimension; ``window``: the delay window it reads;
* ``encode(windows)``: the standardised states (n, dim) of a :class:`~dynamap.embedding.DelayWindows`;
* ``decoder()``: a callable (N, k) states -> (N,) observable in data units (float32) whose ``columns``
  says how many leading coordinates it reads (k may be just those);
* ``box(states, margin)``: the state box of a map fitted on these states;
* ``params()``/``tensors()`` and the class method ``restore(params, tensors)``: the bundle's JSON
  and tensors.

Families: :class:`DelayEncoder` (the newest samples themselves), :class:`LinearEncoder` (principal
components of the window, Broomhead & King 1986) and :class:`VAEEncoder` (the paper's VAE, its
encoder means standardised). Encoders are built by :mod:`dynamap.training.encoders`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from .vae import VAE, decode_newest, encode_means

__all__ = ["DelayEncoder", "ENCODERS", "Encoder", "LinearEncoder", "NewestSample", "VAEEncoder", "leaky_averages"]

#: windows encoded at a time
ENCODE_BATCH = 8192


def _widened(lo: np.ndarray, hi: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi] widened by ``margin`` of its width on each side."""
    return lo - margin * (hi - lo), hi + margin * (hi - lo)


class NewestSample:
    """The decoder of states whose coordinate 0 is the newest standardised sample: (N, k) -> (N,) in
    data units, float32, reading column 0 only (``columns`` = 1)."""

    columns = 1

    def __init__(self, x_mean: float, x_std: float):
        self.scale = float(x_std)
        self.shift = float(x_mean)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return z[:, 0].detach().to(torch.float32) * self.scale + self.shift


class Encoder:
    """The members every encoder family has (see the module); ``x_mean`` and ``x_std`` are the
    series' standardisation, in data units."""

    family: ClassVar[str] = ""

    def __init__(self, window: int, dim: int, x_mean: float, x_std: float):
        self.window, self.dim = int(window), int(dim)
        self.x_mean, self.x_std = float(x_mean), float(x_std)

    def encode(self, windows) -> np.ndarray:
        """Standardised states (len(windows), dim), float64."""
        raise NotImplementedError

    def decoder(self):
        raise NotImplementedError

    def describe(self) -> str:
        """The states in words, for the terminal."""
        return f"{self.dim}-dimensional {self.family} states"

    def box(self, states: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) per coordinate: the states' range widened by ``margin`` of it on each side."""
        return _widened(states.min(0), states.max(0), margin)

    def params(self) -> dict:
        return {"family": self.family, "window": self.window, "dim": self.dim, "x_mean": self.x_mean,
                "x_std": self.x_std}

    def tensors(self) -> dict[str, torch.Tensor]:
        return {}

    @classmethod
    def restore(cls, params: dict, tensors: dict) -> Encoder:
        raise NotImplementedError

    def _encode_batches(self, windows, fn, dim: int | None = None) -> np.ndarray:
        """``fn`` (float32 windows (b, window) -> (b, ``dim``), default the state's) over all windows, a
        batch at a time."""
        out = np.empty((len(windows), self.dim if dim is None else dim), dtype=np.float32)
        for s in range(0, len(windows), ENCODE_BATCH):
            idx = np.arange(s, min(s + ENCODE_BATCH, len(windows)))
            out[idx] = fn(windows.gather(idx))
        return out


def leaky_averages(windows, decay) -> np.ndarray:
    """s_k(n) = a_k s_k(n - 1) + (1 - a_k) x(n) of each segment of ``windows`` (a
    :class:`~dynamap.embedding.DelayWindows`), a_k = ``decay[k]``, started at the mean of the
    segment's first window; (len(windows), K) at each window's newest sample, float64."""
    from scipy.signal import lfilter

    out = np.empty((len(windows), len(decay)))
    starts = np.r_[0, np.flatnonzero(np.diff(windows.segment_of)) + 1]
    for k0, k1 in zip(starts, np.r_[starts[1:], len(windows)]):
        first = int(windows.ends[k0]) - windows.window + 1  # the segment's first sample in the buffer
        x = windows.buffer[first : int(windows.ends[k1 - 1]) + 1].astype(np.float64)
        x0 = float(x[: windows.window].mean())
        for j, a in enumerate(decay):
            s = lfilter([1.0 - a], [1.0, -a], x, zi=[a * x0])[0]
            out[k0:k1, j] = s[windows.ends[k0:k1] - first]
    return out


class DelayEncoder(Encoder):
    """The state is the newest ``span`` samples of the window (newest first), exactly, then the leaky
    averages of the series with the decays ``decay`` (:func:`leaky_averages`; none by default): dim =
    span + len(decay). The decoder returns coordinate 0. Every coordinate is the same series (or an
    average of it), so the state box is common to all."""

    family = "delay"

    def __init__(self, window: int, span: int, x_mean: float, x_std: float, decay=()):
        if span > window:
            raise ValueError(f"the delay state ({span} samples) is longer than the window ({window})")
        self.span, self.decay = int(span), tuple(float(a) for a in decay)
        if not all(0.0 <= a < 1.0 for a in self.decay):
            raise ValueError(f"the leaky averages' decays must be in [0, 1), got {self.decay}")
        super().__init__(window, self.span + len(self.decay), x_mean, x_std)

    def encode(self, windows) -> np.ndarray:
        z = self._encode_batches(windows, lambda r: r[:, : self.span], self.span).astype(np.float64)
        return np.concatenate([z, leaky_averages(windows, self.decay)], 1) if self.decay else z

    def describe(self) -> str:
        slow = f" and {len(self.decay)} leaky averages" if self.decay else ""
        return f"the newest {self.span} samples{slow}"

    def decoder(self) -> NewestSample:
        return NewestSample(self.x_mean, self.x_std)

    def box(self, states: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
        return _widened(np.full(self.dim, states.min(0).min()), np.full(self.dim, states.max(0).max()), margin)

    def params(self) -> dict:
        return {**super().params(), "span": self.span, "decay": list(self.decay)}

    @classmethod
    def restore(cls, params: dict, tensors: dict) -> DelayEncoder:
        return cls(params["window"], params.get("span", params["dim"]), params["x_mean"], params["x_std"],
                   params.get("decay", ()))


class LinearDecoder:
    """The newest sample of a :class:`LinearEncoder`'s state, x = x_mean + x_std (m_0 + sum_j z_j
    s_j V_0j): (N, dim) -> (N,), float32."""

    def __init__(self, weights: np.ndarray, offset: float):
        self.columns = int(weights.shape[0])
        self.weights = torch.as_tensor(weights, dtype=torch.float32)
        self.offset = float(offset)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return z.detach().to(torch.float32) @ self.weights + self.offset


class LinearEncoder(Encoder):
    """Principal components of the window (Broomhead & King 1986): u = ((R - m) V) / s with the mean
    window m, the leading ``dim`` right singular vectors V (window, dim) of the centred windows and
    their scores' standard deviations s; the decoder reads the newest sample back from all of u."""

    family = "linear"

    def __init__(self, window: int, dim: int, x_mean: float, x_std: float, mean: np.ndarray,
                 basis: np.ndarray, scale: np.ndarray):
        super().__init__(window, dim, x_mean, x_std)
        self.mean = np.asarray(mean, dtype=np.float64).reshape(window)
        self.basis = np.asarray(basis, dtype=np.float64).reshape(window, dim)
        self.scale = np.asarray(scale, dtype=np.float64).reshape(dim)

    def encode(self, windows) -> np.ndarray:
        proj = (self.basis / self.scale).astype(np.float32)
        shift = (self.mean @ self.basis / self.scale).astype(np.float32)
        return self._encode_batches(windows, lambda r: r @ proj - shift).astype(np.float64)

    def describe(self) -> str:
        return f"{self.dim} principal components of a {self.window}-sample window"

    def decoder(self) -> LinearDecoder:
        w = self.basis[0] * self.scale * self.x_std
        return LinearDecoder(w, self.x_mean + self.x_std * self.mean[0])

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"mean": torch.from_numpy(self.mean), "basis": torch.from_numpy(self.basis),
                "scale": torch.from_numpy(self.scale)}

    @classmethod
    def restore(cls, params: dict, tensors: dict) -> LinearEncoder:
        return cls(params["window"], params["dim"], params["x_mean"], params["x_std"],
                   *(tensors[k].numpy() for k in ("mean", "basis", "scale")))


class VAEDecoder:
    """The newest window entry of the VAE's decoding of standardised states: (N, dim) -> (N,) in data
    units, float32 (:func:`~dynamap.models.vae.decode_newest`)."""

    def __init__(self, enc: VAEEncoder):
        self.columns = enc.dim
        self._args = (enc.vae, enc.z_mean, enc.z_std, enc.x_mean, enc.x_std)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return decode_newest(*self._args[:1], z, *self._args[1:])


class VAEEncoder(Encoder):
    """The paper's recovered states: the VAE's encoder means, standardised by their mean ``z_mean``
    and standard deviation ``z_std`` over the training windows."""

    family = "vae"

    def __init__(self, vae: VAE, z_mean: np.ndarray, z_std: np.ndarray, x_mean: float, x_std: float):
        super().__init__(vae.window, vae.latent_dim, x_mean, x_std)
        self.vae = vae.eval()
        self.z_mean = np.asarray(z_mean, dtype=np.float64)
        self.z_std = np.asarray(z_std, dtype=np.float64)

    def encode(self, windows) -> np.ndarray:
        return self.standardise(encode_means(self.vae, windows, ENCODE_BATCH))

    def standardise(self, mu: np.ndarray) -> np.ndarray:
        """Encoder means (n, dim) -> the standardised states (float64)."""
        return (mu - self.z_mean) / self.z_std

    def describe(self) -> str:
        return f"the VAE's {self.dim} latent means"

    def decoder(self) -> VAEDecoder:
        return VAEDecoder(self)

    def params(self) -> dict:
        arch = [self.vae.encoder[0].out_features, len(self.vae.encoder) // 2,
                type(self.vae.encoder[1]).__name__.lower()]
        return {**super().params(), "architecture": arch}

    def tensors(self) -> dict[str, torch.Tensor]:
        return {**{f"vae.{k}": v for k, v in self.vae.state_dict().items()},
                "z_mean": torch.from_numpy(self.z_mean), "z_std": torch.from_numpy(self.z_std)}

    @classmethod
    def restore(cls, params: dict, tensors: dict) -> VAEEncoder:
        hidden, depth, act = params["architecture"]
        with torch.random.fork_rng(devices=[]):  # an empty module of the fitted shape, then the weights
            vae = VAE(params["window"], params["dim"], int(hidden), int(depth), str(act))
        vae.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("vae.")})
        return cls(vae, tensors["z_mean"].numpy(), tensors["z_std"].numpy(), params["x_mean"], params["x_std"])


#: encoder family name -> class
ENCODERS = {cls.family: cls for cls in (DelayEncoder, LinearEncoder, VAEEncoder)}
