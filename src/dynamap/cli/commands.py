"""Command implementations: parse-level checks, then one library call each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .._core.errors import InputError
from ..io.outputs import check_out_dir, staged_dir, write_json
from ..io.series import SUFFIXES, ensure_writable, write_series


def _progress(total: int, desc: str, quiet: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=quiet, file=sys.stderr, leave=False, dynamic_ncols=True)


def _parse_sets(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set {item!r}: expected P=V, e.g. --set V_S=-40")
        try:
            out[key.strip()] = float(val)
        except ValueError:
            raise InputError(f"--set {item!r}: value {val!r} is not a number") from None
    return out


def _check_file_out(path: str, suffixes: tuple[str, ...]) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise InputError(f"--out {path}: unknown file type {p.suffix!r}; use one of {', '.join(suffixes)}")
    ensure_writable(p)
    return p


def _positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise InputError(f"{name} must be positive, got {value!r}; pass a positive step such as 0.005")


def _source(args):
    """The system a command works on: ``--system NAME`` or the learned map of ``--model DIR``."""
    if args.system:
        from ..systems import get_system

        return get_system(args.system)
    from ..pipeline.ensemble import is_ensemble, member_name

    if is_ensemble(args.model):
        raise InputError(f"--model {args.model} is an ensemble; pass one of its members, e.g. "
                         f"{Path(args.model) / member_name(0)} ('dynamap sweep' takes the whole ensemble)")
    from ..pipeline.estimator import load_model

    return load_model(args.model).as_system()


# ------------------------------------------------------------------------------------------ systems


def cmd_systems(args) -> int:
    from ..systems import SYSTEMS

    width = max(map(len, SYSTEMS))
    for name, s in sorted(SYSTEMS.items()):
        print(f"{name:{width}s} {s.kind:4s} observable {s.observable}, control {s.control}: {s.description}")
    return 0


# ----------------------------------------------------------------------------------------- simulate


def cmd_simulate(args) -> int:
    from ..systems.simulate import simulate

    out = _check_file_out(args.out, SUFFIXES)
    sets = _parse_sets(args.set)
    _positive("--dt", args.dt)
    system = _source(args)
    p = system.param_vector(sets)  # validates the names before the run
    y0 = None
    if args.model:  # a learned map starts on the data attractor; --seed picks which state
        y0 = system.initial_states(p[None, :], start=args.seed)[0]
    traj = simulate(system, sets, t_end=args.t_end, transient=args.transient, dt=args.dt, y0=y0)
    series = traj.series(system.observable, param_value=float(p[0]) if args.model else None)
    write_series(series, out)
    print(f"wrote {len(series)} samples of {series.name} (dt={series.dt:g}) to {out}", file=sys.stderr)
    return 0


# -------------------------------------------------------------------------------------------- sweep


def cmd_sweep(args) -> int:
    from ..analysis.sweep import SweepSettings, sweep, sweep_values
    from ..report.figures import sweep_figure

    values = sweep_values(args.start, args.stop, args.num)
    _positive("--dt", args.dt)
    if args.jobs < 0:
        raise InputError(f"--jobs must be >= 0, got {args.jobs}")
    check_out_dir(args.out)
    sets = _parse_sets(args.set)
    if args.model:
        from ..pipeline.ensemble import is_ensemble

        if is_ensemble(args.model):
            return _sweep_ensemble(args, values, sets)
    system = _source(args)
    system.parameter(args.param)
    system.param_vector(sets)
    settings = SweepSettings(t_end=args.t_end, transient=args.transient, dt=args.dt,
                             lyapunov=not args.no_lyapunov, spike_threshold=args.spike_threshold)
    with _progress(len(values), f"sweep {system.name} {args.param}", args.quiet) as bar:
        result = sweep(system, args.param, values, settings, fixed=sets, n_jobs=args.jobs or None,
                       progress=None if args.quiet else bar.update,
                       continuation=args.continuation).to_dict()
    with staged_dir(args.out) as tmp:
        write_json(result, tmp / "sweep.json")
        sweep_figure(result, tmp / "sweep.png", title=f"{system.name}: sweep of {args.param}")
    counts: dict[str, int] = {}
    for pt in result["points"]:
        counts[pt["regime"]] = counts.get(pt["regime"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"wrote {args.out}/sweep.json and sweep.png ({len(values)} points: {summary})", file=sys.stderr)
    return 0


def _sweep_ensemble(args, values, sets) -> int:
    """``dynamap sweep --model ENSEMBLE``: every member swept alike, combined point by point (modal
    label, every member's label, agreement)."""
    from ..analysis.sweep import SweepSettings
    from ..pipeline.ensemble import load_ensemble
    from ..report.ensemble_figures import ensemble_sweep_figure

    ens = load_ensemble(args.model)
    for system in ens.as_systems():
        system.parameter(args.param)
        system.param_vector(sets)
    settings = SweepSettings(t_end=args.t_end, transient=args.transient, dt=args.dt,
                             lyapunov=not args.no_lyapunov, spike_threshold=args.spike_threshold)
    with _progress(len(values) * ens.k, f"sweep of {ens.k} models, {args.param}", args.quiet) as bar:
        result = ens.sweep(args.param, values, settings, fixed=sets, n_jobs=args.jobs or None,
                           progress=None if args.quiet else bar.update, continuation=args.continuation).to_dict()
    with staged_dir(args.out) as tmp:
        write_json(result, tmp / "sweep.json")
        ensemble_sweep_figure(result, tmp / "sweep.png",
                              title=f"ensemble of {ens.k} models: sweep of {args.param} (modal labels)")
    counts: dict[str, int] = {}
    for pt in result["points"]:
        counts[pt["regime"]] = counts.get(pt["regime"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    unanimous = sum(pt["n_agree"] == ens.k for pt in result["points"])
    print(f"wrote {args.out}/sweep.json and sweep.png ({len(values)} points, modal labels: {summary}; "
          f"mean agreement {result['ensemble']['mean_agreement']:.2f}, all {ens.k} models agree at "
          f"{unanimous})", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------------- lyapunov


def cmd_lyapunov(args) -> int:
    from ..analysis.lyapunov import flow_terms, lyapunov_spectrum

    out = _check_file_out(args.out, (".json",))
    sets = _parse_sets(args.set)
    if args.k is not None and args.k < 1:
        raise InputError(f"--k must be >= 1, got {args.k}")
    system = _source(args)
    res = lyapunov_spectrum(system, sets, t_end=args.t_end, transient=args.transient, k=args.k).to_dict()
    res.update(system=system.name, params=dict(system.defaults(), **sets))
    flow = flow_terms(system, sets, t_end=args.t_end, transient=args.transient)
    if flow is not None:
        res["flow"] = flow
    write_json(res, out)
    spec = ", ".join(f"{v:.4g}" for v in res["spectrum"])
    print(f"spectrum ({res['units']}): [{spec}] -> {out}", file=sys.stderr)
    if flow is not None:
        print(f"in a flow's terms: motion {flow['motion']:.3g}, largest transverse {flow['transverse']:.3g}, "
              f"largest {flow['largest']:.3g} (the map's own largest {flow['own_largest']:.3g}; "
              "docs/metrics.md section 6)", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------ compare


def _read_sweep(path: str, what: str) -> dict:
    p = Path(path)
    if p.is_dir():
        p = p / "sweep.json"
    if not p.is_file():
        raise InputError(f"{what} {path}: no such sweep; pass a sweep.json written by 'dynamap sweep' or its folder")
    try:
        with p.open() as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{what} {p}: not a readable JSON sweep ({exc}); pass the sweep.json of 'dynamap sweep'") from None


def cmd_compare(args) -> int:
    from ..analysis.compare import compare, compare_summary

    out = _check_file_out(args.out, (".json",)) if args.out else None
    true_sweep = _read_sweep(args.true_sweep, "TRUE")
    model_sweep = _read_sweep(args.model_sweep, "MODEL")
    tag_points = None
    if args.tag_sweep:  # the points at the model's training values (all of them if none recorded)
        from ..analysis.scores import points_at

        tag_points = _read_sweep(args.tag_sweep, "--tag-sweep").get("points") or []
        tags = (model_sweep.get("source") or {}).get("training_values")
        if tags:
            tag_points = points_at(tag_points, [float(t) for t in tags])
    res = compare(true_sweep, model_sweep, mode=args.mode, training_spb=args.training_spb,
                  tag_points=tag_points)
    summary = compare_summary(res)
    if out is not None:
        write_json(res, out)
        summary += f" -> {out}"
    else:
        from ..io.outputs import to_jsonable

        print(json.dumps(to_jsonable(res), indent=1, allow_nan=False))
    print(summary, file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------- fit


def cmd_fit(args) -> int:
    from .._core.backends import check_backend
    from ..pipeline.from_files import fit_from_files

    check_out_dir(args.out)
    _positive("--dt", args.dt)
    if args.ensemble is not None and args.ensemble < 1:
        raise InputError(f"--ensemble must be at least 1 (the number of models), got {args.ensemble}")
    check_backend(args.backend, args.address, args.jobs)
    if args.manifest is not None:
        from ..pipeline.manifest import fit_manifest

        if args.series:
            raise InputError("give either SERIES files or --manifest FILE, not both")
        if args.param_value:
            raise InputError("--param-value goes in the manifest's param_value column with --manifest")
        if args.channel is not None:
            raise InputError("--channel goes in the manifest's channel column with --manifest")
        fit_manifest(args.manifest, out=args.out, dt=args.dt, seed=args.seed,
                     spike_threshold=args.spike_threshold, config_path=args.config, column=args.column,
                     segment=args.segment, ensemble=args.ensemble, backend=args.backend,
                     address=args.address, jobs=args.jobs)
        return 0
    if not args.series:
        raise InputError("no series given; pass SERIES files or --manifest FILE")
    if args.ensemble is None and (args.backend != "local" or args.jobs is not None):
        raise InputError("--backend and --jobs place the fits of --ensemble K or --manifest FILE; add one")
    fit_from_files(
        args.series,
        param_values=args.param_value or None,
        dt=args.dt,
        out=args.out,
        seed=args.seed,
        spike_threshold=args.spike_threshold,
        config_path=args.config,
        progress=not args.quiet,
        column=args.column,
        channel=args.channel,
        segment=args.segment,
        ensemble=args.ensemble,
        backend=args.backend,
        address=args.address,
        jobs=args.jobs,
    )
    return 0


# --------------------------------------------------------------------------------------------- demo


def cmd_demo(args) -> int:
    from ..pipeline.demo import run_demo

    check_out_dir(args.out)
    run_demo(args.out, seed=args.seed, quick=args.quick, progress=not args.quiet)
    return 0
