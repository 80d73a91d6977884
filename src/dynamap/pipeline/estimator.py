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
import warnings
from pathlib import Path

import numpy as np
import torch

from .._core.errors import InputError, NonStationaryWarning
from .._core.forking import default_jobs, run_forked
from .._core.types import Series
from ..analysis.stationarity import regime_stretches
from ..embedding.delay import DelayWindows
from ..models._orbits import torch_threads
from ..models.learned_map import LearnedMap
from ..training.encoders import fit_encoder
from ..training.freerun import train_stats
from ..training.map import fit_map
from ._inputs import check_series, sampling_for
from .config import FitConfig
from .fitted import Control, Fitted, anchors_of, load_fitted, save_fitted

__all__ = ["DynamapModel", "fit", "load_model"]

#: the fitted attributes of a model (``model.NAME``), read from its :class:`~dynamap.pipeline.fitted.Fitted`
FITTED_ATTRIBUTES = {
    "sampling_": lambda f: f.sampling, "name_": lambda f: f.name, "x_mean_": lambda f: f.x_mean,
    "x_std_": lambda f: f.x_std, "control_": lambda f: f.control, "mode_": lambda f: f.control.mode,
    "param_values_": lambda f: list(f.control.param_values), "c_center_": lambda f: f.control.center,
    "c_scale_": lambda f: f.control.scale, "c_offset_": lambda f: f.control.offset,
    "c_shift_": lambda f: list(f.control.shift), "encoder_": lambda f: f.encoder, "map_": lambda f: f.map,
    "anchors_": lambda f: f.anchors, "anchor_c_": lambda f: f.anchor_c, "history_": lambda f: f.history,
    "source_dir_": lambda f: f.source_dir, "dt_": lambda f: float(f.sampling.dt_map),
    "spike_threshold_": lambda f: float(f.sampling.spike_threshold),
    "spike_hysteresis_": lambda f: float(f.sampling.spike_hysteresis), "state_dim_": lambda f: int(f.encoder.dim),
}


def round_seed(seed: int, r: int) -> int:
    """The seed of round ``r`` of a fit with ``seed`` (round 0 uses the seed itself)."""
    if r == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), 1_000_003, int(r)]).generate_state(1, dtype=np.uint32)[0])


class DynamapModel:
    """Estimator (scikit-learn style): settings in ``__init__``, ``fit`` returns self, learned
    attributes end in ``_``. Same seed and data give the same model.

    ``fit`` builds one frozen :class:`~dynamap.pipeline.fitted.Fitted` at its end and assigns it once
    (``fitted_``); the fitted attributes (:data:`FITTED_ATTRIBUTES`: ``encoder_``, ``map_``, ``mode_``,
    ``param_values_``, ``dt_``, ``sampling_``, ``history_``, ...) read from it."""

    config_class = FitConfig

    def __init__(self, config: FitConfig | None = None, seed: int = 0):
        self.config = FitConfig() if config is None else config
        self.seed = seed

    def __getattr__(self, name: str):
        get = FITTED_ATTRIBUTES.get(name)
        fitted = self.__dict__.get("fitted_")
        if get is None or fitted is None:
            raise AttributeError(f"DynamapModel has no attribute {name!r}"
                                 + ("" if get is None else " (not fitted yet: call fit or load_model)"))
        return get(fitted)

    # ------------------------------------------------------------------ fitting
    def fit(self, series_list, param_values=None, progress: bool = True) -> DynamapModel:
        cfg = self.config
        series_list, tags = check_series(series_list, param_values)
        with torch_threads(cfg.num_threads):
            self.fitted_ = self._fit(series_list, tags, progress)
        return self

    def _fit(self, series_list, tags, progress) -> Fitted:
        cfg = self.config
        timings = {}
        t0 = time.perf_counter()
        dt = float(series_list[0].dt)
        xs = [np.asarray(s.values, dtype=np.float64) for s in series_list]
        samp = sampling_for(xs, dt, cfg)
        stationarity = stationarity_of(series_list, xs, samp)
        res = [x[:: samp.stride] for x in xs]
        pooled = np.concatenate(res)
        x_mean, x_std = float(pooled.mean()), float(pooled.std())
        windows = DelayWindows([(r - x_mean) / x_std for r in res], samp.window)
        timings["embedding_s"] = time.perf_counter() - t0

        control = Control.of(tags, series_list, cfg)
        noise = samp.noise_report()
        encoder = cfg.encoder
        if (cfg.noisy_encoder is not None and noise["too_large"] and cfg.noisy_encoder != cfg.encoder
                and control.mode == "single"):
            encoder = cfg.noisy_encoder
            noise["message"] = (f"{noise['message']}; the states are the {encoder} encoder's, not the "
                                f"{cfg.encoder} encoder's (FitConfig.noisy_encoder)")
        fit_cfg = cfg  # the settings the encoder is fitted with
        if noise["too_large"] and encoder == "delay" and cfg.noisy_slow and not cfg.delay.slow:
            fit_cfg = dataclasses.replace(cfg, delay=dataclasses.replace(cfg.delay, slow=cfg.noisy_slow))
            noise["slow"] = list(cfg.noisy_slow)
            noise["message"] += (f"; the delay state carries leaky averages of the series with time constants "
                                 f"{', '.join(f'{t:g}' for t in cfg.noisy_slow)} fast time scales "
                                 "(FitConfig.noisy_slow)")
        elif noise["too_large"] and encoder == cfg.encoder:
            noise["message"] += "; do not trust the map beyond its free-running check"
        noise["encoder"] = encoder
        refs = [train_stats(r[samp.window - 1 :], float(samp.dt_map), float(samp.spike_threshold),
                            keep_trace=True, hysteresis=float(samp.spike_hysteresis))
                for r in res]
        c_norm = [float(v) for v in control.normalise(np.asarray(control.param_values))]
        data = {"windows": windows, "n_seg": len(res), "refs": refs, "c_norm": c_norm, "sampling": samp,
                "encoder_config": fit_cfg,
                "x_mean": x_mean, "x_std": x_std, "single": control.mode == "single", "encoder": encoder,
                "map_config": cfg.map_settings(control.mode)}  # (the family's settings, the selection's)

        # rounds: an encoder and its map candidates; another round with fresh random streams while no
        # map scores restart_score or better
        n_rounds = 1 + (cfg.restarts if control.mode == "single" else cfg.tagged_restarts)
        rounds, best = [], None
        timings["vae_s"] = timings["map_s"] = 0.0
        for r in range(n_rounds):
            out = self._round(data, round_seed(self.seed, r), r, progress)
            timings["vae_s"] += out["vae_s"]
            timings["map_s"] += out["map_s"]
            rounds.append({k: out[k] for k in ("seed", "latent_dim", "selected_score", "vae_s", "map_s")})
            if best is None or out["selected_score"] < best["selected_score"]:
                best = out
            if best["selected_score"] <= cfg.restart_score:
                break
        control = dataclasses.replace(control, shift=tuple(best["c_shift"]))
        anchors, anchor_c = anchors_of(best["latents"], control.param_values)
        map_hist = {**best["map_hist"], "round": best["round"], "rounds": rounds}
        timings["total_s"] = time.perf_counter() - t0
        history = {
            "between_tags": between_tags(map_hist, control.param_values),
            "sampling": samp.to_dict(),
            "noise": noise,
            "stationarity": stationarity,
            "latent_dim": best["evidence"],
            "map": map_hist,
            "data_stats": [r.to_dict() for r in refs],
            "timings": timings,
            "mode": control.mode,
            "param_values": list(control.param_values),
            "seed": self.seed,
        }
        return Fitted(samp, series_list[0].name, x_mean, x_std, control, best["encoder"], best["map"], anchors,
                      anchor_c, history)

    def _round(self, data: dict, seed: int, r: int, progress: bool) -> dict:
        """One round of the fit with the random streams of ``seed``: the encoder, the recovered states,
        and the map candidates (side by side, ``n_jobs`` at a time)."""
        cfg, samp = self.config, data["sampling"]
        n_jobs = default_jobs(cfg.num_threads) if cfg.n_jobs is None else cfg.n_jobs
        t1 = time.perf_counter()
        encoder, evidence, z = fit_encoder(data["encoder"], data["windows"], data["encoder_config"], seed=seed,
                                           x_mean=data["x_mean"], x_std=data["x_std"], progress=progress,
                                           n_jobs=n_jobs, sampling=samp)
        vae_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        seg = data["windows"].segment_of
        latents = [z[seg == i].astype(np.float32) for i in range(data["n_seg"])]
        out = {"round": r, "seed": seed, "latent_dim": encoder.dim, "encoder": encoder, "evidence": evidence,
               "latents": latents}
        decode = encoder.decoder()
        tag = "" if r == 0 else f" (round {r + 1})"

        def candidate(job: tuple[int, str | None]):
            k, label = job  # label: the round's progress bar, shown by its first candidate only
            return fit_map(latents, data["c_norm"], *data["map_config"], seed=seed, decode=decode,
                           refs=data["refs"], dt=float(samp.dt_map), threshold=float(samp.spike_threshold),
                           hysteresis=float(samp.spike_hysteresis), candidate=k,
                           progress=progress and label is not None, label=label, encoder=encoder,
                           delay=(cfg.delay.taps, cfg.delay.lag), single=data["single"])

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

    # ------------------------------------------------------------------ public API
    def normalise_c(self, c: np.ndarray) -> np.ndarray:
        """Control input in the tag's units -> the network's normalised input: affine, plus the
        calibration shifts ``c_shift_`` (one per training value, linear between them, constant beyond;
        see ``SelectionConfig.c_shifts``)."""
        return self.control_.normalise(c)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised states (N, d) -> observable (N,) in data units, float32 (the encoder's decoder)."""
        return self.encoder_.decoder()(z)

    def _check_fitted(self):
        if "fitted_" not in self.__dict__:
            raise InputError("this DynamapModel is not fitted yet; call fit(...) or DynamapModel.load(dir)")

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

    # ------------------------------------------------------------------ persistence
    def save(self, directory) -> None:
        """Write the model bundle to ``directory`` (see :mod:`dynamap.io.bundle`)."""
        self._check_fitted()
        save_fitted(directory, self.fitted_, self.config, self.seed,
                    {"latent_dim.png": _latent_png(self.history_)})

    @classmethod
    def load(cls, directory) -> DynamapModel:
        """Rebuild a fitted model from a bundle written by :meth:`save` (or by an earlier version)."""
        config, seed, fitted = load_fitted(directory)
        model = cls(config, seed=seed)
        model.fitted_ = fitted
        return model


def stationarity_of(series_list, xs: list[np.ndarray], samp) -> list[dict]:
    """Per series, whether it stays in one regime (:func:`dynamap.analysis.stationarity.regime_stretches`
    with the fit's spike rule); a :class:`NonStationaryWarning` naming the times of each that does not."""
    out = []
    for i, (s, x) in enumerate(zip(series_list, xs)):
        r = regime_stretches(x, float(s.dt), float(samp.spike_threshold), float(samp.spike_hysteresis),
                             t0=float(s.t0))
        out.append(r)
        if not r["stationary"]:
            warnings.warn(f"series {i}: {r['message']}", NonStationaryWarning, stacklevel=4)
    return out


def between_tags(map_hist: dict, values) -> list[dict] | None:
    """The cross-tag validation of the selected map (tagged ridge fits with an interior tag): per
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
        out.append({"value": float(values[k]), "score": float(seg["score"]),
                    "isi_ratio": seg.get("isi_ratio"), "starts_ok": len(ok), "starts": len(seg["starts"]),
                    "spb_tv": float(np.mean([st["spb_tv"] for st in ok])) if ok else None})
    return out


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
