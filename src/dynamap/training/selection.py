"""Free-run selection shared by the map trainers: free runs of candidate maps from states on the
data, scored against the data's spike statistics (:mod:`.freerun`); the ``final_top`` best
checkpoints of the short runs, the long runs that pick the winner, the calibration of the control and
the cross-tag validation."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch

from ..models._orbits import DECODE_BLOCK_STATES, decode_block
from ..models.base import StateMap
from ..models.map import iterate_into, stacked_stepper
from .config import SelectionConfig
from .freerun import TrainStats, score, train_stats

__all__ = ["Checkpoints", "CrossTagScorer", "FreeRunScorer", "calibrate_shifts", "finish_selection",
           "interior_tags", "iterate", "iterate_stacked"]

#: free runs iterated side by side in one batch of the selection (bounds the memory of the orbits)
MAX_COLUMNS = 256
#: ... and at most this many state values (float32) of their orbits held at once, 128 MiB: the long
#: runs are half the data long, and 256 runs of a 10-minute recording at a 1.5 ms map step held 4 GiB
ORBIT_VALUES = 2**25
#: checkpoints of the short-run selection scored together (their free runs side by side)
SELECT_BATCH = 8


def _orbit_tm(fmap: StateMap, z0: torch.Tensor, c: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Free orbit, time-major (n_steps, d, B), from z0 (B, d), no grad."""
    b, d = z0.shape
    out = torch.empty(n_steps, d, b)
    step = fmap.stepper(c)
    with torch.no_grad():
        iterate_into(step, z0.detach().to(torch.float32).T.contiguous(), out)
    return out


def _stacked_tm(nets: list[StateMap], z0: torch.Tensor, c: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Free orbits of K maps side by side, time-major (n_steps, K, d, B), from the same z0 (B, d)."""
    b, d = z0.shape
    out = torch.empty(n_steps, len(nets), d, b)
    step = stacked_stepper(nets, c)
    with torch.no_grad():
        start = z0.detach().to(torch.float32).T.contiguous()[None].repeat(len(nets), 1, 1)
        iterate_into(step, start, out)
    return out


def iterate(fmap: StateMap, z0: torch.Tensor, c: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Free orbit (B, n_steps, d) from z0 (B, d), no grad (the step loop of :func:`fast_stepper`)."""
    return _orbit_tm(fmap, z0, c, n_steps).permute(2, 0, 1)


def iterate_stacked(nets: list[StateMap], z0: torch.Tensor, c: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Free orbits (K * B, n_steps, d) of K maps side by side from the same z0 (B, d) and controls
    c (B, 1), map by map (rows k * B ... (k + 1) * B - 1 are map k's), no grad
    (:func:`~dynamap.models.map.stacked_stepper`)."""
    out = _stacked_tm(nets, z0, c, n_steps)
    t, k, d, b = out.shape
    return out.permute(1, 3, 0, 2).reshape(k * b, t, d)


class FreeRunScorer:
    """Free runs of maps from ``cfg.select_starts`` states of each latent segment, each with its
    segment's control, scored against the data's statistics ``refs`` (arguments as in :func:`fit_map`):
    :meth:`shifts` for one map with the controls shifted, :meth:`maps` for several maps side by side.
    Both return scores (n, n_seg) and details, in batches of at most ``MAX_COLUMNS`` runs and
    ``ORBIT_VALUES`` orbit values."""

    def __init__(self, latents: list[np.ndarray], c_norm: list[float], cfg: SelectionConfig, *,
                 decode: Callable[[torch.Tensor], torch.Tensor], refs: list[TrainStats], dt: float,
                 threshold: float, hysteresis: float = 0.0):
        starts, cs = [], []
        for i, x in enumerate(latents):
            pos = np.linspace(0, x.shape[0] - 1, cfg.select_starts).astype(int)
            starts.append(x[pos])
            cs += [c_norm[i]] * cfg.select_starts
        self.z_eval = torch.from_numpy(np.concatenate(starts).astype(np.float32))
        self.c_eval = torch.tensor(cs, dtype=torch.float32)[:, None]
        self.n_seg, self.n_start = len(latents), cfg.select_starts
        self.cfg, self.decode, self.refs = cfg, decode, refs
        self.dt, self.threshold, self.hysteresis = dt, threshold, hysteresis

    def shifts(self, fmap: StateMap, n_steps: int, n_transient: int, shifts
               ) -> tuple[np.ndarray, list[list[dict]]]:
        """Runs of ``fmap`` with each segment's control shifted by each of ``shifts`` (normalised
        units; (n_shift,) for all segments alike or (n_shift, n_seg))."""
        shifts = np.asarray(shifts, dtype=np.float64)
        if shifts.ndim == 1:
            shifts = np.repeat(shifts[:, None], self.n_seg, axis=1)
        per_chunk = self._per_chunk(n_steps)
        out = []
        for first in range(0, shifts.shape[0], per_chunk):
            part = shifts[first : first + per_chunk]
            z0 = self.z_eval.repeat(part.shape[0], 1)
            c0 = (self.c_eval.to(torch.float64).repeat(part.shape[0], 1)
                  + torch.from_numpy(np.repeat(part.ravel(), self.n_start))[:, None]).to(torch.float32)
            out.append(self._score([_orbit_tm(fmap, z0, c0, n_steps)[n_transient:]], part.shape[0]))
        return np.concatenate([o[0] for o in out]), [row for o in out for row in o[1]]

    def maps(self, nets: list[StateMap], n_steps: int, n_transient: int
             ) -> tuple[np.ndarray, list[list[dict]]]:
        """Runs of each of ``nets`` (unshifted controls), iterated side by side."""
        per_chunk = self._per_chunk(n_steps)
        out = []
        for first in range(0, len(nets), per_chunk):
            part = nets[first : first + per_chunk]
            orbits = _stacked_tm(part, self.z_eval, self.c_eval, n_steps)[n_transient:]
            out.append(self._score(list(orbits.unbind(1)), len(part)))
        return np.concatenate([o[0] for o in out]), [row for o in out for row in o[1]]

    def _per_chunk(self, n_steps: int) -> int:
        """Groups (shifts or maps) of n_seg * n_start runs iterated side by side in one batch."""
        columns = min(MAX_COLUMNS, ORBIT_VALUES // (n_steps * self.z_eval.shape[1]))
        return max(1, columns // (self.n_seg * self.n_start))

    def _score(self, orbits: list[torch.Tensor], n_groups: int) -> tuple[np.ndarray, list[list[dict]]]:
        """Scores (n_groups, n_seg) of runs given as time-major blocks ``orbits`` (T, d, B_k) whose
        columns, concatenated, are the n_groups * n_seg * n_start runs in that order. Checked and
        decoded in place, a cache-sized block of steps at a time (no copy of the whole orbits)."""
        xs, bads = [], []
        with torch.no_grad():
            for tm in orbits:
                t, _, b = tm.shape
                bads.append(~((tm.amax((0, 1)) <= 1e3) & (tm.amin((0, 1)) >= -1e3)))  # NaN fails both
                x = torch.empty(b, t)
                block = max(1, DECODE_BLOCK_STATES // b)
                for k0 in range(0, t, block):
                    x[:, k0 : k0 + block] = decode_block(self.decode, tm[k0 : k0 + block]).T
                xs.append(x)
        del orbits
        x = torch.cat(xs).numpy().astype(np.float64)
        x[torch.cat(bads).numpy()] = np.nan
        scores = np.empty((n_groups, self.n_seg))
        details: list[list[dict]] = []
        for j in range(n_groups):
            row = []
            for i in range(self.n_seg):
                at = (j * self.n_seg + i) * self.n_start
                stats = [train_stats(x[at + k], self.dt, self.threshold, keep_trace=True,
                                     hysteresis=self.hysteresis) for k in range(self.n_start)]
                per = [score(self.refs[i], st, self.cfg.select_spectral, self.dt) for st in stats]
                scores[j, i] = float(np.mean([p[0] for p in per]))
                isi = [st.isi.mean() for st in stats if st.finite and st.isi.size]
                ref_isi = self.refs[i].isi
                ratio = float(np.mean(isi) / ref_isi.mean()) if isi and ref_isi.size else None
                row.append({"score": float(scores[j, i]), "starts": [p[1] for p in per], "isi_ratio": ratio})
            details.append(row)
        return scores, details


def _holding(fmap: StateMap, state: dict) -> StateMap:
    """A copy of ``fmap`` with the weights ``state``, in eval mode."""
    out = copy.deepcopy(fmap)
    out.load_state_dict(state)
    return out.eval()


class Checkpoints:
    """The checkpoints of the short-run selection: each is scored when ``SELECT_BATCH`` are waiting
    (their free runs side by side, :meth:`FreeRunScorer.maps`) and the ``final_top`` best kept, in
    training order, so the result is that of scoring each one at once."""

    def __init__(self, fmap: StateMap, scorer: FreeRunScorer, cfg: SelectionConfig, hist: dict):
        self.fmap, self.scorer, self.cfg, self.hist = fmap, scorer, cfg, hist
        self.waiting: list[tuple[int, dict]] = []
        self.top: list[tuple[float, int, dict]] = []

    def add(self, step: int, state: dict | None = None) -> None:
        """Queue the map's weights now (or ``state``) as checkpoint ``step``."""
        self.waiting.append((step, copy.deepcopy(self.fmap.state_dict()) if state is None else state))
        if len(self.waiting) >= SELECT_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.waiting:
            return
        nets = [_holding(self.fmap, sd) for _, sd in self.waiting]
        scores, details = self.scorer.maps(nets, self.cfg.select_steps, self.cfg.select_transient)
        for (step, sd), sc, det in zip(self.waiting, scores, details):
            s = float(sc.mean())
            self.hist["select"].append({"step": step, "score": s, "segments": det})
            if len(self.top) < self.cfg.final_top or s < self.top[-1][0]:
                self.top.append((s, step, sd))
                self.top.sort(key=lambda item: item[0])
                del self.top[self.cfg.final_top :]
        self.waiting = []


def pick_final(fmap: StateMap, top: list, scorer: FreeRunScorer, run: tuple[int, int], hist: dict) -> None:
    """The short runs screen; long runs (as long as the free-running check, side by side) pick the
    winner among the ``top`` checkpoints, which ``fmap`` then holds (in eval mode); ``hist`` records
    the runs."""
    final_steps, final_transient = run
    if final_steps:
        scores, details = scorer.maps([_holding(fmap, sd) for _, _, sd in top], final_steps, final_transient)
        longs = [(float(sc.mean()), det) for sc, det in zip(scores, details)]
    else:
        longs = [(s_short, None) for s_short, _, _ in top]
    best = (np.inf, None, -1)
    hist["final"] = []
    for (s_short, st, sd), (s_long, det) in zip(top, longs):
        hist["final"].append({"step": st, "short_score": s_short, "long_score": s_long,
                              "isi_ratios": None if det is None else [seg["isi_ratio"] for seg in det]})
        if s_long < best[0]:
            best = (s_long, sd, st)
    fmap.load_state_dict(best[1])
    fmap.eval()
    hist["selected_step"] = best[2]
    hist["selected_score"] = best[0]


def interior_tags(c_norm: list[float]) -> list[int]:
    """The segments whose control lies strictly between the smallest and the largest (the tags a
    cross-tag validation holds out: the map interpolates to them)."""
    c = np.asarray(c_norm, dtype=np.float64)
    return [int(i) for i in np.flatnonzero((c > c.min()) & (c < c.max()))]


class CrossTagScorer:
    """Cross-tag validation: the readouts fitted without segment k, run freely at segment k's control
    from its states and scored against its data, for each k in ``held`` (arguments as in
    :class:`FreeRunScorer`)."""

    def __init__(self, latents: list[np.ndarray], c_norm: list[float], cfg: SelectionConfig, held: list[int], *,
                 refs: list[TrainStats], **kw):
        self.cfg, self.held = cfg, held
        self.scorers = {k: FreeRunScorer([latents[k]], [c_norm[k]], cfg, refs=[refs[k]], **kw) for k in held}

    def score(self, fmap, sets: dict) -> list[dict]:
        """For each readout j: the mean score at the held-out segments k of ``sets[k][j]`` (the readouts
        fitted without segment k) and the details per segment (at least one segment held out)."""
        n = len(sets[self.held[0]])
        per = {k: self.scorers[k].maps([_holding(fmap, sd) for sd in sets[k]], self.cfg.select_steps,
                                       self.cfg.select_transient) for k in self.held}
        return [{"score": float(np.mean([per[k][0][j, 0] for k in self.held])),
                 "segments": {str(k): per[k][1][j][0] for k in self.held}} for j in range(n)]


def calibrate_shifts(evaluate_shifts: Callable, c_norm: list[float], cfg: SelectionConfig, run: tuple[int, int]
                     ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Calibrate the control input (``SelectionConfig.c_shifts``, ``c_refine``): per segment,
    the shift of c (normalised units) whose free runs of ``run`` = (steps, transient) score best.
    Returns the shifts, their scores (one per segment) and the history of the search."""
    n_seg = len(c_norm)
    # 0 is in the grid, so the result never scores worse than no shift in the same runs
    grid = np.unique(np.r_[0.0, np.asarray(cfg.c_shifts, dtype=np.float64)])
    scores, details = evaluate_shifts(*run, grid)
    # segments with the same control value share one shift: pick by their mean score
    _, group = np.unique(np.asarray(c_norm, dtype=np.float64), return_inverse=True)
    group = group.ravel()
    pick = np.array([scores[:, group == g].mean(axis=1).argmin() for g in group])
    zero = int(np.flatnonzero(grid == 0.0)[0])
    shift, chosen = grid[pick], scores[pick, np.arange(n_seg)]
    ratios = [details[j][i]["isi_ratio"] for i, j in enumerate(pick)]
    calib = {"shifts": grid.tolist(), "scores": scores.T.tolist(), "unshifted_score": float(scores[zero].mean())}
    if cfg.c_refine:
        # a finer search around each segment's pick (the period can change abruptly with c); a
        # refined shift replaces the pick only where it scores better
        fine = shift[None, :] + np.asarray(cfg.c_refine, dtype=np.float64)[:, None]
        fscores, fdetails = evaluate_shifts(*run, fine)
        for g in np.unique(group):
            on = np.flatnonzero(group == g)
            j = int(fscores[:, on].mean(axis=1).argmin())
            if fscores[j, on].mean() < chosen[on].mean():
                shift[on], chosen[on] = fine[j, on], fscores[j, on]
                for i in on:
                    ratios[i] = fdetails[j][i]["isi_ratio"]
        calib["refine"] = {"shifts": fine.T.tolist(), "scores": fscores.T.tolist()}
    calib["isi_ratios"] = ratios
    return shift, chosen, calib



def finish_selection(fmap: StateMap, checkpoints: Checkpoints, scorer: FreeRunScorer, cfg: SelectionConfig,
                     c_norm: list[float], hist: dict, last_step: int) -> None:
    """After training: the long runs pick the winner among the checkpoints (the last state when none
    was taken), which ``fmap`` then holds, and the control's calibration; ``hist`` records both."""
    run = tuple(hist["final_run"])
    if not checkpoints.top and not checkpoints.waiting:  # a single one-step stage: the last state
        checkpoints.add(last_step)
    checkpoints.flush()
    pick_final(fmap, checkpoints.top, scorer, run, hist)
    hist["c_shift"] = [0.0] * len(c_norm)
    if cfg.c_shifts and run[0]:
        shift, chosen, hist["calibration"] = calibrate_shifts(
            lambda n, tr, sh: scorer.shifts(fmap, n, tr, sh), c_norm, cfg, run)
        hist["c_shift"] = [float(v) for v in shift]
        hist["selected_score"] = float(chosen.mean())
