"""Run the benchmark protocols with every predictor (dynamap's families, the peers on the package index,
the baselines) and generate docs/results.md from the runs (benchmarks/_harness.py says what a protocol,
a predictor and a score are).

    python benchmarks/results.py                        # every protocol x the "full" set, seeds 0 1 2; the page
    python benchmarks/results.py --protocols hh-tagged --predictors dynamap lookup
    python benchmarks/results.py --predictors families --protocols hh-tagged   # the slow encoder x map families
    python benchmarks/results.py --render               # only regenerate the page from the stored runs
    python benchmarks/results.py --quick --out DIR      # the CI smoke run: QUICK protocol, seed 0, page in DIR

Runs are stored one file per protocol in ``benchmarks/results/<protocol>.json`` (each row with its commit,
date and seconds; a rerun replaces the rows it recomputes), the peers' searched settings in
``benchmarks/results/peer_settings.json`` (``--search`` redoes a peer's search; a searched peer without
settings for a protocol searches first). The page is made from those files alone. Predictor sets: ``full``
(dynamap's default, the four peers with their documented defaults and searched, our NG-RC, the lookup,
the interpolation) and ``families`` (dynamap's other encoder x map families: linear x ridge, VAE x ridge,
delay x MLP, VAE x MLP; the VAE and MLP ones take 5-15 minutes a fit).
A missing peer package is skipped with one line.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402

STORE = H.HERE / "results"
PAGE = H.HERE.parent / "docs" / "results.md"
PEERS = sorted(p.stem for p in H.HERE.glob("_peer_*.py"))
ORDER = ["hh-tagged", "hh-tagged-noise", "hr-tagged", "ml-tagged", "hh-single", "b6-fi"]
FAMILIES = [("linear", "ridge"), ("vae", "ridge"), ("delay", "mlp"), ("vae", "mlp")]


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=H.HERE, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=H.HERE,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("+" if dirty else "") if out.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


#: why a predictor may be missing from a protocol's stored runs
NOT_RUN = {f"dynamap-{e}-{f}": "dynamap's other families run on request (`--predictors families`): a tagged fit "
           "takes 2.5 (linear x ridge), 3 (VAE x ridge) or 5-15 minutes (the MLP ones) on the HH demo, beyond the "
           "full set's hour on 2 cores" for e, f in FAMILIES}
#: the headline score of each mode: (row key, higher is better, format)
HEADLINE = {"tagged": ("accuracy", True, "{:.2f}"), "single": ("agreement", True, "{:.2f}"),
            "fi": ("rate_err", False, "{:.0%}")}


def _summary(stores: dict[str, dict]) -> list[str]:
    """One row per protocol (its stored runs): dynamap's default, the best peer by mean, the baselines."""
    out = ["| protocol | score | dynamap (default) | best package peer | our NG-RC | nearest-tag lookup | "
           "interpolation | chance |", "|---|---|---|---|---|---|---|---|"]
    for key, stored in stores.items():
        p = H.PROTOCOLS[key]
        col, up, fmt = HEADLINE[p.mode]
        by = _group(stored["rows"])

        def mean(k, c=col, by=by):
            v = [r[c] for r in by.get(k, []) if "error" not in r and r.get(c) is not None]
            return float(np.mean(v)) if v else None

        def cell(k, c=col, fmt=fmt):
            m = mean(k, c)
            return "n/a" if m is None else fmt.format(m)

        peers = [(mean(k), by[k][0]["label"]) for k in by if k not in ("lookup", "interpolation", "ngrc-ours")
                 and mean(k) is not None and not k.startswith("dynamap")]
        best = (max if up else min)(peers, key=lambda t: t[0]) if peers else None
        name = {"tagged": "held-out accuracy", "single": "order agreement", "fi": "rate error (held-out)"}[p.mode]
        out.append(f"| {key} | {name} | {cell('dynamap')} | "
                   + (f"{fmt.format(best[0])} ({best[1]})" if best else "n/a") + f" | {cell('ngrc-ours')} | {cell('lookup')} | "
                   f"{cell('interpolation')} | {cell('dynamap', 'chance') if p.mode == 'single' else ''} |")
    return out


def expected() -> list[tuple[str, str]]:
    """(key, label) of every predictor of the sets full and families."""
    return [(p.key, p.label) for p in predictors(["full", "families"])]


def _load(path: Path, default):
    return json.loads(path.read_text()) if path.is_file() else default


def predictors(names: list[str]) -> list:
    """The predictors named: their keys as on the page (``rc-prediction-searched``), ``ADAPTER:kind``
    (``rcpred:searched``) or the sets ``full``, ``families``. A peer whose package is missing is still
    returned: its ``unavailable()`` says so and the run skips it with one line."""
    by_name = {f"{importlib.import_module(m).NAME}-{k}": f"{m}:{k}" for m in PEERS for k in ("defaults", "searched")}
    out, want = [], []
    for n in names:
        if n == "full":
            want += ["dynamap", "ngrc-ours"]
            want += [f"{m}:{s}" for m in PEERS for s in ("defaults", "searched")]
            want += ["lookup", "interpolation"]
        elif n == "families":
            want += [f"dynamap-{e}-{f}" for e, f in FAMILIES]
        else:
            want.append(by_name.get(n, n))
    for w in want:
        if w == "dynamap":
            out.append(H.Dynamap())
        elif w.startswith("dynamap-"):
            enc, fam = w[len("dynamap-"):].split("-")
            out.append(H.Dynamap(enc, fam))
        elif w == "ngrc-ours":
            out.append(H.OurNGRC())
        elif w == "lookup":
            out.append(H.Lookup())
        elif w == "interpolation":
            out.append(H.Interpolation())
        else:
            mod, _, kind = w.partition(":")
            mod = mod if mod.startswith("_peer_") else f"_peer_{mod}"
            out.append(H.Peer(mod, kind == "searched"))
    return out


def run(protocols: list[str], preds: list, seeds: list[int], store: Path, search_again: bool = False,
        log=print) -> None:
    store.mkdir(parents=True, exist_ok=True)
    settings_path = store / "peer_settings.json"
    chosen_all = _load(settings_path, {})
    stamp = {"commit": commit(), "date": datetime.date.today().isoformat()}
    for key in protocols:
        p = H.PROTOCOLS[key]
        path = store / f"{key}.json"
        stored = _load(path, {"protocol": key, "rows": {}, "skipped": {}})
        t0 = time.perf_counter()
        try:
            data = H.load(p, cache=store / ".cache")
        except FileNotFoundError as e:
            log(f"{key}: skipped ({e})")
            continue
        log(f"{key}: data and truth in {time.perf_counter() - t0:.0f} s; {len(data.values)} held-out values", flush=True)
        for pred in preds:
            why = pred.unavailable() or pred.cannot(p)
            if why:
                stored["skipped"][pred.key] = {"label": pred.label, "why": why, **stamp}
                path.write_text(json.dumps(stored, indent=1))
                log(f"  {pred.key}: skipped: {why}")
                continue
            stored["skipped"].pop(pred.key, None)
            if isinstance(pred, H.Peer) and pred.searched:
                name, skey = pred.mod.NAME, H.SEARCH_FROM.get(key, key)
                have = chosen_all.get(skey, {}).get(name)
                if have is None or search_again:
                    ts = time.perf_counter()
                    sdata = data if skey == key else H.load(H.PROTOCOLS[skey], cache=store / ".cache")
                    best, tried = H.search(pred, sdata)
                    chosen_all.setdefault(skey, {})[name] = {"chosen": best, "tried": tried,
                                                              "s": round(time.perf_counter() - ts, 1), **stamp}
                    settings_path.write_text(json.dumps(chosen_all, indent=1))
                    log(f"  {name}: search {len(tried)} settings in {time.perf_counter() - ts:.0f} s -> {best}")
                pred.chosen = {k: d[name]["chosen"] for k, d in chosen_all.items() if name in d}
                pred.chosen.update({k: pred.chosen[f] for k, f in H.SEARCH_FROM.items() if f in pred.chosen})
            for seed in seeds:
                try:
                    row = H.score(pred, data, seed)
                except Exception as e:  # a peer that crashes is a result, not the end of the run
                    row = {"protocol": key, "predictor": pred.key, "seed": seed,
                           "error": f"{type(e).__name__}: {e}"[:300]}
                    traceback.print_exc()
                row.update(label=pred.label, **stamp)
                stored["rows"][f"{pred.key}|{seed}"] = row
                path.write_text(json.dumps(stored, indent=1))
                log(f"  {pred.key} seed {seed}: " + _brief(row), flush=True)


def _brief(r: dict) -> str:
    if "error" in r:
        return "error: " + r["error"]
    keys = ("accuracy", "lookup", "recall", "sign", "agreement", "chance", "rate_err", "fit_s", "run_s")
    return ", ".join(f"{k} {r[k]:.3g}" if isinstance(r[k], float) else f"{k} {r[k]}" for k in keys if k in r)


# ------------------------------------------------------------------------------------------- page


def _stats(vals, fmt="{:.2f}", worst=min) -> str:
    v = [x for x in vals if x is not None and np.isfinite(x)]
    if not v:
        return "n/a"
    return f"{fmt.format(np.mean(v))} ({fmt.format(worst(v))})" if len(v) > 1 else fmt.format(v[0])


def _secs(vals) -> str:
    v = [x for x in vals if x is not None]
    return f"{np.mean(v):.0f}" if v and np.mean(v) >= 10 else (f"{np.mean(v):.1f}" if v else "n/a")


def _group(rows: dict) -> dict[str, list[dict]]:
    g: dict[str, list[dict]] = {}
    for r in rows.values():
        g.setdefault(r["predictor"], []).append(r)
    for v in g.values():
        v.sort(key=lambda r: r["seed"])
    return g


def _table(p, rows_by: dict[str, list[dict]]) -> list[str]:
    if p.mode == "tagged":
        head = ("| predictor | held-out accuracy, mean (worst) | beyond-lookup recall | transition error | "
                "sign agreement | tags reproduced | failed runs | fit s | free runs s | seeds |")
    elif p.mode == "single":
        head = "| predictor | order agreement, mean (worst) | chance | p | precision | fit s | free runs s | seeds |"
    else:
        first = next(r for rs in rows_by.values() for r in rs if "data_rates" in r)
        rec = ", ".join(f"{v:g}" for v in first["data_rates"])
        head = (f"| predictor | rate error at {', '.join(f'{v:g}' for v in p.grid)} pA, mean (worst) | rates (/s) by "
                f"seed (recorded: {rec}) | fit s | free runs s | seeds |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for rs in rows_by.values():
        ok = [r for r in rs if "error" not in r]
        errs = [r for r in rs if "error" in r]
        label = rs[0]["label"]
        seeds = ",".join(str(r["seed"]) for r in rs)
        if not ok:
            out.append(f"| {label} | error: {errs[0]['error']} |" + " |" * (head.count("|") - 3) + f" {seeds} |")
            continue
        note = f" ({len(errs)} seed(s) ended in an error: {errs[0]['error'][:80]})" if errs else ""
        fit, runs = _secs([r.get("fit_s") for r in ok]), _secs([r.get("run_s") for r in ok])
        if p.mode == "tagged":
            n = ok[0].get("n")
            tags = "n/a" if "tags_reproduced" not in ok[0] else ", ".join(
                f"{r['tags_reproduced']}/{len(p.tags)}" for r in ok)
            out.append(f"| {label}{note} | {_stats([r['accuracy'] for r in ok])} of {n} | "
                       f"{_stats([r.get('recall') for r in ok])} | {_stats([r.get('transition') for r in ok], worst=max)} | "
                       f"{_stats([r.get('sign') for r in ok])} | {tags} | "
                       f"{', '.join(str(r.get('failed', 0)) for r in ok)} | {fit} | {runs} | {seeds} |")
        elif p.mode == "single":
            out.append(f"| {label}{note} | {_stats([r['agreement'] for r in ok])} | {_stats([r['chance'] for r in ok])} | "
                       f"{', '.join(format(r['p_value'], '.3f') for r in ok)} | {_stats([r['precision'] for r in ok])} | "
                       f"{fit} | {runs} | {seeds} |")
        else:
            rates = "; ".join(", ".join(f"{v:.0f}" for v in r["rates"]) for r in ok)
            out.append(f"| {label}{note} | {_stats([r['rate_err'] for r in ok], '{:.0%}', max)} | {rates} | "
                       f"{fit} | {runs} | {seeds} |")
    return out


def render(store: Path, protocols: list[str], page: Path) -> str:
    chosen_all = _load(store / "peer_settings.json", {})
    lines = ["# Results", "",
             "Generated by `python benchmarks/results.py --render` from the stored runs in `benchmarks/results/` "
             "(rerun a protocol with `python benchmarks/results.py --protocols KEY`; benchmarks/_harness.py "
             "defines the protocols, the predictors and the scores, docs/metrics.md the measures). Each cell: the "
             "mean over seeds, the worst in brackets (for errors the largest). Every predictor is fitted on the "
             "training tags only and free-runs at the held-out values; the truth is the clean system (for B6, the "
             "recordings). Peers see the data as dynamap does: the step of dynamap's sampling rule, z-scored, the "
             "tags normalised; \"small search\" settings were picked by free runs at the training tags with "
             f"search seed(s) {list(H.SEARCH_SEEDS)}, never on held-out values. 2 CPU cores, one run at a time. "
             "More measurements, kept by hand, are in [measurements.md](measurements.md); their history in "
             "[experiments.md](experiments.md).", "",
             "## Summary (means over seeds; the tables below have the worst seeds, times and every predictor)", ""]
    stores = {k: json.loads((store / f"{k}.json").read_text()) for k in protocols if (store / f"{k}.json").is_file()}
    every = expected()
    lines += _summary(stores) + [""]
    total = 0.0
    for key, stored in stores.items():
        p, rows = H.PROTOCOLS[key], stored["rows"]
        stamps = sorted({(r["date"], r["commit"]) for r in rows.values()})
        secs = sum((r.get("fit_s") or 0) + (r.get("run_s") or 0) for r in rows.values())
        total += secs
        lines += [f"## {key}: {p.title}", "",
                  f"Runs of {', '.join(f'{c} ({d})' for d, c in stamps)}; fits and free runs {secs / 60:.0f} min. "
                  f"Reproduce: `python benchmarks/results.py --protocols {key}`. Noise: {p.noise}.", ""]
        lines += _table(p, _group(rows))
        if p.mode == "fi":
            lines.append("* The rate error is |map / recorded - 1|: a silent free run scores 100 %, one firing twice "
                         "as fast 100 % too, so below 100 % only a map that fires near the recorded rate is useful.")
        for _, s in sorted(stored.get("skipped", {}).items()):
            lines.append(f"* {s['label']}: not run: {s['why']}")
        for k, label in every:
            if k not in {r["predictor"] for r in rows.values()} and k not in stored.get("skipped", {}):
                lines.append(f"* {label}: not in the stored runs of this protocol ({NOT_RUN.get(k, 'not run yet')}: "
                             f"`python benchmarks/results.py --protocols {key} --predictors {k}`)")
        ch = chosen_all.get(key, {})
        if key in H.SEARCH_FROM:
            lines += ["", f"Searched settings: those of {H.SEARCH_FROM[key]} (the same tags)."]
        if ch:
            lines += ["", "Searched settings (the peer's search on the training tags): " + "; ".join(
                f"{name}: {json.dumps(v['chosen'], sort_keys=True)} ({len(v['tried'])} tried, {v['s']:.0f} s)"
                for name, v in sorted(ch.items()))]
        lines.append("")
    lines += [f"All protocols: {total / 60:.0f} min of fits and free runs (without the truths and the peers' "
              "searches)."]
    by_pred: dict[str, list] = {}
    for key, stored in stores.items():
        for r in stored["rows"].values():
            t = by_pred.setdefault(r["predictor"], [r["label"], 0.0, set()])
            t[1] += (r.get("fit_s") or 0) + (r.get("run_s") or 0)
            t[2].add(key)
    searches: dict[str, float] = {}
    for d in chosen_all.values():
        for name, v in d.items():
            searches[name] = searches.get(name, 0.0) + v["s"]
    lines += ["", "Time by predictor (fits and free runs over the protocols it ran; a searched peer's search "
              "apart): " + "; ".join(f"{lab} {sec / 60:.1f} min ({len(ks)} protocols)" for lab, sec, ks in
                                     sorted(by_pred.values(), key=lambda t: -t[1]))
              + ". Searches: " + "; ".join(f"{n} {v / 60:.1f} min" for n, v in sorted(searches.items())) + "."]
    text = "\n".join(lines) + "\n"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text)
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", nargs="+", default=ORDER, choices=sorted(H.PROTOCOLS))
    ap.add_argument("--predictors", nargs="+", default=["full"],
                    help="predictor keys (dynamap, dynamap-ENC-MAP, ngrc-ours, lookup, interpolation, "
                         "PEER:defaults, PEER:searched) or the sets full, families")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--search", action="store_true", help="redo the searched peers' settings search")
    ap.add_argument("--render", action="store_true", help="only regenerate the page from the stored runs")
    ap.add_argument("--quick", action="store_true", help="the smoke run: hh-quick, seed 0, cheap predictors")
    ap.add_argument("--out", help="store runs (and, with --quick, the page) here instead of benchmarks/results")
    ap.add_argument("--page", help="write the page here (default docs/results.md; --quick: OUT/results.md)")
    a = ap.parse_args(argv)
    store = Path(a.out) if a.out else STORE
    if a.quick:
        protocols, seeds = ["hh-quick"], [0]
        names = ["dynamap", "ngrc-ours", "lookup", "interpolation"] + [f"{m}:defaults" for m in PEERS]
        page = Path(a.page) if a.page else store / "results.md"
    else:
        protocols, seeds, names = a.protocols, a.seeds, a.predictors
        page = Path(a.page) if a.page else PAGE
    t0 = time.perf_counter()
    if not a.render:
        run(protocols, predictors(names), seeds, store, search_again=a.search)
    render(store, ["hh-quick"] if a.quick else ORDER, page)
    print(f"wrote {page} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
