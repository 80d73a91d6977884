"""Fixed points of maps, equilibria of flows, and how they correspond (the map's multipliers against
exp(lambda dt) of the equilibrium's eigenvalues).

* :func:`map_fixed_points`: batched Newton on G(u) = F(u, p) - u for anything satisfying
  :class:`~dynamap._core.protocols.MapLike` (built-in maps and learned maps alike); multipliers are
  the eigenvalues of dF/du at the fixed point, unstable directions have |mu| > 1.
* :func:`flow_equilibria`: roots of f(y; p) = 0 of a :class:`~dynamap.systems.base.Flow` by Powell's
  hybrid method with the analytic Jacobian; eigenvalues of df/dy, unstable directions have Re > 0.
* :func:`fixed_points`: either, for any system (built-in flows and maps, learned maps).
* :func:`compare_fixed_points`: a map that samples a flow every ``dt`` has the multipliers
  exp(lambda dt) at the sampled equilibrium; compare them with the ones found.

All return :class:`FixedPoint` (``kind`` "map" or "flow").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._core.errors import InputError
from .._core.protocols import MapLike
from ..systems.base import Flow

__all__ = [
    "FixedPoint",
    "Equilibrium",
    "fixed_points",
    "map_fixed_points",
    "flow_equilibria",
    "compare_fixed_points",
]

#: largest step halving count of the damped Newton iteration in :func:`map_fixed_points`
_MAX_HALVINGS = 12


def _complex_list(z: np.ndarray) -> list[list[float]]:
    return [[float(v.real), float(v.imag)] for v in np.asarray(z, dtype=np.complex128)]


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed point of any system: u* = F(u*, p) of a map (``kind`` "map") or f(y*; p) = 0 of a flow
    (``kind`` "flow", an equilibrium).

    ``eigenvalues``: of the Jacobian at x (a map's dF/du: its multipliers, sorted by decreasing
    modulus; a flow's df/dy, per unit time, sorted by decreasing real part); ``n_unstable``: how many
    have |mu| > 1 (map) or Re > 0 (flow); ``residual``: max |F(x) - x| or max |f(x)|; ``converged``:
    residual within tolerance; ``iterations``: Newton steps (maps); ``variables``: the state's names
    (flows)."""

    x: np.ndarray
    eigenvalues: np.ndarray
    n_unstable: int
    converged: bool
    residual: float
    kind: str = "map"
    iterations: int = 0
    variables: tuple[str, ...] = ()

    @property
    def multipliers(self) -> np.ndarray:
        """A map's multipliers: the eigenvalues of dF/du."""
        return self.eigenvalues

    def to_dict(self) -> dict:
        if self.kind == "flow":
            return {"x": [float(v) for v in self.x], "variables": list(self.variables),
                    "eigenvalues": _complex_list(self.eigenvalues), "n_unstable": int(self.n_unstable),
                    "converged": bool(self.converged), "residual": float(self.residual)}
        return {"x": [float(v) for v in self.x], "multipliers": _complex_list(self.eigenvalues),
                "multipliers_abs": [float(v) for v in np.abs(self.eigenvalues)],
                "n_unstable": int(self.n_unstable), "converged": bool(self.converged),
                "residual": float(self.residual), "iterations": int(self.iterations)}


#: an equilibrium of a flow is a :class:`FixedPoint` of kind "flow"
Equilibrium = FixedPoint


def _states(name: str, x: Any, dim: int) -> np.ndarray:
    try:
        a = np.array(x, dtype=np.float64, ndmin=2)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an array of states of shape (K, {dim})") from None
    if a.ndim != 2 or a.shape[1] != dim or a.shape[0] == 0:
        raise InputError(f"{name} must have shape (K, {dim}) with K >= 1, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or inf; pass finite starting states")
    return a


def _dedup(xs: list[np.ndarray], tol: float) -> list[int]:
    """Indices of the first of each group of points closer than tol * (1 + |x|) (max norm)."""
    keep: list[int] = []
    for i, x in enumerate(xs):
        scale = tol * (1.0 + float(np.max(np.abs(x))))
        if all(float(np.max(np.abs(x - xs[j]))) > scale for j in keep):
            keep.append(i)
    return keep


def map_fixed_points(
    m: MapLike,
    x0s: Any,
    p: Any,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    dedup_tol: float = 1e-6,
    keep_unconverged: bool = False,
) -> list[FixedPoint]:
    """Fixed points of ``m`` at parameter ``p`` by damped Newton from each row of ``x0s``.

    ``x0s``: (K, d) starting states (all iterated together, batched); ``p``: (n_p,) one parameter
    vector. Newton step on G(u) = F(u, p) - u with dG/du = dF/du - I, halved (up to 12 times) while
    it does not decrease max |G|. A row converges when max |G| <= ``tol`` * (1 + max |u|); it then
    gets up to two more Newton steps, kept only where they lower the residual (polishing to rounding
    level). For a map computed in float32 (a learned map), pass ``tol`` of about 1e-6.
    Converged results closer than ``dedup_tol`` * (1 + max |u|) are merged. Unconverged end points
    are dropped unless ``keep_unconverged``. Sorted by the first coordinate.
    """
    d = int(m.dim)
    u = _states("x0s", x0s, d)
    pv = np.asarray(p, dtype=np.float64).ravel()
    if not np.all(np.isfinite(pv)):
        raise InputError(f"p must be finite, got {pv}")
    if tol <= 0 or max_iter < 1:
        raise InputError(f"tol must be > 0 and max_iter >= 1, got tol={tol!r}, max_iter={max_iter!r}")
    nt = _Newton(m, u, np.tile(pv, (u.shape[0], 1)), tol)
    nt.solve(int(max_iter))
    return _map_results(m, nt, dedup_tol, keep_unconverged)


class _Newton:
    """Damped Newton on G(u) = F(u, p) - u for all rows of ``u`` (K, d) at once, in place."""

    def __init__(self, m: MapLike, u: np.ndarray, pb: np.ndarray, tol: float):
        self.m, self.u, self.pb, self.tol = m, u, pb, tol
        self.k, self.eye = u.shape[0], np.eye(u.shape[1])
        self.g, self.r = self.resid(u)
        self.done = self.small()
        self.iters = np.zeros(self.k, dtype=int)

    def resid(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.asarray(self.m.step(x, self.pb), dtype=np.float64) - x
        with np.errstate(invalid="ignore"):
            r = np.max(np.abs(g), axis=1)
        return g, np.where(np.isfinite(r), r, np.inf)

    def small(self) -> np.ndarray:
        return self.r <= self.tol * (1.0 + np.max(np.abs(self.u), axis=1))

    def step(self, act: np.ndarray, require_decrease: bool) -> np.ndarray:
        """One damped Newton step on the rows in ``act`` (in place); returns the rows that moved."""
        u, g, r = self.u, self.g, self.r
        jg = np.asarray(self.m.jacobian(u, self.pb), dtype=np.float64)[act] - self.eye
        ga = g[act]
        try:
            delta = -np.linalg.solve(jg, ga[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # a singular row: least squares for each row
            delta = -np.stack([np.linalg.lstsq(jj, gg, rcond=None)[0] for jj, gg in zip(jg, ga)])
        step = np.zeros_like(u)
        step[act] = delta
        scale = np.ones(self.k)
        trial = u + step
        gt, rt = self.resid(trial)
        for _ in range(_MAX_HALVINGS):
            worse = act & ~(rt < r)
            if not worse.any():
                break
            scale[worse] *= 0.5
            trial = u + scale[:, None] * step
            gt, rt = self.resid(trial)
        accept = act & ((rt < r) if require_decrease else np.isfinite(rt))
        u[accept], g[accept], r[accept] = trial[accept], gt[accept], rt[accept]
        return accept

    def solve(self, max_iter: int) -> None:
        """Newton until every row converges or gives up, then up to two polishing steps per row, kept
        only where they lower the residual (Newton converges quadratically: to rounding level)."""
        for _ in range(max_iter):
            act = ~self.done & np.isfinite(self.r)
            if not act.any():
                break
            moved = self.step(act, require_decrease=False)
            self.iters[act] += 1
            self.r[act & ~moved] = np.inf  # no finite step: give the row up
            self.done |= act & self.small()
        for _ in range(2):
            act = self.done & np.isfinite(self.r) & (self.r > 0)
            if act.any():
                self.iters[self.step(act, require_decrease=True)] += 1


def _map_results(m: MapLike, nt: _Newton, dedup_tol: float, keep_unconverged: bool) -> list[FixedPoint]:
    """The distinct end points of ``nt`` with their multipliers, converged ones first."""
    u, k, d = nt.u, nt.k, nt.u.shape[1]
    conv = nt.done & np.isfinite(nt.r)
    _, r = nt.resid(u)  # the residual at the returned point (rows given up above carry inf)
    jac = np.asarray(m.jacobian(np.where(np.isfinite(u), u, 0.0), nt.pb), dtype=np.float64)
    order = [i for i in range(k) if conv[i]]
    kept = [order[j] for j in _dedup([u[i] for i in order], dedup_tol)]
    if keep_unconverged:
        rest = [i for i in range(k) if not conv[i] and np.all(np.isfinite(u[i]))]
        kept += [rest[j] for j in _dedup([u[i] for i in rest], dedup_tol)]
    out = []
    for i in kept:
        mu = np.linalg.eigvals(jac[i]) if np.all(np.isfinite(jac[i])) else np.full(d, np.nan + 0j)
        mu = mu[np.argsort(-np.abs(mu), kind="stable")]
        out.append(FixedPoint(x=u[i].copy(), eigenvalues=mu.astype(np.complex128),
                              n_unstable=int(np.sum(np.abs(mu) > 1.0)), converged=bool(conv[i]),
                              residual=float(r[i]), kind="map", iterations=int(nt.iters[i])))
    out.sort(key=lambda fp: (not fp.converged, float(fp.x[0])))
    return out


def _default_guesses(y0: np.ndarray) -> np.ndarray:
    """The origin and ``y0`` with every sign pattern (first 3 coordinates), scaled by 0.5, 1, 2, 5."""
    d = y0.size
    k = min(d, 3)
    signs = np.array(np.meshgrid(*([[1.0, -1.0]] * k), indexing="ij")).reshape(k, -1).T
    flips = np.ones((signs.shape[0], d))
    flips[:, :k] = signs
    return np.concatenate([np.zeros((1, d))] + [c * flips * y0 for c in (0.5, 1.0, 2.0, 5.0)])


def flow_equilibria(
    system: Flow,
    params: Mapping[str, float] | None = None,
    guesses: Any = None,
    *,
    tol: float = 1e-9,
    dedup_tol: float = 1e-6,
    max_cond: float = 1e12,
) -> list[FixedPoint]:
    """Equilibria of a flow: roots of f(y; params) = 0 from each guess, with their eigenvalues.

    ``guesses``: (K, dim) starting states; default: the origin and the system's ``initial_state``
    with every sign pattern of its first three coordinates, scaled by 0.5, 1, 2 and 5 (a generic choice,
    our default; it finds all three Lorenz equilibria; pass guesses near the equilibria you are
    after for anything else). Each guess runs scipy's ``root(method="hybr")``
    with the analytic Jacobian. A root is kept when max |f| <= ``tol`` (state units per unit
    time) and df/dy there is not numerically singular (condition number <= ``max_cond``: this drops
    "roots at infinity" where every term of f underflows, such as the HH model at V -> -inf, and
    degenerate equilibria at a bifurcation). Roots closer than ``dedup_tol`` * (1 + max |y|) are
    merged. Sorted by the first variable.
    """
    if not isinstance(system, Flow):
        raise InputError(
            f"system must be a Flow (an ODE), got {type(system).__name__}; use map_fixed_points for maps"
        )
    d = system.dim
    pv = system.param_vector(params)
    if guesses is None:
        guesses = _default_guesses(np.asarray(system.initial_state, dtype=np.float64))
    y0s = _states("guesses", guesses, d)

    def f(y: np.ndarray) -> np.ndarray:
        out = np.empty(d)
        system.rhs(0.0, np.ascontiguousarray(y, dtype=np.float64), pv, out)
        return out

    def jac(y: np.ndarray) -> np.ndarray:
        out = np.empty((d, d))
        system.jac(0.0, np.ascontiguousarray(y, dtype=np.float64), pv, out)
        return out

    found = _roots(f, jac, y0s, tol, max_cond)
    out = []
    for i in _dedup(found, dedup_tol):
        y = found[i]
        lam = np.linalg.eigvals(jac(y)).astype(np.complex128)
        lam = lam[np.lexsort((-lam.imag, -lam.real))]
        out.append(FixedPoint(x=y.copy(), eigenvalues=lam, n_unstable=int(np.sum(lam.real > 0)), converged=True,
                              residual=float(np.max(np.abs(f(y)))), kind="flow", variables=tuple(system.variables)))
    out.sort(key=lambda e: float(e.x[0]))
    return out


def _roots(f, jac, y0s: np.ndarray, tol: float, max_cond: float) -> list[np.ndarray]:
    """Roots of ``f`` by scipy's hybrid method from each guess, kept where max |f| <= tol and the
    Jacobian is not numerically singular."""
    from scipy import optimize  # here, not at import: a sweep's command line never needs it

    found: list[np.ndarray] = []
    for y0 in y0s:
        with np.errstate(all="ignore"):
            sol = optimize.root(f, y0, jac=jac, method="hybr", options={"xtol": 1e-13})
        y = np.asarray(sol.x, dtype=np.float64)
        if np.all(np.isfinite(y)):
            res = float(np.max(np.abs(f(y))))
            if np.isfinite(res) and res <= tol and np.linalg.cond(jac(y)) <= max_cond:
                found.append(y)
    return found


def fixed_points(system, params: Mapping[str, float] | None = None, guesses: Any = None, **options
                 ) -> list[FixedPoint]:
    """The fixed points of any system at ``params`` (by name; default its defaults): a flow's
    equilibria (:func:`flow_equilibria`, default guesses from its initial state) or a map's fixed points
    (:func:`map_fixed_points` from ``guesses``, default the system's initial states and 63 states of its
    orbit from there); ``options`` go to that function."""
    if system.kind == "flow":
        return flow_equilibria(system, params, guesses, **options)
    p = system.param_vector(params)
    if guesses is None:
        x0 = system.initial_states(p[None, :])
        guesses = np.concatenate([x0, _orbit_states(system, p, x0[0], 63)])
    return map_fixed_points(system, guesses, p, **options)


def _orbit_states(system, p: np.ndarray, x0: np.ndarray, n: int) -> np.ndarray:
    """``n`` states of the orbit from ``x0`` (a map's steps, float64)."""
    x, out = x0[None, :].astype(np.float64), []
    for _ in range(n):
        x = system.step(x, p[None, :])
        if not np.all(np.isfinite(x)):
            break
        out.append(x[0])
    return np.array(out).reshape(-1, system.dim)


def compare_fixed_points(eq_eigs: Any, map_multipliers: Any, dt: float) -> dict:
    """Predicted multipliers exp(lambda dt) of an equilibrium vs the multipliers a map has.

    ``eq_eigs``: eigenvalues of the flow's equilibrium (per unit time); ``map_multipliers``: those
    of the corresponding fixed point of a map sampling the flow every ``dt`` (same time unit). The
    two sets may differ in size (a learned map lives in a latent space of its own dimension): each
    found multiplier is paired with one predicted multiplier by minimum total |difference|
    (Hungarian assignment). Returns a JSON-ready dict with the predicted and found multipliers
    ([re, im] pairs), the pairs with their absolute errors, and the unstable counts (Re lambda > 0
    vs |mu| > 1) with ``n_unstable_agree``.
    """
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise InputError(f"dt must be a positive number (the map's sampling step), got {dt!r}") from None
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"dt must be a positive number (the map's sampling step), got {dt!r}")
    lam = np.atleast_1d(np.asarray(eq_eigs, dtype=np.complex128))
    mu = np.atleast_1d(np.asarray(map_multipliers, dtype=np.complex128))
    if lam.size == 0 or mu.size == 0:
        raise InputError(f"eq_eigs and map_multipliers must be non-empty, got {lam.size} and {mu.size}")
    if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(mu))):
        raise InputError("eq_eigs and map_multipliers must be finite")
    pred = np.exp(lam * dt)
    cost = np.abs(pred[:, None] - mu[None, :])
    from scipy import optimize

    rows, cols = optimize.linear_sum_assignment(cost)
    n_true = int(np.sum(lam.real > 0))
    n_map = int(np.sum(np.abs(mu) > 1.0))
    return {
        "dt": dt,
        "predicted": _complex_list(pred),
        "found": _complex_list(mu),
        "pairs": [
            {
                "eigenvalue": [float(lam[i].real), float(lam[i].imag)],
                "predicted": [float(pred[i].real), float(pred[i].imag)],
                "found": [float(mu[j].real), float(mu[j].imag)],
                "abs_error": float(cost[i, j]),
            }
            for i, j in zip(rows, cols)
        ],
        "max_abs_error": float(cost[rows, cols].max()),
        "n_unstable_true": n_true,
        "n_unstable_map": n_map,
        "n_unstable_agree": n_true == n_map,
    }
