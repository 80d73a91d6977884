"""Compiled integrators for the built-in flows.

One adaptive Dormand-Prince 5(4) kernel (Hairer, Norsett & Wanner, *Solving ODEs I*, sec. II.5) is
compiled per system with numba. It integrates the state together with ``k`` tangent vectors of the
variational equations ``dQ/dt = J(y) Q``, records the state on a uniform output grid by cubic Hermite
interpolation between accepted steps, and re-orthonormalises the tangent vectors by QR on a fixed
time grid to accumulate Lyapunov exponents (Benettin et al. 1980). With ``k = 0`` it is a plain
integrator.

The kernels release the GIL, so a sweep runs parameter values on several threads.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
import types
from pathlib import Path

__all__ = ["make_flow_kernel", "STATUS_MESSAGES"]

# Dormand-Prince 5(4) tableau.
_C2, _C3, _C4, _C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = (
    19372.0 / 6561.0,
    -25360.0 / 2187.0,
    64448.0 / 6561.0,
    -212.0 / 729.0,
)
_A61, _A62, _A63, _A64, _A65 = (
    9017.0 / 3168.0,
    -355.0 / 33.0,
    46732.0 / 5247.0,
    49.0 / 176.0,
    -5103.0 / 18656.0,
)
_B1, _B3, _B4, _B5, _B6 = (
    35.0 / 384.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
)
# error coefficients: b - b_hat
_E1 = 71.0 / 57600.0
_E3 = -71.0 / 16695.0
_E4 = 71.0 / 1920.0
_E5 = -17253.0 / 339200.0
_E6 = 22.0 / 525.0
_E7 = -1.0 / 40.0

STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_NONFINITE = 2
STATUS_STEP_UNDERFLOW = 3
STATUS_MESSAGES = {
    STATUS_OK: "ok",
    STATUS_MAX_STEPS: "maximum number of steps reached",
    STATUS_NONFINITE: "state became non-finite (diverged)",
    STATUS_STEP_UNDERFLOW: "step size underflow",
}


#: serialises the loading of kernel modules (see :func:`make_flow_kernel`)
_LOAD_LOCK = threading.Lock()


def _cache_dir() -> Path | None:
    root = os.environ.get("DYNAMAP_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "dynamap"
    )
    path = Path(root) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        return None
    return path


def make_flow_kernel(rhs, jac, dim):
    """Compile (or load from the disk cache) the Dormand-Prince kernel bound to one system.

    ``rhs(t, y, p, out)`` and ``jac(t, y, p, out)`` must be module-level numba ``njit`` functions. The
    returned function has the signature
    ``kernel(y0, p, t0, t_record, t_end, dt_out, k, renorm_dt, rtol, atol, max_steps)`` and returns
    ``(samples, lyap_sum, lyap_time, status, y_final, n_steps)``: ``samples`` is (n_out, dim) on the
    grid ``t_record + i*dt_out``; ``lyap_sum / lyap_time`` are the first ``k`` Lyapunov exponents
    accumulated after ``t_record``.

    The kernel source is :mod:`._kernel_template` with the system bound in (and the digest of the
    system's module, so an edited rhs or jac compiles anew); it is written to
    ``$DYNAMAP_CACHE_DIR/kernels`` (default ``~/.cache/dynamap/kernels``) so numba caches the machine
    code across processes. Where that folder is not writable the kernel is compiled in memory.
    """
    template = (Path(__file__).parent / "_kernel_template.py").read_text()
    start, end = template.index("# BINDING-START"), template.index("# BINDING-END")
    # the system module's own digest is part of the source: numba does not see edits of functions
    # imported from another module, so a changed rhs or jac must get a kernel of its own
    mod_file = getattr(sys.modules.get(rhs.__module__), "__file__", None)
    mod_digest = hashlib.sha1(Path(mod_file).read_bytes()).hexdigest()[:16] if mod_file else "none"
    binding = (
        f"from {rhs.__module__} import {rhs.__name__} as RHS, {jac.__name__} as JAC  # noqa: E402\n"
        f"DIM = {int(dim)}\n"
        f"SYSTEM_SOURCE = {mod_digest!r}\n"
    )
    source = template[:start] + binding + template[end:]
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    name = f"dynamap_kernel_{rhs.__module__.replace('.', '_')}_{rhs.__name__}_{digest}"
    # one thread at a time: the module is in sys.modules while it executes (so numba can cache it),
    # and another thread must not take that half-built module (the sweeps run points in threads)
    with _LOAD_LOCK:
        if name in sys.modules:
            return sys.modules[name].flow_kernel
        folder = _cache_dir() if rhs.__module__ != "__main__" else None
        if folder is not None:
            path = folder / f"{name}.py"
            if not path.exists() or path.read_text() != source:
                tmp = folder / f".{name}.{os.getpid()}.tmp"
                tmp.write_text(source)
                os.replace(tmp, path)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        else:
            module = types.ModuleType(name)
            exec(compile(source.replace("cache=True", "cache=False"), name, "exec"), module.__dict__)
            sys.modules[name] = module
        return module.flow_kernel
