"""The estimator: from one (or several tagged) scalar series to a parameterised neural-network map.

Steps (Kuptsov & Stankevich 2025, with our choices documented in :class:`FitConfig`):

1. data rules: spike threshold, sampling step (stride) and window D_e from the series;
2. delay windows R(n) (lag 1, gathered on the fly), scaled by the pooled mean/std of the series;
3. the encoder (``FitConfig.encoder``: delay taps, principal components, or the paper's VAE with its
   latent dimension read off the training), whose states are the recovered states;
4. map candidates u(n+1) = F(u(n), c) of ``FitConfig.map_family`` on the states, each selected on
   free-running spike statistics;
5. steps 3-4 form a round; while the best map so far scores worse than ``restart_score``, another
   round runs with fresh random streams (``FitConfig.restarts``) and the best map of all rounds is kept.

Single-series mode: one series, one constant c. Tagged mode: several series with their parameter
values as c (normalised internally); training pairs never cross segment boundaries.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from .._core.errors import InputError
from .._core.forking import default_jobs, run_forked
from .._core.types import Series
from ..embedding.delay import DelayWindows
from ..embedding.rules import SamplingChoice, choose_sampling
from ..io.bundle import Bundle, read_bundle, write_bundle
from ..models._orbits import torch_threads
from ..models.encoders import ENCODERS
from ..models.learned_map import LearnedMap
from ..training.encoders import fit_encoder
from ..training.freerun import train_stats
from ..training.map import blank_map, fit_map
from . import _compat
from ._inputs import check_series
from .config import FitConfig

__all__ = ["DynamapModel", "fit", "load_model"]

#: start states kept per segment for ``initial_states`` (spread evenly over the recording)
N_ANCHORS = 64


def round_seed(seed: int, r: int) -> int:
    """The seed of round ``r`` of a fit with ``seed`` (round 0 uses the seed itself)."""
    if r == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), 1_000_003, int(r)]).generate_state(1, dtype=np.uint32)[0])


class DynamapModel:
    """Estimator (scikit-learn style): settings in ``__init__``, ``fit`` returns self, learned
    attributes end in ``_``. Same seed and data give the same model."""

    config_class = FitConfig

    def __init__(self, config: FitConfig | None = None, seed: int = 0):
        self.config = FitConfig() if config is None else config
        self.seed = seed

    # ------------------------------------------------------------------ fitting
    def fit(self, series_list, param_values=None, progress: bool = True) -> DynamapModel:
        cfg = self.config
        series_list, tags = check_series(series_list, param_values)
        with torch_threads(cfg.num_threads):
            return self._fit(series_list, tags, progress)

    def _fit(self, series_list, tags, progress):
        cfg = self.config
        timings = {}
        t0 = time.perf_counter()
        dt = float(series_list[0].dt)
        xs = [np.asarray(s.values, dtype=np.float64) for s in series_list]
        samp = self._sampling(xs, dt)
        self.sampling_ = samp
        self.name_ = series_list[0].name
        res = [x[:: samp.stride] for x in xs]
        pooled = np.concatenate(res)
        self.x_mean_, self.x_std_ = float(pooled.mean()), float(pooled.std())
        windows = DelayWindows([(r - self.x_mean_) / self.x_std_ for r in res], samp.window)
        timings["embedding_s"] = time.perf_counter() - t0

        self._set_control(tags, series_list)
        refs = [train_stats(r[samp.window - 1 :], self.dt_, self.spike_threshold_, keep_trace=True,
                            hysteresis=self.spike_hysteresis_)
                for r in res]
        self.c_shift_ = [0.0] * len(self.param_values_)
        c_norm = [float(v) for v in self.normalise_c(np.asarray(self.param_values_))]
        mcfg = self._map_config()

        # rounds: a VAE (latent dimension search) and its map candidates; another round with fresh
        # random streams while no map scores restart_score or better
        n_rounds = 1 + (cfg.restarts if self.mode_ == "single" else cfg.tagged_restarts)
        rounds, best = [], None
        timings["vae_s"] = timings["map_s"] = 0.0
        for r in range(n_rounds):
            out = self._round(windows, len(res), refs, c_norm, mcfg, round_seed(self.seed, r), r, progress)
            timings["vae_s"] += out["vae_s"]
            timings["map_s"] += out["map_s"]
            rounds.append({k: out[k] for k in ("seed", "latent_dim", "selected_score", "vae_s", "map_s")})
            if best is None or out["selected_score"] < best["selected_score"]:
                best = out
            if best["selected_score"] <= cfg.restart_score:
                break
        self.encoder_, self.map_, self.c_shift_ = best["encoder"], best["map"], best["c_shift"]
        latents = best["latents"]
        map_hist = {**best["map_hist"], "round": best["round"], "rounds": rounds}
        self._keep_anchors(latents)
        timings["total_s"] = time.perf_counter() - t0
        self.history_ = {
            "between_tags": self._between_tags(map_hist),
            "sampling": samp.to_dict(),
            "latent_dim": best["evidence"],
            "map": map_hist,
            "data_stats": [r.to_dict() for r in refs],
            "timings": timings,
            "mode": self.mode_,
            "param_values": self.param_values_,
            "seed": self.seed,
        }
        return self

    def _sampling(self, xs: list[np.ndarray], dt: float):
        """The data rules' sampling choice (stride, window, spike threshold) for the series ``xs`` at
        step ``dt``, with ``config.dt`` overriding the map step; every series checked to be long enough."""
        cfg = self.config
        for i, x in enumerate(xs):
            if x.shape[0] < 64:
                raise InputError(f"series {i} is too short: {x.shape[0]} samples; need at least 64 "
                                 "(and many fast oscillations); supply a longer recording")
        samp = choose_sampling(
            xs, dt, threshold=cfg.spike_threshold, threshold_level=cfg.threshold_level,
            samples_per_fast=cfg.samples_per_fast, window_fast=cfg.window_fast,
            min_window=cfg.min_window, max_window=cfg.max_window, hysteresis_noise=cfg.hysteresis_noise,
        )
        if cfg.dt is not None:
            stride = max(1, int(round(cfg.dt / dt)))
            window = int(np.clip(round(cfg.window_fast * samp.fast_time / (stride * dt)), cfg.min_window,
                                 cfg.max_window))
            samp = dataclasses.replace(samp, stride=stride, dt_map=stride * dt, window=window)
        for i, x in enumerate(xs):
            n = len(range(0, x.shape[0], samp.stride))
            need = int(max(cfg.min_fast_periods * samp.fast_time / samp.dt_map, 4 * samp.window, 64))
            if n < need:
                raise InputError(
                    f"series {i} is too short: {n} samples at the map step {samp.dt_map:g} "
                    f"({x.shape[0] * dt:g} time units); need at least {need} ({cfg.min_fast_periods} fast "
                    f"time scales of {samp.fast_time:g}); supply a longer recording"
                )
        return samp

    def _set_control(self, tags, series_list) -> None:
        """Mode and the control input's normalisation: single-series (one tag or none: c offset by
        ``single_c_value`` and scaled by |p0| when the tag is known) or tagged (centred, half-range 1)."""
        cfg = self.config
        if tags is None or len(series_list) == 1:
            self.mode_ = "single"
            p0 = None if tags is None else tags[0]
            if p0 is None:
                p0 = series_list[0].param_value
            known = p0 is not None
            p0 = float(p0) if known else 1.0
            scale = cfg.single_c_scale or (abs(p0) if known and p0 != 0 else 1.0)
            offset = cfg.single_c_value if known else p0
            self.param_values_ = [p0]
            self.c_center_, self.c_scale_, self.c_offset_ = p0, float(scale), float(offset)
        else:
            self.mode_ = "tagged"
            self.param_values_ = [float(t) for t in tags]
            arr = np.asarray(self.param_values_)
            self.c_center_ = float(arr.mean())
            self.c_scale_ = float(max(0.5 * (arr.max() - arr.min()), 1e-12))
            self.c_offset_ = 0.0

    def _keep_anchors(self, latents: list[np.ndarray]) -> None:
        """Start states for free runs: :data:`N_ANCHORS` recovered states spread over each segment."""
        anchors, anchor_c = [], []
        for i, lat in enumerate(latents):
            pos = np.linspace(0, lat.shape[0] - 1, N_ANCHORS).astype(int)
            anchors.append(lat[pos])
            anchor_c += [self.param_values_[i]] * N_ANCHORS
        self.anchors_ = np.concatenate(anchors).astype(np.float64)
        self.anchor_c_ = np.asarray(anchor_c, dtype=np.float64)

    def _round(self, windows, n_seg, refs, c_norm, mcfg, seed, r, progress) -> dict:
        """One round of the fit with the random streams of ``seed``: the encoder, the recovered states,
        and the map candidates (side by side, ``n_jobs`` at a time)."""
        cfg = self.config
        n_jobs = default_jobs(cfg.num_threads) if cfg.n_jobs is None else cfg.n_jobs
        t1 = time.perf_counter()
        encoder, evidence = fit_encoder(cfg.encoder, windows, cfg, seed=seed, x_mean=self.x_mean_,
                                        x_std=self.x_std_, span=self._delay_span(), progress=progress,
                                        n_jobs=n_jobs)
        vae_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        z = encoder.encode(windows)
        latents = [z[windows.segment_of == i].astype(np.float32) for i in range(n_seg)]
        out = {"round": r, "seed": seed, "latent_dim": encoder.dim, "encoder": encoder, "evidence": evidence,
               "latents": latents}
        decode = encoder.decoder()
        tag = "" if r == 0 else f" (round {r + 1})"

        def candidate(job: tuple[int, str | None]):
            k, label = job  # label: the round's progress bar, shown by its first candidate only
            return fit_map(latents, c_norm, mcfg, seed=seed, decode=decode, refs=refs,
                           dt=self.dt_, threshold=self.spike_threshold_,
                           hysteresis=self.spike_hysteresis_, candidate=k,
                           progress=progress and label is not None, label=label, family=cfg.map_family,
                           encoder=encoder, delay=(cfg.delay_taps, cfg.delay_lag),
                           single=self.mode_ == "single")

        best, cand_hist = None, []
        n_cand = cfg.candidates()
        for first in range(0, n_cand, n_jobs):  # n_jobs candidates side by side
            ks = range(first, min(first + n_jobs, n_cand))
            label = (f"map candidate {first}" if len(ks) == 1 else f"map candidates {first}-{ks[-1]}") + tag
            jobs = [(k, label if k == first else None) for k in ks]
            for k, (fmap, map_hist) in zip(ks, run_forked(candidate, jobs, wait_factor=3.0, wait_s=300.0)):
                cand_hist.append(map_hist)
                if best is None or map_hist["selected_score"] < best[0]:
                    best = (map_hist["selected_score"], fmap, k)
            if best[0] <= cfg.good_score:
                break
        c_shift = [float(v) for v in cand_hist[best[2]]["c_shift"]]
        out.update(map=best[1], c_shift=c_shift, selected_score=float(best[0]),
                   map_hist={"candidates": cand_hist, "selected_candidate": best[2],
                             "selected_score": best[0], "c_shift": c_shift},
                   vae_s=vae_s, map_s=time.perf_counter() - t2)
        return out

    def _between_tags(self, map_hist: dict) -> list[dict] | None:
        """The cross-tag validation of the selected map (tagged delay fits with an interior tag): per
        interior tag, the free-run score at it of the readout fitted without it (0: the data's
        statistics; ``freerun.SILENT`` when silent), with the per-start details; None otherwise."""
        cands = map_hist.get("candidates") or []
        x = cands[map_hist["selected_candidate"]].get("xval") if cands else None
        if not x:
            return None
        out = []
        for k in x["held_out"]:
            seg = x["segments"][str(k)]
            ok = [st for st in seg["starts"] if st.get("status") == "ok"]
            out.append({"value": float(self.param_values_[k]), "score": float(seg["score"]),
                        "isi_ratio": seg.get("isi_ratio"), "starts_ok": len(ok), "starts": len(seg["starts"]),
                        "spb_tv": float(np.mean([st["spb_tv"] for st in ok])) if ok else None})
        return out

    def _delay_span(self) -> int:
        """Samples in the delay encoder's state; with that encoder the window must hold them."""
        cfg = self.config
        span = (cfg.delay_taps - 1) * cfg.delay_lag + 1
        if cfg.encoder == "delay" and span > self.sampling_.window:
            raise InputError(f"the delay map's state spans {span} samples (delay_taps {cfg.delay_taps}, "
                             f"delay_lag {cfg.delay_lag}), more than the delay window of "
                             f"{self.sampling_.window}; use fewer taps, a shorter lag or a longer window")
        return span

    def _map_config(self):
        """The map settings of this model's mode: ``config.map``, in tagged mode with the stage steps
        multiplied by ``tagged_steps_factor``; without calibration where the config says so
        (:meth:`FitConfig.calibrates`)."""
        cfg = self.config
        mcfg = cfg.map
        if not cfg.calibrates():
            mcfg = dataclasses.replace(mcfg, c_shifts=(), c_refine=())
        if self.mode_ == "tagged":
            steps = tuple(max(1, round(n * cfg.tagged_steps_factor)) for n in mcfg.stage_steps)
            mcfg = dataclasses.replace(mcfg, stage_steps=steps)
        return mcfg

    # ------------------------------------------------------------------ helpers
    def normalise_c(self, c: np.ndarray) -> np.ndarray:
        """Control input in the tag's units -> the network's normalised input: affine, plus the
        calibration shifts ``c_shift_`` (one per training value, linear between them, constant beyond;
        see ``MapConfig.c_shifts``)."""
        c = np.asarray(c, dtype=np.float64)
        base = self.c_offset_ + (c - self.c_center_) / self.c_scale_
        shift = np.asarray(getattr(self, "c_shift_", None) or [0.0], dtype=np.float64)
        if not np.any(shift):
            return base
        tags = np.asarray(self.param_values_, dtype=np.float64)
        order = np.argsort(tags)
        return base + np.interp(c, tags[order], shift[order])

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised states (N, d) -> observable (N,) in data units, float32 (the encoder's decoder)."""
        return self.encoder_.decoder()(z)

    def _check_fitted(self):
        if not hasattr(self, "map_"):
            raise InputError("this DynamapModel is not fitted yet; call fit(...) or DynamapModel.load(dir)")

    # ------------------------------------------------------------------ public API
    def resample(self, series: Series) -> np.ndarray:
        """The values of a series at the map step: a series sampled like the training data is taken
        every ``stride``-th sample, one at the map step as it is; any other step is an error."""
        x = np.asarray(series.values, dtype=np.float64)
        data_dt = self.dt_ / self.sampling_.stride
        if np.isclose(series.dt, data_dt, rtol=1e-6):
            return x[:: self.sampling_.stride]
        if np.isclose(series.dt, self.dt_, rtol=1e-6):
            return x
        raise InputError(f"series.dt={series.dt} matches neither the training data step {data_dt} nor the "
                         f"map step {self.dt_}; resample the series")

    def transform(self, series: Series) -> np.ndarray:
        """Recovered (standardised) states (n, D_r) of a series sampled like the training data."""
        self._check_fitted()
        w = DelayWindows([(self.resample(series) - self.x_mean_) / self.x_std_], self.sampling_.window)
        return self.encoder_.encode(w)

    def as_system(self) -> LearnedMap:
        """The fitted map as a system with control ``c`` (:class:`~dynamap.models.learned_map.LearnedMap`):
        ``dynamap.sweep``, ``simulate``, ``lyapunov_spectrum`` and the fixed points take it like a
        built-in system."""
        self._check_fitted()
        return LearnedMap(self)

    def simulate_batch(self, c_values, n_steps: int, n_transient: int = 0, progress: bool = False) -> np.ndarray:
        """Decoded free orbits (B, n_steps) for all ``c_values`` as one batch, from states on the data
        attractor (:meth:`LearnedMap.orbits <dynamap.models.learned_map.LearnedMap.orbits>`)."""
        self._check_fitted()
        c_values = np.atleast_1d(np.asarray(c_values, dtype=np.float64))
        if int(n_steps) < 1 or int(n_transient) < 0:
            raise InputError(f"n_steps must be >= 1 and n_transient >= 0, got {n_steps}, {n_transient}")
        with torch_threads(self.config.num_threads):
            return self.as_system().orbits(c_values[:, None], int(n_steps), int(n_transient),
                                           progress=progress)[0]

    def free_running_check(self, series_list, second=None) -> dict:
        """The free-running check at the training values (:func:`dynamap.pipeline.check.free_running_check`)."""
        from .check import free_running_check

        self._check_fitted()
        return free_running_check(self, series_list, second)

    # ------------------------------------------------------------------ derived from the sampling
    @property
    def dt_(self) -> float:
        """The map step (time per iteration), in the time unit of the training series."""
        return float(self.sampling_.dt_map)

    @property
    def state_dim_(self) -> int:
        """The dimension of the recovered states (the encoder's)."""
        return int(self.encoder_.dim)

    @property
    def spike_threshold_(self) -> float:
        return float(self.sampling_.spike_threshold)

    @property
    def spike_hysteresis_(self) -> float:
        return float(self.sampling_.spike_hysteresis)

    # ------------------------------------------------------------------ persistence
    def save(self, directory) -> None:
        """Write the model bundle to ``directory`` (see :mod:`dynamap.io.bundle`)."""
        self._check_fitted()
        fitted = {}
        for key in FITTED_JSON:
            v = getattr(self, key + "_")
            fitted[key] = v.to_dict() if key == "sampling" else (list(v) if isinstance(v, list) else v)
        fitted["seed"] = self.seed
        fitted["encoder"] = self.encoder_.params()
        tensors = {"map": self.map_.state_dict(),
                   **{f"encoder.{k}": v for k, v in self.encoder_.tensors().items()},
                   **{k: torch.from_numpy(np.asarray(getattr(self, k + "_"))) for k in FITTED_ARRAYS}}
        write_bundle(directory, Bundle(self.config.to_dict(), fitted, tensors, self.history_),
                     {"latent_dim.png": _latent_png(self.history_)})

    @classmethod
    def load(cls, directory) -> DynamapModel:
        """Rebuild a fitted model from a bundle written by :meth:`save` (or by an earlier version)."""
        b = _compat.current_bundle(read_bundle(directory))
        try:
            model = cls(cls.config_class.from_dict(b.fit_config), seed=int(b.fitted["seed"]))
            for key in FITTED_JSON:
                value = FITTED_DEFAULTS[key](b.fitted) if key in FITTED_DEFAULTS and key not in b.fitted \
                    else b.fitted[key]
                setattr(model, key + "_", _FITTED_TYPES[key](value))
            for key in FITTED_ARRAYS:
                setattr(model, key + "_", b.tensors[key].numpy())
            params = b.fitted["encoder"]
            enc_tensors = {k[8:]: v for k, v in b.tensors.items() if k.startswith("encoder.")}
            model.encoder_ = ENCODERS[params["family"]].restore(params, enc_tensors)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{directory}/config.json is not a valid model config ({e!r})") from None
        if len(model.c_shift_) != len(model.param_values_):
            raise InputError(f"{directory}/config.json: c_shift has {len(model.c_shift_)} values for "
                             f"{len(model.param_values_)} training values")
        cfg = model.config
        model.map_ = blank_map(cfg.map_family, model.encoder_, model._map_config(), (cfg.delay_taps, cfg.delay_lag))
        model.map_.load_state_dict(b.tensors["map"])
        model.map_.eval()
        model.history_ = b.history
        model.source_dir_ = str(directory)
        return model


#: the fitted attributes of a model (``NAME_``) saved in ``config.json`` under ``NAME``, with the type
#: each is read back as; and those saved as tensors in ``weights.pt``; the encoder and the map are
#: saved by their own members (``fitted["encoder"]``, tensors ``encoder.*`` and ``map``)
_FITTED_TYPES = {
    "mode": str, "param_values": lambda v: [float(x) for x in v],
    "sampling": lambda d: SamplingChoice(**d), "x_mean": float, "x_std": float, "c_center": float,
    "c_scale": float, "c_offset": float, "c_shift": lambda v: [float(x) for x in v], "name": str,
}
FITTED_JSON = tuple(_FITTED_TYPES)
FITTED_ARRAYS = ("anchors", "anchor_c")
#: bundles written before a field existed: its value then
FITTED_DEFAULTS = {"c_shift": lambda fitted: [0.0] * len(fitted["param_values"])}


def _latent_png(history: dict) -> bytes:
    from ..report.figures import latent_evidence_figure, to_png

    return to_png(latent_evidence_figure(history))


def fit(series, param_values=None, *, config: FitConfig | None = None, seed: int = 0,
        progress: bool = True) -> DynamapModel:
    """Fit a model to one series (single-series mode) or several tagged ones: ``DynamapModel(config,
    seed).fit(series, param_values)``."""
    return DynamapModel(config, seed=seed).fit(series, param_values=param_values, progress=progress)


def load_model(path) -> DynamapModel:
    """The fitted model in the bundle folder ``path`` (written by :meth:`DynamapModel.save` or
    ``dynamap fit --out``)."""
    return DynamapModel.load(Path(path))
