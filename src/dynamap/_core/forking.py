"""Run independent pieces of CPU-bound, single-threaded work at the same time in forked processes.

Used for the parts of a map sweep's batch and for the map candidates of a fit: each piece runs one
thread of torch, so on a machine with several cores the pieces run side by side. The first piece runs
in the calling process, every other one in a child made by ``os.fork`` (Linux only by default: the
child starts with the parent's memory, so nothing is pickled on the way in). Results come back pickled
through private temporary files (our own process writes and reads them; nothing is loaded from
outside). A child that fails, or does not finish within ``wait_factor`` times the parent's own piece
plus ``wait_s`` seconds, is stopped and its piece is done again in the calling process, so forking
never changes a result, only the time it takes.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["can_fork", "default_jobs", "run_forked", "usable_cores"]


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether work is split over forked processes by default: on Linux (elsewhere fork is missing,
    or unsafe with the system's libraries)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def default_jobs(num_threads: int | None) -> int:
    """How many pieces of work run side by side by default: the usable cores when forking is on by
    default (:func:`can_fork`) and each piece runs torch on one thread (``num_threads`` 1), else 1."""
    return usable_cores() if can_fork() and num_threads == 1 else 1


def _wait(pid: int, deadline: float) -> int | None:
    """Exit status of child ``pid``, or None after killing it at ``deadline`` (perf_counter time)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.002)


def run_forked(fn: Callable[[Any], Any], items: Sequence[Any], *, wait_factor: float = 3.0,
               wait_s: float = 30.0) -> list:
    """``[fn(item) for item in items]``, computed at the same time: ``items[0]`` here, each other item
    in its own forked child (if ``os.fork`` exists). ``fn``'s results must pickle."""
    items = list(items)
    if len(items) <= 1 or not hasattr(os, "fork"):
        return [fn(item) for item in items]
    tmp = tempfile.mkdtemp(prefix="dynamap-fork-")
    running: dict[int, tuple[int, str]] = {}
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns that fork in a multi-threaded process may deadlock; a child that
            # hangs is stopped below and its item redone here
            warnings.simplefilter("ignore", DeprecationWarning)
            for i, item in enumerate(items[1:], 1):
                path = os.path.join(tmp, f"{i}.pkl")
                pid = os.fork()
                if pid == 0:  # the child: compute, write the result, leave at once (no cleanup handlers)
                    code = 1
                    try:
                        result = fn(item)
                        with open(path + ".part", "wb") as fh:
                            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
                        os.replace(path + ".part", path)
                        code = 0
                    finally:
                        os._exit(code)
                running[pid] = (i, path)
        t0 = time.perf_counter()
        out = [fn(items[0])] + [None] * (len(items) - 1)
        deadline = time.perf_counter() + wait_factor * (time.perf_counter() - t0) + wait_s
        for pid in list(running):
            i, path = running[pid]
            code = _wait(pid, deadline)
            del running[pid]
            if code == 0 and os.path.isfile(path):
                with open(path, "rb") as fh:
                    out[i] = pickle.load(fh)
            else:
                out[i] = fn(items[i])
        return out
    finally:
        for pid in running:  # the parent's own item failed or was interrupted: stop the children
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
