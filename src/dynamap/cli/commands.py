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


def _load_model(path: str):
    from ..pipeline.bundle_ops import load_model

    return load_model(path)


# ------------------------------------------------------------------------------------------ systems


def cmd_systems(args) -> int:
    from ..systems import SYSTEMS

    for name, s in sorted(SYSTEMS.items()):
        print(f"{name:16s} {s.kind:4s} observable {s.observable}, control {s.control}: {s.description}")
    return 0


# ----------------------------------------------------------------------------------------- simulate


def cmd_simulate(args) -> int:
    out = _check_file_out(args.out, SUFFIXES)
    sets = _parse_sets(args.set)
    _positive("--dt", args.dt)
    if args.system:
        from ..systems import get_system, simulate

        system = get_system(args.system)
        system.param_vector(sets)  # validates the names before the run
        traj = simulate(system, sets, t_end=args.t_end, transient=args.transient, dt=args.dt)
        series = traj.series(system.observable)
    else:
        from ..pipeline.bundle_ops import simulate_model

        series = simulate_model(
            _load_model(args.model), sets, t_end=args.t_end, transient=args.transient, dt=args.dt, seed=args.seed
        )
    write_series(series, out)
    print(f"wrote {len(series)} samples of {series.name} (dt={series.dt:g}) to {out}", file=sys.stderr)
    return 0


# -------------------------------------------------------------------------------------------- sweep


def cmd_sweep(args) -> int:
    from ..analysis.sweep import SweepSettings, sweep_system, sweep_values
    from ..report.figures import sweep_figure

    values = sweep_values(args.start, args.stop, args.num)
    _positive("--dt", args.dt)
    if args.jobs < 0:
        raise InputError(f"--jobs must be >= 0, got {args.jobs}")
    check_out_dir(args.out)
    sets = _parse_sets(args.set)
    if args.system:
        from ..systems import get_system

        system = get_system(args.system)
        system.parameter(args.param)
        system.param_vector(sets)
        settings = SweepSettings(
            t_end=args.t_end if args.t_end is not None else system.default_t_end,
            transient=args.transient if args.transient is not None else system.default_transient,
            dt=args.dt if args.dt is not None else system.default_dt,
            lyapunov=not args.no_lyapunov,
            spike_threshold=args.spike_threshold,
        )
        with _progress(len(values), f"sweep {system.name} {args.param}", args.quiet) as bar:
            result = sweep_system(
                system,
                args.param,
                values,
                settings,
                fixed=sets,
                n_jobs=args.jobs or None,
                progress=bar.update,
                continuation=args.continuation,
            ).to_dict()
        title = f"{system.name}: sweep of {args.param}"
    else:
        from ..pipeline.bundle_ops import sweep_model

        model = _load_model(args.model)
        result = sweep_model(
            model,
            args.param,
            values,
            t_end=args.t_end,
            transient=args.transient,
            lyapunov=not args.no_lyapunov,
            continuation=args.continuation,
            spike_threshold=args.spike_threshold,
            progress=not args.quiet,
        )
        title = f"model {args.model}: sweep of {args.param}"
    with staged_dir(args.out) as tmp:
        write_json(result, tmp / "sweep.json")
        sweep_figure(result, tmp / "sweep.png", title=title)
    counts: dict[str, int] = {}
    for pt in result["points"]:
        counts[pt["regime"]] = counts.get(pt["regime"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"wrote {args.out}/sweep.json and sweep.png ({len(values)} points: {summary})", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------------- lyapunov


def cmd_lyapunov(args) -> int:
    out = _check_file_out(args.out, (".json",))
    sets = _parse_sets(args.set)
    if args.k is not None and args.k < 1:
        raise InputError(f"--k must be >= 1, got {args.k}")
    if args.system:
        from ..analysis.lyapunov import lyapunov_spectrum
        from ..systems import get_system

        system = get_system(args.system)
        res = lyapunov_spectrum(system, sets, t_end=args.t_end, transient=args.transient, k=args.k).to_dict()
        res.update(system=system.name, params=dict(system.defaults(), **sets))
    else:
        from ..pipeline.bundle_ops import lyapunov_model

        res = lyapunov_model(_load_model(args.model), sets, t_end=args.t_end, transient=args.transient, k=args.k)
    write_json(res, out)
    spec = ", ".join(f"{v:.4g}" for v in res["spectrum"])
    print(f"spectrum ({res['units']}): [{spec}] -> {out}", file=sys.stderr)
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
    from ..pipeline.evaluate import evaluate_single, evaluate_tagged, same_values

    out = _check_file_out(args.out, (".json",)) if args.out else None
    true_sweep = _read_sweep(args.true_sweep, "TRUE")
    model_sweep = _read_sweep(args.model_sweep, "MODEL")
    mode = args.mode
    if mode == "auto":
        mode = "tagged" if same_values(true_sweep, model_sweep) else "single"
    if mode == "tagged":
        res = evaluate_tagged(true_sweep, model_sweep)
        tr = res["transition"]
        if tr["abs_error"] is not None:
            trans = f"true {tr['true']:g}, model {tr['model']:g} ({tr['abs_error']:.3g} off)"
        elif tr["true"] is None and tr["model"] is None:
            trans = "none in both"
        else:
            trans = "none in the truth" if tr["true"] is None else "none in the model"
        le = res["lyapunov_sign_agreement"]
        summary = (f"tagged: held-out accuracy {res['heldout_accuracy']:.3f} ({res['n_match']} of "
                   f"{res['n_points']}); {tr['kind']} transition: {trans}; Lyapunov sign agreement "
                   + ("n/a" if le is None else f"{le:.3f}"))
    else:
        res = evaluate_single(true_sweep, model_sweep, training_spb=args.training_spb)
        ch = res["chance"]
        summary = (f"single: regime-sequence agreement {res['score']:.3f} (the same regimes in random "
                   f"order: {ch['mean']:.3f} on average, p {ch['p_value']:.3f}); precision "
                   f"{res['precision']:.3f}; regime changes {res['n_regime_changes']['model']} "
                   f"(truth {res['n_regime_changes']['true']})")
    res = {"mode": mode, **res}
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
    from ..pipeline.bundle_ops import fit_from_files

    check_out_dir(args.out)
    _positive("--dt", args.dt)
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
    )
    return 0


# --------------------------------------------------------------------------------------------- demo


def cmd_demo(args) -> int:
    from ..pipeline.demo import run_demo

    check_out_dir(args.out)
    run_demo(args.out, seed=args.seed, quick=args.quick, progress=not args.quiet)
    return 0
