"""The demo's HTML report: composed from the demo's metrics, sweeps and fitted-model data (no model
objects; :func:`dynamap.pipeline.demo.run_demo` computes everything it shows)."""

from __future__ import annotations

from pathlib import Path

from . import demo_figures as dfig
from .figures import latent_evidence_figure
from .html import Report

__all__ = ["write_demo_report"]


def _fmt(x, nd=3):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{nd}g}"
    return str(x)


def _fit_figures(r: Report, f: dict, mode: str) -> None:
    """A fit's training curves and latent-dimension evidence where it has them (a VAE encoder, a
    rollout-trained map), and a paragraph that says what the map is and which readout the fit picked."""
    ld = f["history"].get("latent_dim", {})
    mh = f["history"].get("map", {})
    cand = mh.get("candidates", [{}])[mh.get("selected_candidate", 0)]
    if ld.get("per_dim") or cand.get("loss"):
        r.figures_row([(dfig.training_curves_figure(f["history"], f"{mode} fit"), "Training curves."),
                       (latent_evidence_figure(f["history"], f"{mode} fit"),
                        "Latent-dimension evidence: final loss per D_r and KL per latent unit.")])
    if not cand.get("ridge"):
        return
    pick = cand["ridge"][cand.get("selected_step", 0)]
    control = ("affine in c" if mode == "tagged" else
               "with c as an additive drive (RidgeConfig.drive; one training value cannot tell how c acts)")
    r.paragraph(f"The {mode} map is a {f['map_family']} map on {f['states']} of V, its increment a ridge "
                f"regression over random features {control}; the fit picked noise {pick.get('noise')} and "
                f"penalty {pick.get('penalty')} by its free runs (selection score "
                f"{_fmt(mh.get('selected_score'))}).")


def write_demo_report(path: Path, s, metrics: dict, true_sweep: dict, sw1: dict, sw2_full: dict, traj, v,
                      fits: dict) -> None:
    """Compose the demo's self-contained HTML report: settings ``s`` (a ``DemoSettings``), its
    ``metrics``, the sweeps, the true trajectory ``traj`` and series ``v`` at the single-series value,
    and per fit (``fits["single"]``, ``fits["tagged"]``) what the figures show."""
    r = Report("dynamap demo: the HH burster from one scalar series",
               "After Kuptsov & Stankevich (2025); true system vs learned map. All settings: metrics.json.")
    _single_section(r, s, metrics["single"]["regime_sequence"], true_sweep, sw1, traj, v, fits["single"])
    _tagged_section(r, s, metrics, true_sweep, sw2_full, fits["tagged"])
    _fixed_points_section(r, metrics["fixed_points"])
    r.write(path)


def _single_section(r: Report, s, ev1: dict, true_sweep: dict, sw1: dict, traj, v, f1: dict) -> None:
    """Section 1, single-series mode: the sweeps, the regime-sequence scores, portraits, series, fit."""
    r.heading("1. Single-series mode (the paper's experiment)")
    state1 = f"states: {f1['states']}"
    r.paragraph(
        f"One series of V at V_S = {s.single_value} mV ({s.single_t_end - s.single_transient:g} s, dt "
        f"{s.dt} s); {state1}, map step {f1['dt']:g} s. The map's control c, in the tag's units, is "
        f"swept over {list(s.single_c_range)} ({s.single_c_num} values; training value c = "
        f"{f1['c']:g}) beside the true sweep over the same range: with one training value c and V_S "
        f"correspond only qualitatively, and the score is the order of the regimes.")
    r.figure(dfig.sweeps_side_by_side(true_sweep, sw1, marks=[f1['c']]),
             "Left: true sweep of V_S. Right: the single-series map's sweep of c (dashed: training value). "
             "Rows: spikes per burst (colour = regime), ISIs, local maxima of V, largest Lyapunov exponent.")
    r.table(_single_rows(ev1))
    n_p = int(s.portrait_span / s.dt)
    rec = f1["recovered"]
    n_r = int(s.portrait_span / f1["dt"])
    r.figure(dfig.portraits_figure(traj.states[-n_p:], rec[-n_r:]),
             f"Top: the true state (V, n, S), last {s.portrait_span:g} s. Bottom: the map's states u "
             + f"({f1['states']}, standardised).")
    r.figure(dfig.series_figure([(v.values[-n_p:], s.dt, "true V at V_S = -40 mV (training data)"),
                                 (f1["free_run"], f1["dt"], "free-running map at the training c, decoded")]),
             "Time series: data vs the free-running learned map.")
    _fit_figures(r, f1, "single-series")


def _single_rows(ev1: dict) -> list[dict]:
    """The table of single-series mode's scores (:func:`~dynamap.analysis.compare.evaluate_single`)."""
    return [
        {"quantity": "regime-sequence agreement (LCS / true length)", "value": _fmt(ev1["score"])},
        {"quantity": "precision (LCS / map sequence length; low = fragmented sweep)",
         "value": _fmt(ev1["precision"])},
        {"quantity": "score of the map's regime runs in random order (mean; share >= the map's score)",
         "value": f"{_fmt(ev1['chance']['mean'])}; {_fmt(ev1['chance']['p_value'])}"},
        {"quantity": "regime changes along the sweep (true / map)",
         "value": f"{ev1['n_regime_changes']['true']} / {ev1['n_regime_changes']['model']}"},
        {"quantity": "true sequence", "value": " | ".join(ev1["true_sequence"])},
        {"quantity": "map sequence", "value": " | ".join(ev1["model_sequence"])},
        {"quantity": "true regimes found",
         "value": f"{ev1['n_true_regimes_found']} of {ev1['n_true_regimes']}"},
        {"quantity": "tonic spiking found", "value": str(ev1["tonic_found"])},
        {"quantity": "spikes per burst in training series", "value": str(ev1["training_spb_values"])},
        {"quantity": "new spikes-per-burst values", "value": str(ev1["new_spb"])},
        {"quantity": "diverged c values", "value": str(ev1["n_failed"])},
    ]


def _tagged_section(r: Report, s, metrics: dict, true_sweep: dict, sw2_full: dict, f2: dict) -> None:
    """Section 2, tagged mode: the sweeps, the held-out scores and points, the spectra at the tags, fit."""
    ev2 = metrics["tagged"]["scores"]
    r.heading("2. Tagged mode (c calibrated in mV)")
    r.paragraph(f"Segments of {s.tagged_segment:g} s at V_S = {list(s.tagged_values)} mV; held-out grid of "
                f"{len(metrics['tagged']['heldout_values'])} values over {list(s.heldout_range)} mV "
                "without the tags.")
    r.figure(dfig.sweeps_side_by_side(true_sweep, sw2_full, model_xlabel="c = V_S (mV)",
                                      titles=("true system", "tagged map"), marks=s.tagged_values),
             "Left: true sweep. Right: the tagged map's sweep over the same V_S grid "
             "(dashed: training tags).")
    r.table(_tagged_rows(ev2))
    r.table(ev2["points"], ["value", "true", "model", "match"])
    _spectra_table(r, metrics["tagged"]["spectra_at_tags"])
    _fit_figures(r, f2, "tagged")


def _periodic(per: dict | None) -> str:
    """'; near 0 at k of n periodic values' of a ``lyapunov_periodic`` entry ('' without one)."""
    if not per or not per.get("n_periodic"):
        return ""
    return f"; within the band of 0 at {per['n_near_zero']} of the {per['n_periodic']} values where the system is periodic"


def _tagged_rows(ev2: dict) -> list[dict]:
    """The table of tagged mode's scores (:func:`~dynamap.analysis.compare.evaluate_tagged`)."""
    tr = ev2["transition"]
    return [
        {"quantity": "held-out accuracy (regime + spikes-per-burst set)",
         "value": f"{_fmt(ev2['heldout_accuracy'])} ({ev2['n_match']}/{ev2['n_points']})"},
        {"quantity": "nearest-tag lookup on the same values (the true regime at the nearest tag)",
         "value": f"{_fmt(ev2.get('nearest_tag_baseline'))} ({ev2.get('n_lookup_match')}/{ev2['n_points']})"},
        {"quantity": "beyond-lookup recall (share of the lookup's misses the map gets right)",
         "value": _fmt(ev2.get("beyond_lookup_recall"))},
        {"quantity": "bursting -> tonic: true / map / |error| (mV)",
         "value": f"{_fmt(tr['true'])} / {_fmt(tr['model'])} / {_fmt(tr['abs_error'])}"},
        {"quantity": f"largest-exponent sign agreement (zero band {ev2['lyapunov_tol']} /s): the map's own exponent",
         "value": _fmt(ev2["lyapunov_sign_agreement"]) + _periodic(ev2.get("lyapunov_periodic"))},
        {"quantity": "... the map's exponent in a flow's terms (the motion's growth or the largest transverse one)",
         "value": _fmt(ev2.get("lyapunov_flow_sign_agreement")) + _periodic(ev2.get("lyapunov_flow_periodic"))},
        {"quantity": "ISI W1 / mean true ISI (median over held-out points)",
         "value": _fmt(ev2["isi_w1_rel_median"])},
        {"quantity": "diverged held-out values", "value": str(ev2["n_failed"])},
    ]


def _spectra_table(r: Report, sp: dict) -> None:
    """The Lyapunov spectra of the map and the system at the training tags, with their paragraph."""
    r.paragraph(f"Lyapunov spectra (/s) at the training tags. The second exponent is the slow direction's "
                f"contraction, the direction V_S acts through; within {sp['factor']:g}x of the system's at "
                f"{sp['n_within']} of {sp['n_compared']} tags. In a flow's terms (docs/metrics.md section 6: "
                f"the growth of the map's direction of motion, the flow's zero exponent, and its largest "
                f"exponent transverse to the motion, the attractor's first nonzero one) the transverse "
                f"exponent is within {sp['factor']:g}x of the system's second at {sp.get('n_flow_within', 0)} "
                f"of {sp.get('n_flow_compared', 0)} tags.")

    def flow(p):
        f = p.get("flow")
        return "-" if not f else f"{f['motion']:.3g} / {f['transverse']:.3g}"

    r.table([{"V_S (mV)": _fmt(p["value"]), "system": ", ".join(f"{v:.3g}" for v in p["true"]),
              "map": (", ".join(f"{v:.3g}" for v in p["model"]) if p["model"] is not None
                      else "not computed (orbit diverged or on the state box)"),
              "second: map / system": _fmt(p["slow_ratio"]),
              "map in a flow's terms: motion / transverse": flow(p),
              "transverse / system's second": _fmt(p.get("flow_slow_ratio"))}
             for p in sp["points"]])


def _fixed_points_section(r: Report, fixed_points: dict) -> None:
    """Section 3: each map's fixed point against the ODE equilibrium."""
    r.heading("3. Fixed points")
    rows = []
    for k, f in fixed_points.items():
        cmp = f.get("comparison", {})
        rows.append({"map": k, "status": f.get("status"), "V* (mV)": _fmt(f.get("observable_value"), 5),
                     "decoded map fixed point (mV)": _fmt(f.get("decoded_fixed_point"), 5),
                     "predicted exp(lambda dt)": "; ".join(f"{a:.4g}{b:+.3g}i"
                                                           for a, b in cmp.get("predicted", [])),
                     "map multipliers": "; ".join(f"{a:.4g}{b:+.3g}i" for a, b in cmp.get("found", [])),
                     "unstable (ODE / map)": f"{f.get('n_unstable_true')} / {f.get('n_unstable_map')}"})
    r.table(rows)
    r.paragraph("The ODE equilibrium is encoded as the recovered state of a constant window at V*; Newton on "
                "the map starts there and from attractor states; the fixed point nearest the encoded "
                "equilibrium is compared.")
