"""What the CLI does with model bundles: fit from files, load, simulate, sweep, Lyapunov spectra.

Times given for a model (``t_end``, ``transient``, ``dt``) are in the time units of its training
series; the map advances by its sampling step ``model.dt_`` per iteration. The control input is ``c``.
"""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .._core.errors import InputError
from .._core.forking import default_jobs, run_forked, usable_cores
from .._core.types import Series
from ..analysis.regimes import classify
from ..io.outputs import staged_dir, write_json
from ..io.series import read_series
from ..models.map import fast_stepper
from .check import check_summary

__all__ = [
    "MODEL_RECORD_STEPS",
    "MODEL_TRANSIENT_STEPS",
    "fit_from_files",
    "iterate_model",
    "largest_lyapunov_model",
    "load_model",
    "lyapunov_model",
    "simulate_model",
    "sweep_model",
    "sweep_processes",
]

#: default transient and record length of a model orbit, in map steps (our choice: enough for about a
#: hundred bursts of the HH burster at the default sampling step)
MODEL_TRANSIENT_STEPS = 5_000
MODEL_RECORD_STEPS = 20_000
#: steps used for the largest Lyapunov exponent of each sweep point
MODEL_LYAPUNOV_STEPS = 5_000


def load_model(path: str | Path):
    from .fit import DynamapModel

    path = Path(path)
    if not path.is_dir():
        raise InputError(f"--model {path}: not a folder; pass the folder written by 'dynamap fit --out'")
    if not (path / "config.json").exists():
        raise InputError(f"--model {path}: no config.json, not a dynamap model bundle; run 'dynamap fit' first")
    return DynamapModel.load(path)


def _control(model, sets: Mapping[str, float]) -> float:
    extra = sorted(set(sets) - {"c"})
    if extra:
        raise InputError(f"a model has one control input 'c'; unknown parameter(s) {extra}: use --set c=V")
    return float(sets.get("c", model.param_values_[0]))


def _steps(model, t_end, transient, dt=None) -> tuple[int, int, int]:
    """(record steps, transient steps, stride) from times in series units."""
    mdt = float(model.dt_)
    stride = 1
    if dt is not None:
        ratio = dt / mdt
        stride = int(round(ratio))
        if stride < 1 or abs(ratio - stride) > 1e-6 * max(1.0, ratio):
            raise InputError(f"--dt {dt} must be a whole multiple of the model's sampling step {mdt:g}")
    n_tr = MODEL_TRANSIENT_STEPS if transient is None else int(round(float(transient) / mdt))
    if transient is not None and transient < 0:
        raise InputError(f"--transient must be >= 0, got {transient}")
    if t_end is None:
        n_rec = MODEL_RECORD_STEPS
    else:
        if transient is not None and t_end <= transient:
            raise InputError(f"--t-end ({t_end}) must be beyond --transient ({transient})")
        n_rec = int(round(float(t_end) / mdt)) - n_tr
        if n_rec < 1:
            raise InputError(f"--t-end {t_end} leaves no samples after the transient; raise it")
    if n_rec * 1.0 > 5e7:
        raise InputError(f"{n_rec} steps is too many; lower --t-end")
    return n_rec, n_tr, stride


def simulate_model(model, sets, *, t_end=None, transient=None, dt=None, seed: int = 0) -> Series:
    """The model's free-running decoded observable at ``c`` (``sets["c"]``, default: training value)."""
    c = _control(model, sets)
    n_rec, n_tr, stride = _steps(model, t_end, transient, dt)
    x, _ = iterate_model(model, np.array([c]), n_rec, n_tr, start_index=seed)
    values = x[0, ::stride]
    if not np.all(np.isfinite(values)):
        raise InputError(f"the model's orbit diverged at c={c}; choose c nearer the training values")
    t0 = n_tr * model.dt_
    return Series(values, model.dt_ * stride, t0, model.name_, c, source="dynamap model")


def _model_threads(model):
    from .fit import _threads

    return _threads(getattr(getattr(model, "config", None), "num_threads", None))


#: states decoded per block while the map is still iterating (a background thread; about 1 MB of
#: float32 states for d = 3, small enough that the last, un-overlapped block costs little)
DECODE_BLOCK_STATES = 65_536
#: the step loop computes at least this many columns (batch rows), padding with copies of the last one:
#: torch's CPU matrix products use other kernels (other rounding) for very narrow operands, so with the
#: padding a value's orbit is bit-for-bit the same alone or inside a batch (measured: 16 suffices)
MIN_BATCH_COLUMNS = 16
#: a batch is split over worker processes (one per usable core) only when each part gets at least this
#: many values: below it the fork costs more than the part saves
SPLIT_MIN_VALUES = 48
#: a child process that has not finished CHILD_WAIT_FACTOR times the parent's own part plus
#: CHILD_WAIT_S seconds after the parent is stopped, and its part is iterated in the parent
CHILD_WAIT_FACTOR, CHILD_WAIT_S = 3.0, 30.0


def sweep_processes(model, n_values: int) -> int:
    """The default number of processes :func:`iterate_model` splits ``n_values`` values over."""
    threads = getattr(getattr(model, "config", None), "num_threads", None)
    return max(1, min(default_jobs(threads), n_values // SPLIT_MIN_VALUES))


def _fast_stepper(model, c: torch.Tensor):
    """:func:`dynamap.models.map.fast_stepper` of a fitted model's map."""
    return fast_stepper(model.map_, c, int(model.latent_dim_))


def _iterate_part(model, x0: np.ndarray, c_values: np.ndarray, n_steps: int, n_transient: int,
                  xs: np.ndarray, final: np.ndarray, *, overlap: bool, bar) -> None:
    """Iterate the values ``c_values`` from ``x0`` (B, d) in one step loop; write the decoded orbits into
    ``xs`` (B, n_steps) and the final states into ``final`` (B, d), NaN where a row diverged; ``bar``
    (a tqdm bar, possibly disabled) counts the steps.

    With ``overlap``, finished blocks of states are decoded by one background thread while the loop
    goes on; otherwise each block is decoded in this thread when it is done."""
    from concurrent.futures import ThreadPoolExecutor

    n_b, d = x0.shape
    n_cols = max(n_b, MIN_BATCH_COLUMNS)
    pad = np.r_[np.arange(n_b), np.full(n_cols - n_b, n_b - 1)]  # padding: copies of the last value
    z = torch.as_tensor(x0[pad].T, dtype=torch.float32).contiguous()  # (d, columns)
    c = torch.as_tensor(model.normalise_c(c_values)[pad], dtype=torch.float32)[:, None]
    states = torch.empty(n_steps, d, n_cols)  # time-major: each step writes one contiguous block
    bad = torch.empty(n_steps, n_b, dtype=torch.bool)

    def decode(k0: int, k1: int) -> None:
        with torch.inference_mode():
            s = states[k0:k1, :, :n_b]
            bad[k0:k1] = ~torch.isfinite(s).all(1) | (s.abs().amax(1) > 1e3)
            rows = torch.nan_to_num(s.transpose(1, 2).reshape(-1, d), 0.0, 0.0, 0.0)
            xs[:, k0:k1] = model._decode_torch(rows).reshape(k1 - k0, n_b).numpy().T

    block = max(1, DECODE_BLOCK_STATES // n_b)
    pool = ThreadPoolExecutor(1, thread_name_prefix="dynamap-decode") if overlap else None
    jobs = []
    try:
        with torch.inference_mode():
            step = _fast_stepper(model, c)
            spare = torch.empty_like(z)
            for k in range(n_transient):
                z, spare = step(z, spare), z
                if k % 1000 == 999:
                    bar.update(1000)
            bar.update(n_transient % 1000)
            k0 = 0
            for k, out in enumerate(states.unbind(0), 1):
                z = step(z, out)
                if k - k0 == block or k == n_steps:
                    if pool is None:
                        decode(k0, k)
                    else:
                        jobs.append(pool.submit(decode, k0, k))
                    bar.update(k - k0)
                    k0 = k
            for job in jobs:
                job.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    final[:] = states[-1, :, :n_b].T.numpy()
    if bool(bad.any()):
        bad_np = bad.numpy().T
        xs[bad_np] = np.nan
        final[bad_np.any(axis=1)] = np.nan


def _shared(shape: tuple[int, ...]) -> np.ndarray:
    """A float64 array in anonymous shared memory: a forked child's writes are seen by the parent."""
    import mmap

    n = int(np.prod(shape))
    return np.frombuffer(mmap.mmap(-1, max(n, 1) * 8), dtype=np.float64, count=n).reshape(shape)


def iterate_model(
    model,
    c_values: np.ndarray,
    n_steps: int,
    n_transient: int,
    *,
    x0: np.ndarray | None = None,
    start_index: int = 0,
    progress: bool = False,
    processes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the map for all ``c_values`` as one batch: decoded orbits (B, n_steps), final states (B, d).

    Start states are ``x0`` or states on the data attractor (``start_index`` rotates which ones).
    Diverged rows are NaN. A value's orbit is the same alone, inside a batch, or in any part of a split
    batch (bit for bit).

    ``processes`` splits the values into parts (default :func:`sweep_processes`: on Linux, for a
    model with ``num_threads`` 1, the usable cores, at most one per :data:`SPLIT_MIN_VALUES` values;
    otherwise 1); every part but the first runs in a forked child process
    (:func:`dynamap._core.forking.run_forked`), which writes its orbits into shared memory. Each part
    runs its own step loop (:func:`_fast_stepper`, torch limited to the model's ``num_threads``) and
    decodes its finished blocks of states itself. With one part, finished blocks are decoded by one
    background thread (on a machine with several cores) while the loop goes on, so decoding overlaps
    the iteration. A child that fails or does not finish in time (:data:`CHILD_WAIT_FACTOR`,
    :data:`CHILD_WAIT_S`) is stopped and its part is iterated here instead, so a split never changes
    the result.

    Costs (measured, D_r = 4, 64 hidden units, one core): a step takes 44 us for 200 values and 30 us
    for 100; decoding takes about 0.22 us per state. Two processes on two cores were 1.10-1.13x
    faster than one process with its decoding thread (the benchmark's 200 x 25 000 steps: 1.72-1.87 s
    against 1.90-2.08 s). Processes, not threads: splitting the batch over two Python threads was
    1.8x SLOWER than one, because the per-step calls contend for the GIL.
    """
    from tqdm.auto import tqdm

    m = model.as_map()
    c_values = np.atleast_1d(np.asarray(c_values, dtype=np.float64))
    if x0 is None:
        x0 = m.initial_states(c_values, start=start_index)
    n_b, d = c_values.size, m.dim
    x0 = np.asarray(x0, dtype=np.float64).reshape(n_b, d)
    cores = usable_cores()
    if processes is None:
        processes = sweep_processes(model, n_b)
    parts = np.array_split(np.arange(n_b), max(1, min(int(processes), n_b)))
    shared = len(parts) > 1
    xs = _shared((n_b, n_steps)) if shared else np.empty((n_b, n_steps))
    final = _shared((n_b, d)) if shared else np.empty((n_b, d))

    def part(job: tuple[np.ndarray, bool]) -> None:  # writes into xs and final (shared with the parent)
        idx, here = job
        rows = slice(idx[0], idx[-1] + 1)
        with _model_threads(model), tqdm(total=n_transient + n_steps, desc="iterate map",
                                         disable=not (progress and here), leave=False, file=sys.stderr,
                                         mininterval=0.5) as bar:
            _iterate_part(model, x0[idx], c_values[idx], n_steps, n_transient, xs[rows], final[rows],
                          overlap=not shared and cores > 1, bar=bar)

    run_forked(part, [(idx, k == 0) for k, idx in enumerate(parts)], wait_factor=CHILD_WAIT_FACTOR,
               wait_s=CHILD_WAIT_S)
    if shared:  # private copies: the shared buffers are released with their arrays
        xs, final = np.array(xs), np.array(final)
    return xs, final


def largest_lyapunov_model(model, x0: np.ndarray, c_values: np.ndarray, n_steps: int) -> np.ndarray:
    """Largest exponent per step of each row (B,), by forward-mode tangent propagation (torch.func.jvp)
    with renormalisation every step, in float64."""
    from torch.func import jvp

    net = copy.deepcopy(model.map_).to(torch.float64).eval()
    for prm in net.parameters():
        prm.requires_grad_(False)
    x = torch.as_tensor(np.nan_to_num(np.asarray(x0, dtype=np.float64)))
    c = torch.as_tensor(model.normalise_c(c_values), dtype=torch.float64)[:, None]
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    v = v / v.norm(dim=1, keepdim=True)
    acc = torch.zeros(x.shape[0], dtype=torch.float64)
    with torch.no_grad(), warnings.catch_warnings(), _model_threads(model):
        # torch.func.jvp imports a torch-internal module that calls the deprecated torch.jit.script
        warnings.simplefilter("ignore", DeprecationWarning)
        for _ in range(n_steps):
            x, v = jvp(lambda z: net(z, c), (x,), (v,))
            nrm = v.norm(dim=1, keepdim=True)
            acc += torch.log(nrm[:, 0])
            v = v / nrm
    out = (acc / n_steps).numpy()
    out[~np.all(np.isfinite(np.asarray(x0)), axis=1)] = np.nan
    return out


def sweep_model(
    model,
    param: str,
    values: Sequence[float],
    *,
    t_end: float | None = None,
    transient: float | None = None,
    lyapunov: bool = True,
    continuation: str = "none",
    spike_threshold: float | None = None,
    progress: bool = True,
    processes: int | None = None,
) -> dict:
    """Sweep the control input of a model; same ``sweep.json`` schema as a system sweep.

    ``continuation="none"`` iterates all values as one batch from states on the data attractor (split
    over ``processes`` worker processes, see :func:`iterate_model`); ``"forward"``/``"backward"`` walk
    the values up/down, each starting from its neighbour's last state (exposes hysteresis).
    """
    if param != "c":
        raise InputError(f"a model's control input is 'c', not {param!r}; use --param c")
    if continuation not in ("none", "forward", "backward"):
        raise InputError(f"continuation must be none, forward or backward, got {continuation!r}")
    values = np.asarray(values, dtype=np.float64)
    n_rec, n_tr, _ = _steps(model, t_end, transient)
    threshold = model.spike_threshold_ if spike_threshold is None else float(spike_threshold)
    hysteresis = float(getattr(model, "spike_hysteresis_", 0.0))
    if continuation == "none":
        x, final = iterate_model(model, values, n_rec, n_tr, progress=progress, processes=processes)
    else:
        order = np.argsort(values) if continuation == "forward" else np.argsort(values)[::-1]
        x = np.empty((values.size, n_rec))
        final = np.empty((values.size, model.latent_dim_))
        prev = None
        from tqdm.auto import tqdm

        for i in tqdm(order, desc=f"continuation ({continuation})", disable=not progress, leave=False,
                      file=sys.stderr):
            start = None if prev is None or not np.all(np.isfinite(prev)) else prev[None, :]
            tr = n_tr if prev is None else max(n_tr // 5, 1)
            xi, fi = iterate_model(model, values[i : i + 1], n_rec, tr, x0=start)
            x[i], final[i] = xi[0], fi[0]
            prev = fi[0]
    les = np.full(values.size, np.nan)
    if lyapunov:
        ok = np.all(np.isfinite(final), axis=1)
        if ok.any():
            les[ok] = largest_lyapunov_model(model, final[ok], values[ok], min(n_rec, MODEL_LYAPUNOV_STEPS))
    dt = float(model.dt_)
    points = []
    for v, xi, le in zip(values, x, les):
        if not np.all(np.isfinite(xi)):
            points.append({"value": float(v), "regime": "failed", "status": "failed",
                           "message": "orbit diverged", "spikes_per_burst": [], "lyapunov_max": None})
            continue
        le_t = float(le / dt) if np.isfinite(le) else None
        info = classify(xi, dt, threshold, lyapunov_max=le_t, hysteresis=hysteresis)
        pt = {"value": float(v), **info.to_dict(), "status": "ok",
              "lyapunov_max_per_step": float(le) if np.isfinite(le) else None}
        points.append(pt)
    return {
        "param": "c",
        "source": {"model": str(getattr(model, "source_dir_", "")), "mode": model.mode_,
                   "training_values": list(map(float, model.param_values_))},
        "settings": {"transient_steps": n_tr, "record_steps": n_rec, "dt": dt, "continuation": continuation,
                     "spike_threshold": threshold, "spike_hysteresis": hysteresis,
                     "lyapunov": lyapunov,
                     "lyapunov_units": "per unit time", "lyapunov_steps": min(n_rec, MODEL_LYAPUNOV_STEPS)},
        "points": points,
    }


def lyapunov_model(model, sets, *, t_end=None, transient=None, k=None) -> dict:
    """Lyapunov spectrum of the map at ``c`` by QR on its exact Jacobian (per step and per unit time)."""
    from ..analysis.lyapunov import lyapunov_map

    c = _control(model, sets)
    n_rec, n_tr, _ = _steps(model, t_end, transient)
    m = model.as_map()
    if k is not None and not 1 <= k <= m.dim:
        raise InputError(f"--k must be in 1..{m.dim}, got {k}")
    x0 = m.initial_states(np.array([c]))
    per_step = lyapunov_map(m, x0, np.array([[c]]), n_steps=n_rec, n_transient=n_tr, k=k)[0]
    if not np.all(np.isfinite(per_step)):
        raise InputError(f"the model's orbit diverged at c={c}; choose c nearer the training values")
    dt = float(model.dt_)
    return {
        "spectrum": [float(v) / dt for v in per_step],
        "units": "per unit time",
        "spectrum_per_step": [float(v) for v in per_step],
        "dt": dt,
        "c": c,
        "n_steps": n_rec,
        "method": "exact Jacobian (torch.func) products + QR",
    }


def fit_from_files(
    paths: Sequence[str],
    *,
    param_values: Sequence[float] | None,
    dt: float | None,
    out: str | Path,
    seed: int = 0,
    spike_threshold: float | None = None,
    config_path: str | None = None,
    progress: bool = True,
    column: str | None = None,
):
    """Read and validate the series, fit a model, write the bundle and its metrics.json to ``out``
    (``column``: the observed variable in files with several, see :func:`~dynamap.read_series`)."""
    import dataclasses
    import json

    from .config import FitConfig
    from .fit import DynamapModel

    if param_values is not None and len(param_values) != len(paths):
        raise InputError(
            f"{len(paths)} series file(s) but {len(param_values)} --param-value(s); give one value per file"
        )
    if param_values is None and len(paths) > 1:
        raise InputError(f"{len(paths)} series files need one --param-value each (tagged mode)")
    if param_values is not None and len(set(param_values)) != len(param_values) and len(paths) > 1:
        raise InputError("--param-value values repeat; give each series its own parameter value")
    config = FitConfig()
    if config_path is not None:
        try:
            config = FitConfig.from_dict(json.loads(Path(config_path).read_text()))
        except FileNotFoundError:
            raise InputError(f"--config {config_path}: file not found") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"--config {config_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if spike_threshold is not None:
        config = dataclasses.replace(config, spike_threshold=float(spike_threshold))
    series = [
        read_series(p, dt=dt, param_value=None if param_values is None else float(v), min_length=2,
                    column=column)
        for p, v in zip(paths, param_values or [None] * len(paths))
    ]
    model = DynamapModel(config, seed=seed).fit(series, param_values=param_values, progress=progress)
    metrics = model.free_running_check(series)
    with staged_dir(out) as tmp:
        model.save(tmp)
        write_json(metrics, tmp / "metrics.json")
    print(f"wrote model bundle to {out} (latent dimension {model.latent_dim_}, map step {model.dt_:g}, "
          f"spike threshold {model.spike_threshold_:.4g} with hysteresis {model.spike_hysteresis_:.3g})",
          file=sys.stderr)
    rounds = model.history_["map"].get("rounds", [])
    if len(rounds) > 1:
        scores = ", ".join(f"{r['selected_score']:.3g}" for r in rounds)
        print(f"{len(rounds)} fit rounds (VAE and map candidates, fresh random streams; selection scores "
              f"{scores}): kept round {model.history_['map']['round'] + 1}", file=sys.stderr)
    if any(model.c_shift_):
        shifts = ", ".join(f"{s:+g} at {v:g}" for s, v in zip(model.c_shift_, model.param_values_))
        print(f"control input calibrated (normalised shift per training value): {shifts}", file=sys.stderr)
    for line in check_summary(metrics):
        print(line, file=sys.stderr)
    return model, metrics
