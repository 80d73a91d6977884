"""The results harness: protocols as data, predictors behind one interface, dynamap's own scores.

A **protocol** (:class:`Protocol`) names a system (or the real B6 recordings), its training tags, the
held-out values, the recording and free-run lengths, the measurement noise and the scoring mode:

* ``tagged``: the predictor is fitted on one segment per tag and free-runs at every held-out value;
  scored by :func:`dynamap.compare` in tagged mode (held-out accuracy, beyond-lookup recall,
  transition error, Lyapunov sign agreement where the predictor has exponents; docs/metrics.md);
* ``single``: one series at one value; the c sweep's regime order against the true sweep's
  (:func:`dynamap.analysis.compare.evaluate_single`: agreement beside its chance level);
* ``fi``: the real B6 current steps; the steady firing rate (last second) of a 2 s free run at the
  held-out currents against the recordings' (relative error; benchmarks/real_protocol.py's rule).

A **predictor** is anything with ``fit(data, seed)`` and a free run at a value: :class:`Dynamap`
(any encoder x map family), :class:`Peer` (an adapter module ``_peer_*.py`` for a package on the
index, with its documented defaults or the settings a small search on the training tags picked),
:class:`OurNGRC` (benchmarks/ngrc_peer.py), and the baselines :class:`Lookup` (the nearest tag's
truth) and :class:`Interpolation` (the spike count interpolated linearly between bursting tags; the
rate between tags in ``fi`` mode). Every peer sees the data the same way: the series subsampled to
the step of dynamap's own sampling rule, z-scored with the pooled training mean and std, the tags
normalised as a tagged dynamap model does (``c = (value - mean) / half range``); its free runs are
labelled with :func:`dynamap.classify` at the protocol's threshold and the sampling rule's hysteresis.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import time
from pathlib import Path

import numpy as np

# benchmarks/ is on sys.path (results.py, the tests put it there)
from ngrc_peer import tag_quality
from noise_protocol import noisy_copy
from real_protocol import B6, REAL, REARM, UP, steady_rate

import dynamap
from dynamap.analysis.compare import evaluate_single, point_label
from dynamap.analysis.scores import points_at
from dynamap.pipeline._inputs import sampling_for
from dynamap.pipeline.demo import DEMO_RESTARTS, FULL, QUICK, _heldout_grid

HERE = Path(__file__).resolve().parent
#: samples of the nearest tag's series that drive a peer before its free run
WARM = 2000
#: why a parameter-aware peer does not run in single-series mode
ONE_VALUE = ("a parameter input seen at one value carries no knob: the peer's documented use needs series at "
             "two or more parameter values (dynamap's c is a prior there)")
#: the seeds of a peer's settings search (never the seeds scored)
SEARCH_SEEDS = (100,)
#: protocols that take another's searched settings (the same tags; the noisy demo the clean demo's)
SEARCH_FROM = {"hh-tagged-noise": "hh-tagged"}


@dataclasses.dataclass(frozen=True)
class Protocol:
    """One benchmark protocol (module docstring); times in the system's units."""

    key: str
    title: str
    system: str
    mode: str  # "tagged", "single" or "fi"
    tags: tuple
    #: held-out values: (from, to, num) of a grid with the tags (and values within 0.1 % of the
    #: range of one) left out, or an explicit tuple of values with ``explicit``
    grid: tuple
    segment: float
    transient: float
    dt: float
    true_t_end: float
    true_transient: float
    model_t_end: float
    model_transient: float
    threshold: float | None = None
    noise: str = "clean"
    explicit: bool = False
    command: str = ""

    def heldout(self) -> list[float]:
        if self.explicit:
            return [float(v) for v in self.grid]
        if self.grid == ("demo",):
            return [float(v) for v in _heldout_grid(FULL)]
        if self.grid == ("quick",):
            return [float(v) for v in _heldout_grid(QUICK)]
        lo, hi, num = self.grid
        tol = 1e-3 * (hi - lo)
        return [round(float(v), 9) for v in np.linspace(lo, hi, int(num))
                if self.mode == "single" or min(abs(v - t) for t in self.tags) > tol]

    def spike_threshold(self) -> float:
        if self.threshold is not None:
            return float(self.threshold)
        return float(dynamap.get_system(self.system).spike_threshold)


def _hh(key, title, noise="clean", **kw) -> Protocol:
    s = FULL
    base = dict(system="hh-burster", mode="tagged", tags=tuple(float(v) for v in s.tagged_values), grid=("demo",),
                segment=s.tagged_segment, transient=s.single_transient, dt=s.dt, true_t_end=s.true_t_end,
                true_transient=s.true_transient, model_t_end=s.model_t_end, model_transient=s.model_transient,
                threshold=-30.0, noise=noise)
    return Protocol(key, title, **{**base, **kw})


PROTOCOLS: dict[str, Protocol] = {p.key: p for p in [
    _hh("hh-tagged", "HH burster, the demo's tagged protocol (tags -42.5, -40.5, -38, -36 mV; 49 held-out "
        "values over [-44, -34] mV; 1200 s a tag)"),
    _hh("hh-tagged-noise", "the same with 1 mV white measurement noise on every training segment (the truth "
        "clean)", noise="white:1"),
    Protocol("hr-tagged", "Hindmarsh-Rose, tags I = 1.8, 2.7, 3.1, 3.5 (2 spikes, 4, chaotic, tonic); 41 "
             "held-out values over [1.4, 3.6]", "hindmarsh-rose", "tagged", (1.8, 2.7, 3.1, 3.5), (1.4, 3.6, 45),
             20000.0, 2000.0, 0.05, 12000.0, 2000.0, 5000.0, 1000.0),
    Protocol("ml-tagged", "Morris-Lecar burster, tags I = 44.85, 45.15, 45.45, 45.9 (3 spikes, 4, 5, tonic); "
             "33 held-out values over [44.5, 46.3]", "morris-lecar-burster", "tagged", (44.85, 45.15, 45.45, 45.9),
             (44.5, 46.3, 37), 200000.0, 50000.0, 0.5, 110000.0, 10000.0, 100000.0, 20000.0),
    Protocol("hh-single", "HH burster, one series at V_S = -40 mV (4 spikes); the c sweep over -40 +- 25 % "
             "(101 values) against the true sweep (201)", "hh-burster", "single", (-40.0,), (-50.0, -30.0, 201),
             1200.0, 400.0, 0.005, 1200.0, 400.0, 250.0, 50.0, threshold=-30.0),
    Protocol("b6-fi", "real cortical neuron (B6, 2 s current steps at 4 kHz): tags 106, 225, 341 pA, the steady "
             "rate at the held-out 162 and 284 pA", "real-b6", "fi", (106.0, 225.0, 341.0), (162.0, 284.0),
             2.0, 0.0, 0.00025, 0.0, 0.0, 2.0, 1.0, threshold=UP, explicit=True),
    # the CI smoke protocol: the demo's QUICK settings (120 s a tag, 11 held-out values)
    Protocol("hh-quick", "HH burster, the demo's QUICK tagged protocol (120 s a tag, 9 held-out values): the "
             "harness's smoke test", "hh-burster", "tagged", tuple(float(v) for v in QUICK.tagged_values),
             ("quick",), QUICK.tagged_segment, QUICK.single_transient, QUICK.dt, QUICK.true_t_end,
             QUICK.true_transient, QUICK.model_t_end, QUICK.model_transient, threshold=-30.0),
]}


# ------------------------------------------------------------------------------------------ data


@dataclasses.dataclass
class Data:
    """A protocol's training series (noisy where it says), their truth and the held-out truth."""

    protocol: Protocol
    series: list  # dynamap.Series, one per tag
    tags: list
    values: list  # held-out values
    truth: dict  # tagged/single: the true sweep at the values; fi: {"rates": {value: rate}}
    tag_points: list | None  # tagged: the true sweep's points at the tags; fi: the tags' rates


def load(p: Protocol, cache: Path | None = None) -> Data:
    """The protocol's clean training series and truths (true sweeps cached in ``cache``)."""
    values = p.heldout()
    if p.mode == "fi":
        if not REAL.is_dir():
            raise FileNotFoundError(f"the real recordings are not at {REAL}")
        rec = {i: dynamap.read_series(REAL / f"bluepyefe_B6_IDRest_{B6[i]}.csv") for i in B6}
        rates = {float(i): steady_rate(np.asarray(s.values, float), float(s.dt)) for i, s in rec.items()}
        series = [rec[int(t)] for t in p.tags]
        return Data(p, series, list(p.tags), values, {"rates": rates}, [rates[t] for t in p.tags])
    system = dynamap.get_system(p.system)
    param, obs = system.control, system.observable
    series = [dynamap.simulate(system, {param: v}, t_end=p.transient + p.segment, transient=p.transient,
                               dt=p.dt).series(obs) for v in p.tags]
    settings = dynamap.SweepSettings(t_end=p.true_t_end, transient=p.true_transient, dt=p.dt,
                                     spike_threshold=p.spike_threshold())
    path = None if cache is None else Path(cache) / f"truth-{p.key}.json"
    if path is not None and path.is_file():
        cached = json.loads(path.read_text())
        truth, at_tags = cached["heldout"], cached["tags"]
    else:
        truth = dynamap.sweep(system, param, values, settings).to_dict()
        at_tags = dynamap.sweep(system, param, list(p.tags), settings).to_dict()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"heldout": truth, "tags": at_tags}))
    return Data(p, series, list(p.tags), values, truth, points_at(at_tags["points"], list(p.tags)))


def training(data: Data, seed: int) -> list:
    """The training series of one seed (its own noise draw)."""
    return [noisy_copy(s, data.protocol.noise, seed, k) for k, s in enumerate(data.series)]


def sampled(data: Data, seed: int) -> tuple[list[np.ndarray], float, float]:
    """A peer's view of one seed's training series: subsampled at the step of dynamap's sampling rule;
    with that step and the rule's spike hysteresis."""
    train = training(data, seed)
    raw = [np.asarray(s.values, dtype=np.float64) for s in train]
    samp = sampling_for(raw, float(train[0].dt), dynamap.FitConfig(spike_threshold=data.protocol.spike_threshold()))
    return [x[::samp.stride] for x in raw], float(samp.dt_map), float(samp.spike_hysteresis)


def nearest(tags, v: float) -> int:
    """The index of the tag nearest to ``v``."""
    return int(np.argmin([abs(v - t) for t in tags]))


# ------------------------------------------------------------------------------------ predictors


class Predictor:
    """``fit(data, seed)`` then ``free(values, t_end, transient)`` -> (orbits, step, failed, lyap) or
    ``sweep(values)`` -> sweep dict; ``unavailable()`` / ``cannot(protocol)``: a reason, or None."""

    key = ""
    label = ""
    family = ""  # "dynamap", "peer", "baseline"
    #: whether its free runs carry a largest Lyapunov exponent (else no sign agreement is scored)
    exponents = False

    def unavailable(self) -> str | None:
        return None

    def cannot(self, p: Protocol) -> str | None:
        return None

    def describe(self) -> str:
        return ""


def _sweep_dict(points: list[dict], tags, source: str) -> dict:
    return {"param": "c", "points": points, "source": {"model": source, "training_values": list(tags)}}


def label_runs(x: np.ndarray, failed: np.ndarray, lyap, values, step: float, threshold: float,
               hysteresis: float) -> list[dict]:
    """Sweep points of free runs ``x`` (rows) as a dynamap sweep labels its orbits."""
    pts = []
    for i, v in enumerate(values):
        if failed[i]:
            pts.append({"value": float(v), "regime": "failed", "status": "failed", "spikes_per_burst": [],
                        "lyapunov_max": None, "isi": []})
            continue
        le = None if lyap is None or not np.isfinite(lyap[i]) else float(lyap[i])
        pts.append({"value": float(v), "status": "ok",
                    **dynamap.classify(x[i], step, threshold, lyapunov_max=le, hysteresis=hysteresis).to_dict()})
    return pts


class Dynamap(Predictor):
    """dynamap with an encoder x map family (None, None: the defaults)."""

    family = "dynamap"
    exponents = True

    def __init__(self, encoder: str | None = None, map_family: str | None = None):
        self.encoder, self.map_family = encoder, map_family
        self.key = "dynamap" if encoder is None else f"dynamap-{encoder}-{map_family}"
        self.label = ("dynamap (default: delay x ridge)" if encoder is None
                      else f"dynamap {encoder} x {map_family}")

    def config(self, p: Protocol) -> dynamap.FitConfig:
        kw = {"spike_threshold": p.spike_threshold()}
        if p.mode == "tagged":
            kw["restarts"] = DEMO_RESTARTS
        if self.encoder is not None:
            kw.update(encoder=self.encoder, map_family=self.map_family, noisy_encoder=None)
        return dynamap.FitConfig(**kw)

    def fit(self, data: Data, seed: int):
        train = training(data, seed)
        values = None if data.protocol.mode == "single" else [float(t) for t in data.tags]
        if data.protocol.mode == "single":
            train = [dataclasses.replace(train[0], param_value=float(data.tags[0]))]
        self.model = dynamap.DynamapModel(self.config(data.protocol), seed=seed).fit(
            train, param_values=values, progress=False)
        self.train = train
        return self

    def describe(self) -> str:
        m = self.model
        return f"{m.encoder_.describe()}, step {m.dt_:g}"

    def sweep(self, values, p: Protocol) -> dict:
        return dynamap.sweep(self.model.as_system(), "c", list(values),
                             dynamap.SweepSettings(t_end=p.model_t_end, transient=p.model_transient)).to_dict()

    def free(self, values, p: Protocol):
        m = self.model
        n = int(round(p.model_t_end / m.dt_))
        x = m.simulate_batch(np.asarray(values, float), n, int(round(p.model_transient / m.dt_)))
        return x, m.dt_

    def training_spb(self) -> list:
        chk = self.model.free_running_check(self.train)["series"][0]
        return chk["data"]["spikes_per_burst"]


class Peer(Predictor):
    """A package on the index through its adapter module ``benchmarks/_peer_<name>.py`` (its
    :data:`NAME`, :data:`IMPORT`, :data:`DEFAULTS`, :data:`SEARCH` and ``Model``), with its
    documented defaults (``searched=False``) or the settings its search on the training tags picked."""

    family = "peer"

    def __init__(self, module: str, searched: bool):
        self.module_name, self.searched = module, searched
        self.mod = importlib.import_module(module)
        self.key = f"{self.mod.NAME}-{'searched' if searched else 'defaults'}"
        self.label = f"{self.mod.NAME} ({'small search on the training tags' if searched else 'documented defaults'})"
        self.chosen: dict = {}  # protocol key -> the searched settings (set by the runner)

    def unavailable(self) -> str | None:
        try:
            importlib.import_module(self.mod.IMPORT)
        except ImportError as e:
            return f"{self.mod.NAME} is not installed ({e}); `pip install 'dynamap[peers]'`"
        return None

    def cannot(self, p: Protocol) -> str | None:
        return ONE_VALUE if p.mode == "single" else None

    def settings(self, p: Protocol) -> dict:
        if not self.searched:
            return dict(self.mod.DEFAULTS)
        got = self.chosen.get(p.key)
        if got is None:
            raise KeyError(f"no searched settings of {self.mod.NAME} for {p.key}; run with --search")
        return {**self.mod.DEFAULTS, **got}

    def describe(self) -> str:
        return json.dumps(self._settings, sort_keys=True)

    def fit(self, data: Data, seed: int, settings: dict | None = None):
        self._settings = settings if settings is not None else self.settings(data.protocol)
        xs, self.step, self.hysteresis = sampled(data, seed)
        pooled = np.concatenate(xs)
        self.mu, self.sd = float(pooled.mean()), float(pooled.std())
        self.lo, self.hi = float(pooled.min()), float(pooled.max())
        t = np.asarray(data.tags, float)
        self.c0, self.cs = float(t.mean()), float(max(0.5 * (t.max() - t.min()), 1e-12))
        self.u = [(x - self.mu) / self.sd for x in xs]
        self.tags = [float(v) for v in data.tags]
        self.model = self.mod.Model(dict(self._settings), seed).fit(self.u, [self.c(v) for v in self.tags])
        return self

    def c(self, v: float) -> float:
        return (float(v) - self.c0) / self.cs

    def runs(self, values, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Free runs of ``n`` steps (volts) at ``values`` from the nearest tag's last WARM samples; the
        failed flags (non-finite, or outside the training range widened by half its span)."""
        near = [nearest(self.tags, v) for v in values]
        warm = [self.u[k][-min(WARM, self.u[k].size // 2):] for k in near]
        z = np.asarray(self.model.run(warm, [self.c(v) for v in values], int(n)), dtype=np.float64)
        x = z * self.sd + self.mu
        pad = 0.5 * (self.hi - self.lo)
        bad = ~np.isfinite(x) | (x < self.lo - pad) | (x > self.hi + pad)
        return np.where(bad, np.nan, x), bad.any(axis=1)

    def sweep(self, values, p: Protocol) -> dict:
        n, skip = int(round(p.model_t_end / self.step)), int(round(p.model_transient / self.step))
        x, failed = self.runs(values, n)
        pts = label_runs(x[:, skip:], failed, None, values, self.step, p.spike_threshold(), self.hysteresis)
        return _sweep_dict(pts, self.tags, self.key)

    def free(self, values, p: Protocol):
        x, failed = self.runs(values, int(round(p.model_t_end / self.step)))
        return x, self.step


class OurNGRC(Predictor):
    """benchmarks/ngrc_peer.py's parameter-aware NG-RC (ours; its settings searched on the HH demo's
    tags), on the peers' footing: sampling rule, z-score, c normalisation, Benettin exponent."""

    family = "peer"
    exponents = True
    key = "ngrc-ours"
    label = "NG-RC (ours, benchmarks/ngrc_peer.py)"

    cannot = Peer.cannot

    def describe(self) -> str:
        return self.cfg.label()

    def fit(self, data: Data, seed: int):
        import ngrc_peer

        self.series, self.step, self.hysteresis = sampled(data, seed)
        self.tags = [float(v) for v in data.tags]
        self.cfg = ngrc_peer.CHOSEN
        self.model = ngrc_peer.NGRC(self.cfg, seed).fit(self.series, self.tags)
        return self

    def _run(self, values, n, skip, lyapunov=True):
        near = [nearest(self.tags, v) for v in values]
        hist = np.stack([self.series[k][-(self.model.span_ + 1):] for k in near])
        return self.model.run(hist, list(values), n, skip, lyapunov=lyapunov)

    def sweep(self, values, p: Protocol) -> dict:
        n, skip = int(round(p.model_t_end / self.step)), int(round(p.model_transient / self.step))
        x, failed, le = self._run(values, n, skip)
        lyap = None if le is None else le / self.step
        pts = label_runs(x, failed, lyap, values, self.step, p.spike_threshold(), self.hysteresis)
        return _sweep_dict(pts, self.tags, self.key)

    def free(self, values, p: Protocol):
        x, _, _ = self._run(values, int(round(p.model_t_end / self.step)), 0, lyapunov=False)
        return x, self.step


class Lookup(Predictor):
    """The nearest tag's truth at every held-out value (its label; in ``fi`` mode its rate)."""

    family = "baseline"
    key = "lookup"
    label = "nearest-tag lookup"

    def cannot(self, p: Protocol) -> str | None:
        return "one tag: the chance level is this protocol's baseline" if p.mode == "single" else None

    def fit(self, data: Data, seed: int):
        self.data = data
        return self

    def near(self, v: float) -> int:
        return nearest(self.data.tags, v)

    def sweep(self, values, p: Protocol) -> dict:
        pts = [{**self.data.tag_points[self.near(v)], "value": float(v)} for v in values]
        return _sweep_dict(pts, self.data.tags, self.key)

    def rate(self, v: float) -> float:
        return float(self.data.tag_points[self.near(v)])


class Interpolation(Lookup):
    """Between two neighbouring bursting tags the spike count interpolated linearly (rounded) from
    the tags' mean spikes per burst; elsewhere the nearest tag's label. ``fi``: the rate interpolated."""

    key = "interpolation"
    label = "linear interpolation between tags"

    def sweep(self, values, p: Protocol) -> dict:
        tags, tp = self.data.tags, self.data.tag_points
        order = np.argsort(tags)
        pts = []
        for v in values:
            pt = {**tp[self.near(v)], "value": float(v)}
            for a, b in zip(order[:-1], order[1:]):
                la, lb = point_label(tp[a]), point_label(tp[b])
                if tags[a] < v < tags[b] and all(isinstance(x, tuple) and x[0] == "bursting" and x[1]
                                                 for x in (la, lb)):
                    na, nb = float(np.mean(la[1])), float(np.mean(lb[1]))
                    k = int(round(na + (nb - na) * (v - tags[a]) / (tags[b] - tags[a])))
                    pt = {"value": float(v), "regime": "bursting", "spikes_per_burst": [k], "status": "ok",
                          "lyapunov_max": None}
            pts.append(pt)
        return _sweep_dict(pts, tags, self.key)

    def rate(self, v: float) -> float:
        tags = np.asarray(self.data.tags, float)
        o = np.argsort(tags)
        return float(np.interp(v, tags[o], np.asarray(self.data.tag_points, float)[o]))


# ----------------------------------------------------------------------------------------- scoring


def score(pred: Predictor, data: Data, seed: int) -> dict:
    """Fit ``pred`` on ``data`` with ``seed`` and score it (the row of the results page)."""
    p = data.protocol
    t0 = time.perf_counter()
    pred.fit(data, seed)
    t_fit = time.perf_counter() - t0
    row = {"protocol": p.key, "predictor": pred.key, "seed": seed, "fit_s": round(t_fit, 2)}
    t1 = time.perf_counter()
    if p.mode == "tagged":
        with_tags = pred.family != "baseline"
        sw = pred.sweep(list(data.values) + (list(data.tags) if with_tags else []), p)
        held = {**sw, "points": sw["points"][:len(data.values)]}
        res = dynamap.compare(data.truth, held, mode="tagged", tag_points=data.tag_points)
        row.update(accuracy=res["heldout_accuracy"], lookup=res["nearest_tag_baseline"],
                   recall=res.get("beyond_lookup_recall"), transition=res["transition"]["abs_error"],
                   sign=res.get("lyapunov_sign_agreement") if pred.exponents else None, failed=res.get("n_failed", 0),
                   n=res["n_points"])
        if with_tags:
            row["tags_reproduced"] = tag_quality(sw["points"][len(data.values):], data.tag_points)[0]
    elif p.mode == "single":
        sw = pred.sweep(np.linspace(p.grid[0], p.grid[1], 101), p)
        ev = evaluate_single(data.truth, sw, training_spb=pred.training_spb())
        row.update(agreement=ev["score"], chance=ev["chance"]["mean"], p_value=ev["chance"]["p_value"],
                   precision=ev["precision"])
    else:  # fi
        if pred.family == "baseline":
            rates = [pred.rate(v) for v in data.values]
        else:
            x, step = pred.free(data.values, p)
            rates = [steady_rate(np.nan_to_num(r, nan=REARM - 1.0), step) for r in x]
        truth = [data.truth["rates"][float(v)] for v in data.values]
        row.update(rates=[round(r, 2) for r in rates], data_rates=[round(r, 2) for r in truth],
                   rate_err=float(np.mean([abs(r / d - 1) for r, d in zip(rates, truth)])),
                   rate_err_max=float(max(abs(r / d - 1) for r, d in zip(rates, truth))))
    row["run_s"] = round(time.perf_counter() - t1, 2)
    row["settings"] = pred.describe()
    return row


def search(peer: Peer, data: Data) -> tuple[dict, list[dict]]:
    """A peer's settings search on the training tags only: every point of its SEARCH grid, fitted with
    the search seeds and free-run at the tags; the winner reproduces the most tag labels, ties broken
    by the smaller mean ISI W1 (``fi``: the smaller mean rate error at the tags)."""
    p = data.protocol
    keys = list(peer.mod.SEARCH)
    tried = []
    for combo in itertools.product(*(peer.mod.SEARCH[k] for k in keys)):
        st = {**peer.mod.DEFAULTS, **dict(zip(keys, combo))}
        t0 = time.perf_counter()
        hits, w = 0, []
        for seed in SEARCH_SEEDS:
            try:
                peer.fit(data, seed, settings=st)
                if p.mode == "fi":
                    x, step = peer.free(data.tags, p)
                    r = [steady_rate(np.nan_to_num(v, nan=REARM - 1.0), step) for v in x]
                    w.append(float(np.mean([abs(a / b - 1) for a, b in zip(r, data.tag_points)])))
                else:
                    h, q = tag_quality(peer.sweep(data.tags, p)["points"], data.tag_points)
                    hits, w = hits + h, w + [q]
            except Exception as e:  # a setting the package cannot fit loses, with its reason
                w.append(float("inf"))
                st = {**st, "_error": f"{type(e).__name__}: {e}"[:200]}
        tried.append({"settings": dict(zip(keys, combo)), "hits": hits, "w": float(np.mean(w)),
                      "s": round(time.perf_counter() - t0, 1), **({"error": st["_error"]} if "_error" in st else {})})
    best = min(tried, key=lambda r: (-r["hits"], r["w"]))
    return best["settings"], tried
