"""The ``dynamap`` command line: thin commands over the Python API.

Every error in the user's input ends with exit status 2 and one line on stderr that names the problem
and the fix; nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._core.errors import DynamapError

__all__ = ["main", "build_parser"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage block) with exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}; see '{self.prog} --help'")


class _UsageError(Exception):
    pass


def _add_source(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--system", metavar="NAME", help="a built-in system (see 'dynamap systems')")
    g.add_argument("--model", metavar="DIR", help="a model bundle written by 'dynamap fit'")
    p.add_argument(
        "--set",
        metavar="P=V",
        action="append",
        default=[],
        help="set a parameter (repeatable); for a model the control input is 'c'",
    )


def _add_times(p: argparse.ArgumentParser, t_end_required: bool = False) -> None:
    p.add_argument("--t-end", type=float, required=t_end_required, help="end time (model time units)")
    p.add_argument("--transient", type=float, help="time discarded before recording")
    p.add_argument("--dt", type=float, help="sampling step of the output")


def _add_recording(p: argparse.ArgumentParser) -> None:
    """``--channel`` and ``--segment``/``--sweep``: which trace of a recording (.abf, .nwb, .smr, ...)."""
    p.add_argument("--channel", metavar="NAME",
                   help="the recorded channel, for recordings (.abf, .nwb, ...) with several "
                        "(needs pip install dynamap[ephys])")
    p.add_argument("--segment", "--sweep", dest="segment", type=int, metavar="N",
                   help="the segment (sweep, episode) of a recording, from 0, for files with several")


def _add_backend(p: argparse.ArgumentParser) -> None:
    """``--backend``, ``--address``, ``--jobs``: where independent work units (ensemble members,
    manifest groups) run."""
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where independent fits run: local processes (default) or a Ray cluster "
                        "(needs pip install dynamap[ray])")
    p.add_argument("--address", metavar="A",
                   help="the Ray cluster to join (--backend ray): 'auto' (the cluster of this machine, "
                        "started with 'ray start') or HEAD_HOST:PORT; default: a local Ray instance")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="local backend: fits at a time (default: the usable cores)")


def _add_demo(sub) -> None:
    """``dynamap demo``."""
    p = sub.add_parser("demo", help="the main job: simulate, fit, sweep, compare, report")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a smaller, faster run (for smoke tests)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_simulate(sub) -> None:
    """``dynamap simulate``."""
    p = sub.add_parser("simulate", help="write a system's or a model's observed series")
    _add_source(p)
    _add_times(p, t_end_required=True)
    p.add_argument("--seed", type=int, default=0, help="seed for the model's start state")
    p.add_argument("--out", required=True, metavar="FILE", help="output .csv, .npy or .npz")


def _add_sweep(sub) -> None:
    """``dynamap sweep``."""
    p = sub.add_parser("sweep", help="orbit diagram over a parameter")
    _add_source(p)
    p.add_argument("--param", required=True, metavar="P")
    p.add_argument("--from", dest="start", type=float, required=True, metavar="A")
    p.add_argument("--to", dest="stop", type=float, required=True, metavar="B")
    p.add_argument("--num", type=int, required=True, metavar="N")
    _add_times(p)
    p.add_argument("--no-lyapunov", action="store_true", help="skip the largest exponent (faster)")
    p.add_argument("--spike-threshold", type=float, help="spike threshold (default: the system's)")
    p.add_argument(
        "--continuation",
        choices=("none", "forward", "backward"),
        default="none",
        help="start each value from its neighbour's last state (exposes hysteresis)",
    )
    p.add_argument("--jobs", type=int, default=0,
                   help="parallel parts: threads (flows, delay maps) or processes (other maps); "
                        "default all cores")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_fit(sub) -> None:
    """``dynamap fit``."""
    p = sub.add_parser("fit", help="reconstruct a parameterised map from series files")
    p.add_argument("series", nargs="*", metavar="SERIES",
                   help=".csv (.tsv, .txt), .npy or .npz files, or recordings (.abf, .nwb, .smr, .rhd, ...)")
    p.add_argument("--manifest", metavar="FILE",
                   help="a CSV table of recordings (columns path, channel, param_value, group): one bundle "
                        "per group in --out/GROUP/, instead of SERIES")
    p.add_argument("--ensemble", type=int, metavar="K",
                   help="fit K models from the seeds SEED ... SEED+K-1 into one ensemble folder")
    _add_backend(p)
    p.add_argument("--param-value", type=float, action="append", default=[], metavar="V")
    p.add_argument("--dt", type=float, help="sampling step (for files without a time column)")
    p.add_argument("--column", metavar="NAME",
                   help="the observed variable's column (or .npz array), for files with several")
    _add_recording(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--spike-threshold", type=float, help="spike threshold of the observable")
    p.add_argument("--config", metavar="JSON", help="fit configuration overrides (a JSON file)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--quiet", action="store_true")


def _add_lyapunov(sub) -> None:
    """``dynamap lyapunov``."""
    p = sub.add_parser("lyapunov", help="Lyapunov spectrum of a system or a model")
    _add_source(p)
    p.add_argument("--t-end", type=float, help="end time (flows: model time; maps: iterations)")
    p.add_argument("--transient", type=float)
    p.add_argument("--k", type=int, help="number of exponents (default: all)")
    p.add_argument("--out", required=True, metavar="FILE", help="output .json")


def _add_compare(sub) -> None:
    """``dynamap compare``."""
    p = sub.add_parser("compare", help="score a model's sweep against the true system's sweep")
    p.add_argument("true_sweep", metavar="TRUE", help="the system's sweep.json (or its folder)")
    p.add_argument("model_sweep", metavar="MODEL", help="the model's sweep.json (or its folder)")
    p.add_argument(
        "--mode",
        choices=("auto", "single", "tagged"),
        default="auto",
        help="single: regime sequences along c; tagged: point by point (the same parameter values); "
        "auto (default): tagged when both sweeps cover the same values, else single",
    )
    p.add_argument("--training-spb", type=int, action="append", default=[], metavar="K",
                   help="spikes per burst in the training series (single mode; repeatable)")
    p.add_argument("--tag-sweep", metavar="FILE",
                   help="the system's sweep.json at the model's training values, for the nearest-tag "
                   "lookup (tagged mode; default: TRUE's points there, when it has them)")
    p.add_argument("--out", metavar="FILE", help="write the scores to this .json (default: print them)")


def build_parser() -> argparse.ArgumentParser:
    """The ``dynamap`` parser with its subcommands."""
    parser = _Parser(prog="dynamap", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_add_demo, _add_simulate, _add_sweep, _add_fit, _add_lyapunov, _add_compare):
        add(sub)
    sub.add_parser("systems", help="list the built-in systems")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from .._core.version import VERSION

            print(VERSION)
            return 0
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        from . import commands

        return int(getattr(commands, "cmd_" + args.command)(args) or 0)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except DynamapError as exc:
        print(f"dynamap: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dynamap: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
