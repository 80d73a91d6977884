"""A tagged model checked on recordings it was not trained on: where between its tags it goes wrong.

Given a recording at a value of the parameter that is not a training value, three questions separate
the causes of a wrong free run there (``docs/metrics.md``, "held-out recordings"):

* **the latent space**: do the recording's recovered states lie between the orbits of its neighbouring
  tags (``between`` near 1), or off them (a tear: much above 1)? Does the decoder reproduce the
  recording (``recon_rel``)?
* **the map's local accuracy**: its k-step prediction error from the recording's own states, relative to
  the size of the k-step motion (``err[k]``: 0 is exact, 1 is no better than standing still);
* **the control pathway**: the same error with c set to the nearest tag (``err_nearest[k]``). A map that
  uses c between its tags predicts better with the true value than with the nearest tag's
  (``c_gain[k]`` = err_nearest / err above 1).

Small errors with wrong free runs point at stability (the orbit's long-run pull), large errors with
``between`` near 1 at the map or its control pathway, ``between`` far above 1 at the latent space.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy.spatial import cKDTree

from .._core.errors import InputError

__all__ = ["orbit_distance", "step_errors", "heldout_report"]

#: states drawn (evenly) from an orbit for distances, and starts for the k-step errors
N_STATES = 4000


def _thin(z: np.ndarray, n: int) -> np.ndarray:
    if z.shape[0] <= n:
        return z
    return z[np.linspace(0, z.shape[0] - 1, n).astype(int)]


def orbit_distance(za: np.ndarray, zb: np.ndarray, n: int = N_STATES) -> float:
    """Median over states of orbit ``za`` of the distance to the nearest state of orbit ``zb`` (both
    (n, d), the same coordinates); 0 when ``za`` lies on ``zb``. Not symmetric."""
    za, zb = _thin(np.asarray(za, float), n), _thin(np.asarray(zb, float), 4 * n)
    return float(np.median(cKDTree(zb).query(za)[0]))


def step_errors(fmap: torch.nn.Module, z: np.ndarray, c_norm: float, horizons: Sequence[int] = (1, 16),
                n_starts: int = N_STATES) -> dict:
    """k-step errors of the map ``fmap`` (normalised control ``c_norm``) from the states ``z`` (n, d) of
    one recording: for each k, RMS(F^k(z_t) - z_{t+k}) / RMS(z_{t+k} - z_t) over evenly spread starts."""
    z = np.asarray(z, dtype=np.float32)
    kmax = max(int(k) for k in horizons)
    if z.shape[0] <= kmax + 1:
        raise InputError(f"a recording of {z.shape[0]} states is too short for {kmax}-step errors")
    starts = np.unique(np.linspace(0, z.shape[0] - 1 - kmax, min(n_starts, z.shape[0] - kmax)).astype(int))
    u = torch.from_numpy(z[starts])
    c = torch.full((len(starts), 1), float(c_norm), dtype=torch.float32)
    out = {}
    with torch.no_grad():
        for k in range(1, kmax + 1):
            u = fmap(u, c)
            if k in horizons:
                tgt, base = z[starts + k], z[starts]
                err = np.sqrt(np.mean((u.numpy() - tgt) ** 2))
                motion = np.sqrt(np.mean((tgt - base) ** 2))
                out[int(k)] = float(err / max(motion, 1e-12))
    return out


def heldout_report(model, recordings: Mapping[float, object], tag_recordings: Mapping[float, object], *,
                   horizons: Sequence[int] = (1, 16)) -> dict:
    """The three checks of the module docstring for a fitted tagged ``model`` at each value of
    ``recordings`` (value -> :class:`~dynamap.io.series.Series` sampled like the training data), with
    ``tag_recordings`` (tag -> series, e.g. the training segments) for the tags' orbits. Tags
    themselves may be among ``recordings``: their rows are the reference level of the errors."""
    if model.mode_ != "tagged":
        raise InputError("held-out recordings are checked for a tagged model (several training values)")
    tags = np.array(sorted(float(t) for t in tag_recordings))
    ztag = {float(t): model.transform(s) for t, s in tag_recordings.items()}
    fmap = model.map_
    rows = []
    for v in sorted(float(x) for x in recordings):
        series = recordings[v]
        z = ztag[v] if series is tag_recordings.get(v) else model.transform(series)  # a tag: encoded above
        x = model.resample(series)[model.sampling_.window - 1:]
        with torch.no_grad():
            xhat = model.decode(torch.from_numpy(z.astype(np.float32))).numpy()
        recon = float(np.sqrt(np.mean((xhat - x) ** 2)) / max(float(np.std(x)), 1e-12))
        nearest = float(tags[np.argmin(np.abs(tags - v))])
        row = {"value": v, "nearest_tag": nearest, "recon_rel": recon,
               "d_nearest": orbit_distance(z, ztag[nearest])}
        lo, hi = tags[tags <= v], tags[tags >= v]
        if lo.size and hi.size and lo[-1] != hi[0]:
            a, b = float(lo[-1]), float(hi[0])
            d_ab = orbit_distance(ztag[a], ztag[b])
            row.update(lower=a, upper=b, d_lower=orbit_distance(z, ztag[a]), d_upper=orbit_distance(z, ztag[b]),
                       d_tags=d_ab)
            row["between"] = (row["d_lower"] + row["d_upper"]) / max(d_ab, 1e-12)
        c_true = float(model.normalise_c(np.array([v]))[0])
        c_near = float(model.normalise_c(np.array([nearest]))[0])
        row["err"] = step_errors(fmap, z, c_true, horizons)
        row["err_nearest"] = step_errors(fmap, z, c_near, horizons)
        row["c_gain"] = {k: row["err_nearest"][k] / max(row["err"][k], 1e-12) for k in row["err"]}
        rows.append(row)
    return {"tags": [float(t) for t in tags], "horizons": [int(k) for k in horizons], "points": rows}
