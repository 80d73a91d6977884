"""The fast path of a fitted model's map: batched free orbits (float32, decoded) and the largest
Lyapunov exponent by forward-mode tangents (float64).

``model`` is a fitted :class:`dynamap.DynamapModel` (duck-typed: ``map_``, ``encoder_``, ``state_dim_``,
``normalise_c``, ``anchors_``, ``anchor_c_``, ``config.num_threads``).
:class:`~dynamap.models.learned_map.LearnedMap` exposes these through the system protocol.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import torch

from .._core.forking import default_jobs, run_forked, usable_cores
from .map import iterate_into

__all__ = ["anchor_states", "decode_block", "iterate_model", "largest_lyapunov", "model_threads", "sweep_processes",
           "torch_threads"]


@contextlib.contextmanager
def torch_threads(n: int | None):
    """torch.set_num_threads(n) for the duration of a block (restored afterwards); None: no change."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def model_threads(model):
    """:func:`torch_threads` with the model's ``config.num_threads``."""
    return torch_threads(model.config.num_threads)


def anchor_states(model, c: np.ndarray, start: int = 0) -> np.ndarray:
    """Start states (B, d) on the data attractor: anchor number ``start`` (of those kept per segment,
    spread over the recording) of the training segment whose tag is nearest to each c. Depends on c
    only, so a value gives the same orbit alone or inside a batch."""
    c = np.atleast_1d(np.asarray(c, dtype=np.float64))
    out = np.empty((c.size, int(model.state_dim_)))
    tags = np.unique(model.anchor_c_)
    for i, ci in enumerate(c):
        tag = tags[np.argmin(np.abs(tags - ci))]
        pool = model.anchors_[model.anchor_c_ == tag]
        out[i] = pool[int(start) % pool.shape[0]]
    return out


#: states decoded per block while the map is still iterating (a background thread; about 1 MB of
#: float32 states for d = 3, small enough that the last, un-overlapped block costs little)
DECODE_BLOCK_STATES = 65_536
#: the step loop computes a whole multiple of this many columns (batch rows), padding with copies of the
#: last one: torch's CPU matrix products (MKL) use other kernels (other rounding) for narrow operands and
#: for a partial tile of columns, so with the padding a value's orbit is bit-for-bit the same alone or
#: inside any batch (a minimum of 16 columns was not enough on an MKL machine, where a
#: 41-value batch and its 14-value part differed in 4 of 41 final states; whole tiles of 16 are)
MIN_BATCH_COLUMNS = 16
#: a batch is split over worker processes (one per usable core) only when each part gets at least this
#: many values: below it the fork costs more than the part saves
SPLIT_MIN_VALUES = 48
#: a child process that has not finished CHILD_WAIT_FACTOR times the parent's own part plus
#: CHILD_WAIT_S seconds after the parent is stopped, and its part is iterated in the parent
CHILD_WAIT_FACTOR, CHILD_WAIT_S = 3.0, 30.0


def decode_block(decode, states: torch.Tensor) -> torch.Tensor:
    """Decoded observable (T, B) of a time-major block of states (T, d, B) (non-finite entries read as
    0, the rest clamped to [-1e3, 1e3]: rows that diverge are the caller's to mark). ``decode`` maps
    rows (N, k) to (N,) and reads only its first ``decode.columns`` coordinates: only those are
    gathered into rows (:class:`~dynamap.models.encoders.NewestSample`: one of d)."""
    t, d, b = states.shape
    k = min(int(decode.columns), d)
    rows = torch.nan_to_num(states[:, :k].transpose(1, 2).reshape(t * b, k), 0.0, 0.0, 0.0)
    return decode(rows.clamp_(-1e3, 1e3)).reshape(t, b)


def sweep_processes(model, n_values: int) -> int:
    """The default number of processes :func:`iterate_model` splits ``n_values`` values over."""
    threads = model.config.num_threads
    return max(1, min(default_jobs(threads), n_values // SPLIT_MIN_VALUES))


def _in_threads(fn, items: list) -> None:
    """``fn(item)`` for every item at the same time: the first here, each other in a thread of its own
    (for compiled loops that release the GIL); an error in any is raised here."""
    from concurrent.futures import ThreadPoolExecutor

    if len(items) <= 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(len(items) - 1, thread_name_prefix="dynamap-part") as pool:
        others = [pool.submit(fn, item) for item in items[1:]]
        fn(items[0])
        for job in others:
            job.result()


def _newest_only(model, whole_states: bool) -> bool:
    """Whether an orbit keeps only the newest sample of each step: a shift-register map
    (``map_.shift_register``; the factory builds one only on delay states, whose decoder reads that
    sample alone), unless ``whole_states``."""
    return not whole_states and model.map_.shift_register


def _parts_in_threads(model, whole_states: bool) -> bool:
    """Whether the parts of a split batch run in threads rather than forked processes: where each
    part's step loop is compiled code that releases the GIL (``map_.releases_gil``) and only the
    newest samples are kept (:func:`_newest_only`)."""
    return model.map_.releases_gil and _newest_only(model, whole_states)


def _iterate_part(model, x0: np.ndarray, c_values: np.ndarray, n_steps: int, n_transient: int,
                  xs: np.ndarray, final: np.ndarray, *, overlap: bool, bar, whole_states: bool = False) -> None:
    """Iterate the values ``c_values`` from ``x0`` (B, d) in one step loop; write the decoded orbits into
    ``xs`` (B, n_steps) and the final states into ``final`` (B, d), NaN where a row diverged; ``bar``
    (a tqdm bar, possibly disabled) counts the steps.

    With ``overlap``, finished blocks of states are decoded by one background thread while the loop
    goes on; otherwise each block is decoded in this thread when it is done."""
    from concurrent.futures import ThreadPoolExecutor

    n_b, d = x0.shape
    n_cols = -(-n_b // MIN_BATCH_COLUMNS) * MIN_BATCH_COLUMNS  # whole tiles of columns
    pad = np.r_[np.arange(n_b), np.full(n_cols - n_b, n_b - 1)]  # padding: copies of the last value
    z = torch.as_tensor(x0[pad].T, dtype=torch.float32).contiguous()  # (d, columns)
    c = torch.as_tensor(model.normalise_c(c_values)[pad], dtype=torch.float32)[:, None]
    decoder = model.encoder_.decoder()
    if _newest_only(model, whole_states):  # its loop computes each column alone: no padding
        with torch.inference_mode():
            step = model.map_.stepper(c[:n_b])
        _iterate_newest(step, decoder, z[:, :n_b].contiguous(), n_steps, n_transient, xs, final, bar)
        return
    with torch.inference_mode():
        step = model.map_.stepper(c)
    states = torch.empty(n_steps, d, n_cols)  # time-major: each step writes one contiguous block
    bad = torch.empty(n_steps, n_b, dtype=torch.bool)

    def decode(k0: int, k1: int) -> None:
        with torch.inference_mode():
            s = states[k0:k1, :, :n_b]
            bad[k0:k1] = ~((s.amax(1) <= 1e3) & (s.amin(1) >= -1e3))  # NaN fails both
            xs[:, k0:k1] = decode_block(decoder, s).numpy().T

    block = max(1, DECODE_BLOCK_STATES // n_b)
    pool = ThreadPoolExecutor(1, thread_name_prefix="dynamap-decode") if overlap else None
    jobs = []
    try:
        with torch.inference_mode():
            scratch = torch.empty(min(n_transient, 1000), d, n_cols)  # the transient a block at a time
            for k0 in range(0, n_transient, 1000):
                z = iterate_into(step, z, scratch[: min(1000, n_transient - k0)]).clone()
                bar.update(min(1000, n_transient - k0))

            def done(k0: int, k: int) -> None:
                if pool is None:
                    decode(k0, k)
                else:
                    jobs.append(pool.submit(decode, k0, k))
                bar.update(k - k0)

            iterate_into(step, z, states, block=block, on_block=done)
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


def _iterate_newest(step, decoder, z: torch.Tensor, n_steps: int, n_transient: int, xs: np.ndarray,
                    final: np.ndarray, bar) -> None:
    """:func:`_iterate_part` for a map whose state is the newest samples of the series (a delay map,
    ``step.run_newest``), from ``z`` (span, B), one column per value (no padding): only the newest
    sample of each step is kept. The same orbits, divergence marks and final states as the general
    path: a step's state is marked where any of its entries is non-finite or beyond 1e3, here from the
    newest samples of that step and the span - 1 before it (the start state's entries before the
    first steps)."""
    span, n_b = z.shape
    z = z.clone()
    scratch = torch.empty(min(max(n_transient, 1), 1000), n_b)
    for k0 in range(0, n_transient, 1000):
        k = min(1000, n_transient - k0)
        step.run_newest(z, scratch[:k])
        bar.update(k)
    before = z.flip(0).T.numpy().copy()  # (B, span), oldest first: the entries before step 0
    newest = torch.empty(n_steps, n_b)
    block = max(1, DECODE_BLOCK_STATES // n_b)
    for k0 in range(0, n_steps, block):
        k = min(n_steps, k0 + block)
        step.run_newest(z, newest[k0:k])
        xs[:, k0:k] = decode_block(decoder, newest[k0:k, None]).numpy().T
        bar.update(k - k0)
    final[:] = z.T.numpy()
    vals = np.concatenate([before[:, 1:], newest.numpy().T], axis=1)  # (B, span - 1 + n_steps)
    bad_entry = ~((vals <= 1e3) & (vals >= -1e3))  # NaN fails both
    if bad_entry.any():  # step k's state holds entries k .. k + span - 1 of vals
        run = np.cumsum(np.concatenate([np.zeros((n_b, 1)), bad_entry], axis=1), axis=1)
        bad = (run[:, span:] - run[:, :-span]) > 0
        xs[bad] = np.nan
        final[bad.any(axis=1)] = np.nan


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
    whole_states: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the map for all ``c_values`` as one batch: decoded orbits (B, n_steps), final states (B, d).

    Start states are ``x0`` or states on the data attractor (``start_index`` rotates which ones).
    Diverged rows are NaN. A value's orbit is the same alone, inside a batch, or in any part of a split
    batch (bit for bit). ``processes`` splits the values into parts (default :func:`sweep_processes`),
    each with its own step loop: in threads where the loop is compiled code that releases the GIL
    (:func:`_parts_in_threads`), otherwise in forked children writing into shared memory, a child that
    fails or overruns (:data:`CHILD_WAIT_FACTOR`, :data:`CHILD_WAIT_S`) redone here. With one part a
    background thread decodes finished blocks while the loop goes on. A shift-register map keeps only
    the newest sample of each step; ``whole_states`` makes it write whole states as other maps do (the
    same result: for checks and benchmarks of that path).
    """
    from tqdm.auto import tqdm

    c_values = np.atleast_1d(np.asarray(c_values, dtype=np.float64))
    if x0 is None:
        x0 = anchor_states(model, c_values, start=start_index)
    n_b, d = c_values.size, int(model.state_dim_)
    x0 = np.asarray(x0, dtype=np.float64).reshape(n_b, d)
    cores = usable_cores()
    if processes is None:
        processes = sweep_processes(model, n_b)
    parts = np.array_split(np.arange(n_b), max(1, min(int(processes), n_b)))
    threads = len(parts) > 1 and _parts_in_threads(model, whole_states)
    shared = len(parts) > 1 and not threads
    xs = _shared((n_b, n_steps)) if shared else np.empty((n_b, n_steps))
    final = _shared((n_b, d)) if shared else np.empty((n_b, d))

    def part(job: tuple[np.ndarray, bool]) -> None:  # writes into xs and final (shared with the parent)
        idx, here = job
        rows = slice(idx[0], idx[-1] + 1)
        with (contextlib.nullcontext() if threads else model_threads(model)), \
                tqdm(total=n_transient + n_steps, desc="iterate map", disable=not (progress and here),
                     leave=False, file=sys.stderr, mininterval=0.5) as bar:
            _iterate_part(model, x0[idx], c_values[idx], n_steps, n_transient, xs[rows], final[rows],
                          overlap=len(parts) == 1 and cores > 1, bar=bar, whole_states=whole_states)

    jobs = [(idx, k == 0) for k, idx in enumerate(parts)]
    if threads:  # torch's thread count set once here: a setting per thread would race
        with model_threads(model):
            _in_threads(part, jobs)
    else:
        run_forked(part, jobs, wait_factor=CHILD_WAIT_FACTOR, wait_s=CHILD_WAIT_S)
    if shared:  # private copies: the shared buffers are released with their arrays
        xs, final = np.array(xs), np.array(final)
    return xs, final


def _tangent_run(model, x0: np.ndarray, c_values: np.ndarray, n_steps: int, v0: np.ndarray | None,
                 sums) -> np.ndarray:
    """``sums(z, v, c, n_steps)`` of the map's tangent loop on each row from tangents ``v0`` (B, d)
    (default: seeded random ones), the rows split in threads as :func:`iterate_model`'s parts where
    its loop releases the GIL (``map_.releases_gil``); NaN rows where ``x0`` is not finite."""
    x = torch.as_tensor(np.nan_to_num(np.asarray(x0, dtype=np.float64)))
    if v0 is None:
        v = torch.randn(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    else:
        v = torch.as_tensor(np.asarray(v0, dtype=np.float64).reshape(x.shape)).clone()
    v = v / v.norm(dim=1, keepdim=True)
    c = np.asarray(model.normalise_c(c_values), dtype=np.float64)
    acc: list = [None] * x.shape[0]
    n_parts = max(1, min(sweep_processes(model, x.shape[0]), x.shape[0])) if model.map_.releases_gil else 1

    def part(idx: np.ndarray) -> None:
        for k, val in zip(idx, sums(x.numpy()[idx], v.numpy()[idx], c[idx], n_steps)):
            acc[k] = val

    with model_threads(model):
        _in_threads(part, np.array_split(np.arange(x.shape[0]), n_parts))
    out = np.array(acc, dtype=np.float64)
    out[~np.all(np.isfinite(np.asarray(x0)), axis=1)] = np.nan
    return out


def largest_lyapunov(model, x0: np.ndarray, c_values: np.ndarray, n_steps: int,
                     v0: np.ndarray | None = None) -> np.ndarray:
    """Largest exponent per step of each row (B,), by tangent propagation with renormalisation every
    step: the map's :meth:`~dynamap.models.base.StateMap.log_growth` in float64 (:func:`_tangent_run`)."""
    return _tangent_run(model, x0, c_values, n_steps, v0, model.map_.log_growth) / n_steps


#: a state moves less than this in a step (standardised units): at rest, no direction of motion
STILL = 1e-9


def flow_lyapunov(model, x0: np.ndarray, c_values: np.ndarray, n_steps: int,
                  v0: np.ndarray | None = None) -> np.ndarray:
    """Per step (B, 2): the growth of the direction of motion (the change of the mean log |v| from
    the first to the last quarter of the steps, over the steps between) and the largest exponent
    transverse to it: the map's :meth:`~dynamap.models.base.StateMap.flow_sums` in float64
    (:func:`_tangent_run`)."""
    sums = _tangent_run(model, x0, c_values, n_steps, v0,
                        lambda z, v, c, n: model.map_.flow_sums(z, v, c, n, STILL))
    quarter = max(1, n_steps // 4)
    motion = (sums[:, 1] - sums[:, 0]) / quarter / max(1, n_steps - quarter)
    return np.stack([motion, sums[:, 2] / n_steps], axis=1)
