"""The demo (``dynamap demo --out DIR``): the paper's experiment and the tagged extension on the HH burster.

Stages (each timed in ``metrics.json``):

a. the true sweep of V_S over [-50, -30] mV (ground truth);
b. single-series mode (the paper's experiment): V at V_S = -40 mV, one model, a sweep of its control
   input c over :attr:`DemoSettings.single_c_range` (in mV: the series is tagged -40 mV, and the
   range is its +-25 %), scored by the regime-sequence agreement beside its chance level
   (:func:`dynamap.analysis.compare.evaluate_single`);
c. tagged mode: segments at :attr:`DemoSettings.tagged_values`, a held-out grid over [-44, -34] mV
   without the training values, scored by :func:`dynamap.analysis.compare.evaluate_tagged`;
d. fixed points of both maps vs the ODE equilibrium
   (:func:`~dynamap.analysis.compare.evaluate_fixed_points`);
e. ``metrics.json`` and the self-contained ``report.html``.

All numbers in :class:`DemoSettings` are our choices (their history: docs/experiments.md);
``quick=True`` uses :data:`QUICK` (tiny fits, short records, few points: a smoke test, not a quality
run).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import numpy as np

from ..analysis.compare import LE_SIGN_TOL, evaluate_fixed_points, evaluate_single, evaluate_tagged
from ..analysis.scores import points_at
from ..analysis.sweep import SweepSettings, sweep
from ..analysis.tag_spectra import spectra_at_tags
from ..io.outputs import staged_dir, to_jsonable, write_json
from ..report.demo import write_demo_report
from ..systems import get_system
from ..systems.simulate import simulate
from .config import FitConfig
from .estimator import DynamapModel

__all__ = ["DemoSettings", "FULL", "QUICK", "run_demo"]


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    """Everything the demo does, in one place (times in s, voltages in mV).

    * ``true_range``: the V_S range of the ground-truth sweep;
    * ``true_num``: the number of V_S values of the ground-truth sweep;
    * ``true_t_end``: the end time of each true orbit of the sweeps;
    * ``true_transient``: the time discarded before recording each true orbit of the sweeps;
    * ``dt``: the sampling step of every simulated true series;
    * ``single_value``: V_S of the single-series training series, also its tag (so c is in mV);
    * ``single_t_end``: the end time of the single-series training series;
    * ``single_transient``: the time discarded before recording the single-series training series;
    * ``single_c_range``: the range of the single-series map's c sweep;
    * ``single_c_num``: the number of c values of that sweep;
    * ``tagged_values``: the training tags of tagged mode, one segment each;
    * ``tagged_segment``: the time recorded per tag (after ``single_transient``);
    * ``heldout_range``: the range of tagged mode's held-out grid;
    * ``heldout_num``: the number of grid values before the exclusion;
    * ``heldout_exclude``: grid values within this many mV of a tag are dropped from the held-out grid;
    * ``model_t_end``: the record of each model orbit in the sweeps (series time);
    * ``model_transient``: the time discarded before recording each model orbit (series time);
    * ``portrait_span``: the time shown in the report's phase portraits and time series;
    * ``spectra_t_end``: the map's record for its Lyapunov spectra at the tags (None: their default);
    * ``fit``: the fit configuration (None: the defaults with a -30 mV threshold, or the quick run's).
    """

    true_range: tuple = (-50.0, -30.0)
    true_num: int = 201
    true_t_end: float = 1200.0
    true_transient: float = 400.0
    dt: float = 0.005
    single_value: float = -40.0
    single_t_end: float = 1600.0
    single_transient: float = 400.0
    single_c_range: tuple = (-50.0, -30.0)
    single_c_num: int = 201
    tagged_values: tuple = (-42.5, -40.5, -38.0, -36.0)
    tagged_segment: float = 1200.0
    heldout_range: tuple = (-44.0, -34.0)
    heldout_num: int = 51
    heldout_exclude: float = 0.1
    model_t_end: float = 250.0
    model_transient: float = 50.0
    portrait_span: float = 60.0
    spectra_t_end: float | None = None
    fit: FitConfig | None = None


FULL = DemoSettings()

#: fit rounds after the first (``FitConfig.restarts``) in the demo: 1, not the default 2, so that the
#: full demo stays within its time budget on 2 cores
DEMO_RESTARTS = 1


def _quick_fit() -> FitConfig:
    """The quick demo's fit: the default reconstruction with one penalty, noise level and candidate,
    no calibration, short selection runs."""
    from ..training.config import RidgeConfig, SelectionConfig

    return FitConfig(
        spike_threshold=-30.0,
        restarts=0,
        ridge=RidgeConfig(ridge=(1e-8,), noise=(1e-3,), candidates=1, calibrate=False),
        selection=SelectionConfig(select_starts=2, select_steps=300, select_transient=50, final_steps=600,
                                  final_transient=100),
    )


QUICK = DemoSettings(
    true_num=11, true_t_end=300.0, true_transient=100.0, single_t_end=300.0, single_transient=100.0,
    single_c_num=20, tagged_segment=120.0, heldout_num=11, model_t_end=60.0, model_transient=20.0,
    portrait_span=30.0, spectra_t_end=80.0, fit=None,
)


def _heldout_grid(s: DemoSettings) -> np.ndarray:
    g = np.linspace(*s.heldout_range, s.heldout_num)
    tags = np.asarray(s.tagged_values)
    keep = np.min(np.abs(g[:, None] - tags[None, :]), axis=1) > s.heldout_exclude
    return np.round(g[keep], 10)


#: the demo's stages, in order, with their typical seconds in the full demo: the progress bar advances
#: by these, so that its estimate of the time left is in proportion to the work left
STAGE_SECONDS = {"true sweep": 12.0, "single: simulate": 0.1, "single: fit": 25.0, "single: sweep": 9.0,
                 "tagged: simulate": 0.3, "tagged: fit": 84.0, "tagged: true held-out sweep": 3.0,
                 "tagged: sweep": 5.0, "tagged: spectra at the tags": 20.0,
                 "tagged: sweep over the true grid": 10.0, "fixed points": 1.0, "report": 7.0}


class _Stages:
    """Timing of stages and a tqdm bar over them (stderr): the stage, the share done and the estimated
    time left, each stage weighted by its share of the work (``seconds``; :data:`STAGE_SECONDS`)."""

    def __init__(self, names: list[str], progress: bool, seconds: dict | None = None):
        from tqdm.auto import tqdm

        seconds = STAGE_SECONDS if seconds is None else seconds
        self.weight = {n: float(seconds.get(n, 1.0)) for n in names}
        self.bar = tqdm(total=sum(self.weight.values()), desc="demo", disable=not progress, file=sys.stderr,
                        leave=True,
                        bar_format="{desc}{percentage:3.0f}%|{bar}| {elapsed} elapsed, ~{remaining} left")
        self.times: dict[str, float] = {}
        self.progress = progress
        self.done = 0.0  # the weight of the stages done (the bar's position)

    def run(self, name: str, fn):
        self.bar.set_description(f"demo: {name}")
        t0 = time.perf_counter()
        out = fn()
        self.times[name] = time.perf_counter() - t0
        self.done += self.weight[name]
        self.bar.update(self.weight[name])
        return out

    def close(self):
        self.bar.close()


def _sweep_true(hh, values, s: DemoSettings, progress: bool, desc: str) -> dict:
    from tqdm.auto import tqdm

    with tqdm(total=len(values), desc=desc, disable=not progress, file=sys.stderr, leave=False) as bar:
        res = sweep(hh, "V_S", list(map(float, values)),
                    SweepSettings(t_end=s.true_t_end, transient=s.true_transient, dt=s.dt, lyapunov=True),
                    progress=bar.update)
    return res.to_dict()


def _sweep_model(model: DynamapModel, values, s: DemoSettings, progress: bool) -> dict:
    """The learned map's sweep of c (all values as one batch; a step bar on stderr when ``progress``)."""
    return sweep(model.as_system(), "c", values,
                 SweepSettings(t_end=s.model_t_end, transient=s.model_transient),
                 progress=(lambda n: None) if progress else None).to_dict()


def _tag_points(true_sweep: dict, hh, s: DemoSettings, progress: bool) -> list[dict]:
    """The true sweep's points at the training tags (the input of the nearest-tag lookup), from the
    full true sweep when it has them (the default grid does), else from a sweep at the tags."""
    values = [float(p["value"]) for p in true_sweep["points"]]
    if all(np.min(np.abs(np.asarray(values) - t)) <= 1e-6 * (1 + abs(t)) for t in s.tagged_values):
        return points_at(true_sweep["points"], s.tagged_values)
    return _sweep_true(hh, s.tagged_values, s, progress, "true sweep at the tags")["points"]


def _fit(series, tags, cfg: FitConfig, seed: int, progress: bool) -> DynamapModel:
    return DynamapModel(cfg, seed=seed).fit(series, param_values=tags, progress=progress)


def _summary_history(h: dict) -> dict:
    ld = h.get("latent_dim", {})
    per = ld.get("per_dim", {})
    return {
        "latent_dim_chosen": ld.get("chosen"),
        "final_loss_per_dim": {k: v.get("final_loss") for k, v in per.items()},
        "kl_units_per_dim": {k: v.get("kl_units") for k, v in per.items()},
        "map_selected_score": h.get("map", {}).get("selected_score"),
        "sampling": h.get("sampling"),
        "fit_timings_s": h.get("timings"),
    }


def _fit_config(s: DemoSettings, quick: bool) -> FitConfig:
    """The demo's fit configuration: ``s.fit``, else the quick run's tiny fits, else the defaults with
    the spike threshold at -30 mV and ``restarts`` = :data:`DEMO_RESTARTS`."""
    if s.fit is not None:
        return s.fit
    return _quick_fit() if quick else FitConfig(spike_threshold=-30.0, restarts=DEMO_RESTARTS)


def _run_single(st: _Stages, hh, s: DemoSettings, cfg: FitConfig, seed: int, progress: bool,
                true_sweep: dict) -> dict:
    """Stage (b), single-series mode: simulate the training series, fit, sweep c, score the regime
    sequence against ``true_sweep``."""
    traj = st.run("single: simulate", lambda: simulate(
        hh, {"V_S": s.single_value}, t_end=s.single_t_end, transient=s.single_transient, dt=s.dt))
    v = traj.series("V")
    m1 = st.run("single: fit", lambda: _fit([v], [s.single_value], cfg, seed, progress))
    c_values = np.linspace(*s.single_c_range, s.single_c_num)
    sw1 = st.run("single: sweep", lambda: _sweep_model(m1, c_values, s, progress))
    train_spb = [int(k) for k in m1.history_["data_stats"][0].get("spb", {})]
    ev1 = evaluate_single(true_sweep, sw1, training_spb=train_spb)
    return {"traj": traj, "v": v, "model": m1, "sweep": sw1, "scores": ev1}


def _run_tagged(st: _Stages, hh, s: DemoSettings, cfg: FitConfig, seed: int, progress: bool,
                true_sweep: dict, true_values: np.ndarray) -> dict:
    """Stage (c), tagged mode: simulate the segments at the tags, fit, sweep and score the held-out
    grid, the map's spectra at the tags, and its sweep over the whole true grid."""
    def seg():
        return [simulate(hh, {"V_S": float(p)}, t_end=s.single_transient + s.tagged_segment,
                         transient=s.single_transient, dt=s.dt).series("V") for p in s.tagged_values]

    segs = st.run("tagged: simulate", seg)
    m2 = st.run("tagged: fit", lambda: _fit(segs, list(map(float, s.tagged_values)), cfg, seed, progress))
    grid = _heldout_grid(s)
    true_held = st.run("tagged: true held-out sweep",
                       lambda: _sweep_true(hh, grid, s, progress, "true held-out sweep"))
    sw2 = st.run("tagged: sweep", lambda: _sweep_model(m2, grid, s, progress))
    ev2 = evaluate_tagged(true_held, sw2, tag_points=_tag_points(true_sweep, hh, s, progress))
    # the slow direction: the map's spectrum beside the system's at each training tag
    spectra = st.run("tagged: spectra at the tags", lambda: spectra_at_tags(
        hh, "V_S", m2.as_system(), s.tagged_values, t_end=s.true_t_end, transient=s.true_transient,
        model_t_end=s.spectra_t_end))
    # the tagged map over the whole true grid as well, for the side-by-side diagram
    sw2_full = st.run("tagged: sweep over the true grid",
                      lambda: _sweep_model(m2, true_values, s, progress))
    return {"model": m2, "grid": grid, "scores": ev2, "spectra": spectra, "sweep_full": sw2_full}


def _fixed_points(hh, s: DemoSettings, m1: DynamapModel, m2: DynamapModel) -> dict:
    """Stage (d): each map's fixed point against the ODE equilibrium at its (first or second) tag."""
    return {
        "single": evaluate_fixed_points(m1, hh, {"V_S": s.single_value}, float(m1.param_values_[0])),
        "tagged": evaluate_fixed_points(m2, hh, {"V_S": float(s.tagged_values[1])},
                                        float(s.tagged_values[1])),
    }


def _metrics(s: DemoSettings, cfg: FitConfig, seed: int, quick: bool, single: dict, tagged: dict,
             fp: dict) -> dict:
    """The contents of ``metrics.json`` (without the timings, added when the stages are done)."""
    m1, m2 = single["model"], tagged["model"]
    return {
        "settings": dataclasses.asdict(dataclasses.replace(s, fit=None)),
        "fit_config": json.loads(json.dumps(to_jsonable(dataclasses.asdict(cfg)))),
        "seed": int(seed),
        "quick": bool(quick),
        "single": {
            "training_value": s.single_value,
            "latent_dim": int(m1.state_dim_),
            "dt_map": float(m1.dt_),
            "c_range": list(s.single_c_range),
            "c_num": int(s.single_c_num),
            "regime_sequence": single["scores"],
            "history": _summary_history(m1.history_),
        },
        "tagged": {
            "training_values": list(map(float, s.tagged_values)),
            "heldout_values": [float(x) for x in tagged["grid"]],
            "latent_dim": int(m2.state_dim_),
            "dt_map": float(m2.dt_),
            "scores": tagged["scores"],
            "spectra_at_tags": tagged["spectra"],
            "history": _summary_history(m2.history_),
        },
        "fixed_points": fp,
        "lyapunov_sign_tol": LE_SIGN_TOL,
    }


def _report(path, s: DemoSettings, metrics: dict, true_sweep: dict, single: dict, tagged: dict) -> None:
    """Stage (e): the single map's free run at its training c and the report at ``path``."""
    m1, m2 = single["model"], tagged["model"]
    n_free = int(s.portrait_span / m1.dt_)
    free = m1.simulate_batch([float(m1.param_values_[0])], n_free,
                             int(s.model_transient / m1.dt_))[0]
    fits = {
        "single": {"latent_dim": m1.state_dim_, "dt": m1.dt_, "c": float(m1.param_values_[0]),
                   "history": m1.history_, "recovered": m1.transform(single["v"]), "free_run": free,
                   "states": m1.encoder_.describe(), "map_family": m1.config.map_family},
        "tagged": {"history": m2.history_, "latent_dim": m2.state_dim_, "states": m2.encoder_.describe(),
                   "map_family": m2.config.map_family},
    }
    write_demo_report(path, s, metrics, true_sweep, single["sweep"], tagged["sweep_full"], single["traj"],
                      single["v"], fits)


def _write_outputs(tmp, metrics: dict, true_sweep: dict, single: dict, tagged: dict) -> None:
    """``metrics.json``, both model bundles and the three sweeps into the staged folder ``tmp``."""
    write_json(metrics, tmp / "metrics.json")
    single["model"].save(tmp / "model_single")
    tagged["model"].save(tmp / "model_tagged")
    for name, obj in (("sweep_true.json", true_sweep), ("sweep_single.json", single["sweep"]),
                      ("sweep_tagged.json", tagged["sweep_full"])):
        write_json(obj, tmp / name)


def run_demo(out, seed: int = 0, quick: bool = False, progress: bool = True) -> dict:
    """Run the demo and write ``out/metrics.json`` and ``out/report.html``; returns the metrics dict.

    ``quick``: the :data:`QUICK` settings (a smoke test). Nothing is left in ``out`` when a stage
    fails (the files are staged).
    """
    s = QUICK if quick else FULL
    cfg = _fit_config(s, quick)
    hh = get_system("hh-burster")
    t_start = time.perf_counter()
    st = _Stages(list(STAGE_SECONDS), progress)
    with staged_dir(out) as tmp:
        try:
            true_values = np.linspace(*s.true_range, s.true_num)
            true_sweep = st.run("true sweep", lambda: _sweep_true(hh, true_values, s, progress, "true sweep"))
            single = _run_single(st, hh, s, cfg, seed, progress, true_sweep)
            tagged = _run_tagged(st, hh, s, cfg, seed, progress, true_sweep, true_values)
            fp = st.run("fixed points", lambda: _fixed_points(hh, s, single["model"], tagged["model"]))
            metrics = _metrics(s, cfg, seed, quick, single, tagged, fp)
            st.run("report", lambda: _report(tmp / "report.html", s, metrics, true_sweep, single, tagged))
            metrics["timings_s"] = {**st.times, "total": time.perf_counter() - t_start}
            _write_outputs(tmp, metrics, true_sweep, single, tagged)
        finally:
            st.close()
    return metrics
