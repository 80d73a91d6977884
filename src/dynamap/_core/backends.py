"""Where independent work units run: local processes (the default) or a Ray cluster.

A work unit is a call ``fn(item)`` that depends on its item alone (an ensemble member's fit, one group
of a manifest); :func:`run_units` returns ``[fn(item) for item in items]`` in the order of ``items``
whatever the backend, so the backend changes how long the work takes, never its results.

* ``"local"``: forked processes of this machine (:func:`dynamap._core.forking.run_forked`), ``jobs``
  units at a time (default: the usable cores where forking is on, else one after the other).
* ``"ray"``: tasks of a Ray cluster (optional extra ``dynamap[ray]``; ``ray`` is imported only
  here, on first use). ``address`` is passed to ``ray.init``: None starts a local Ray instance for
  the call (or uses the one this process already started), ``"auto"`` joins the cluster this
  machine belongs to (started with ``ray start``), ``"HOST:PORT"`` the cluster of that head node.
  Each task reserves ``cpus_per_unit`` CPUs (at most a node's); the nodes need dynamap installed
  (the same version).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from .errors import DynamapError, InputError
from .forking import can_fork, run_forked, usable_cores

__all__ = ["BACKENDS", "check_backend", "run_units"]

BACKENDS = ("local", "ray")

#: a locally forked unit that has not finished within WAIT_FACTOR times the parent's own unit plus
#: WAIT_S seconds is stopped and redone in the parent (the result is the same; see run_forked). Units
#: are whole fits, whose times differ by the number of rounds they need (up to 3x), hence the margin.
WAIT_FACTOR = 5.0
WAIT_S = 900.0


def check_backend(backend: str, address: str | None = None, jobs: int | None = None) -> None:
    """Validate the backend options before any work (a clear error for each wrong one)."""
    if backend not in BACKENDS:
        raise InputError(f"--backend {backend!r}: unknown; use one of {', '.join(BACKENDS)}")
    if address is not None and backend != "ray":
        raise InputError("--address is the Ray cluster's address; use it with --backend ray")
    if jobs is not None and (isinstance(jobs, bool) or int(jobs) != jobs or jobs < 1):
        raise InputError(f"--jobs must be a positive integer, got {jobs!r}")
    if backend == "ray":
        _import_ray()


def _import_ray():
    try:
        import ray
    except ImportError:
        raise InputError("--backend ray needs Ray, which is not installed; "
                         "pip install 'dynamap[ray]' (or pip install 'ray>=2.9')") from None
    return ray


def run_units(fn: Callable[[Any], Any], items: Sequence[Any], *, backend: str = "local",
              address: str | None = None, jobs: int | None = None, cpus_per_unit: int = 1) -> list:
    """``[fn(item) for item in items]``, the units run side by side on ``backend``.

    ``fn`` and its results must pickle (for Ray: by cloudpickle; a module-level function is sent by
    reference). ``jobs``: local units at a time (default: the usable cores when forking is on, else
    1; 1 runs them here, one after the other). A :class:`~dynamap.DynamapError` raised by a unit is
    raised here as itself.
    """
    check_backend(backend, address, jobs)
    items = list(items)
    if not items:
        return []
    if backend == "ray":
        return _run_ray(fn, items, address, max(1, int(cpus_per_unit)))
    n = int(jobs) if jobs is not None else (usable_cores() if can_fork() else 1)
    out: list = []
    for first in range(0, len(items), n):
        chunk = items[first : first + n]
        if n == 1:
            out += [fn(chunk[0])]
        else:
            out += run_forked(fn, chunk, wait_factor=WAIT_FACTOR, wait_s=WAIT_S)
    return out


def _apply(fn, item):
    return fn(item)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A ``HOST:PORT`` address must accept a connection (Ray itself waits minutes for an absent head
    node); ``auto``, ``local`` and ``ray://`` addresses are left to Ray."""
    if address in ("auto", "local") or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(f"--address {address!r}: expected HOST:PORT of the Ray head node (e.g. 10.0.0.5:6379) "
                         "or 'auto'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"--address {address}: no Ray head node answers there ({exc.strerror or exc}); start "
                         "one with 'ray start --head' or check the address") from None


def _run_ray(fn, items: list, address: str | None, cpus: int) -> list:
    ray = _import_ray()
    started = False
    if not ray.is_initialized():
        if address is not None:
            _check_reachable(address)
        kwargs = {"address": address} if address is not None else {"include_dashboard": False}
        try:
            ray.init(log_to_driver=False, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"at {address}" if address is not None else "(a local instance)"
            raise InputError(f"--backend ray: cannot start or join the Ray cluster {where} "
                             f"({_first_line(exc)}); start it with 'ray start --head' or check --address") from None
        started = True
    try:
        node_cpus = [int(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
        cpus = max(1, min([cpus] + [c for c in [max(node_cpus, default=0)] if c > 0]))  # schedulable
        task = ray.remote(num_cpus=cpus, max_retries=0)(_apply)
        fn_ref = ray.put(fn)  # sent once, not with every unit
        futures = [task.remote(fn_ref, item) for item in items]
        try:
            return ray.get(futures)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, DynamapError):
                raise cause from None
            raise
    finally:
        if started:
            ray.shutdown()
