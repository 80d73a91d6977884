"""Repository contracts: CI runs the README's test command; layers point down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "dynamap"

# lower layers may not import higher ones, nor others of their own rank (STYLE.md: cli/report -> pipeline ->
# training/analysis -> models -> systems/io/embedding -> _core; training sits above analysis, whose spike
# statistics its free-run selection scores with). report is a leaf beside training: it turns dicts into
# figures and HTML, and pipeline (the composer) calls it. No subpackage imports the package root.
RANK = {"_core": 0, "systems": 1, "io": 1, "embedding": 1, "models": 2, "analysis": 3, "training": 4,
        "report": 4, "pipeline": 5, "cli": 6}


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    cmd = [ln for ln in ci if ln.startswith("python3 -m venv")]
    assert len(cmd) == 1
    assert cmd[0] in (ROOT / "README.md").read_text()


def _layer_violations(pkg: Path) -> list[str]:
    """Imports (relative or absolute, at module level or inside functions) from a subpackage of the
    package ``pkg`` to the package root, or to a subpackage of the same or a higher rank."""
    bad = []
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(pkg).parts
        if len(rel) < 2 or rel[0] not in RANK:
            continue
        here = [pkg.name, *rel[:-1]]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                target = here[: len(here) - node.level + 1] + (node.module.split(".") if node.module else [])
            else:
                target = (node.module or "").split(".")
            if target[0] != pkg.name:
                continue
            if len(target) == 1:
                bad.append(f"{'/'.join(rel)} imports the package root")
            elif target[1] in RANK and target[1] != rel[0] and RANK[target[1]] >= RANK[rel[0]]:
                bad.append(f"{'/'.join(rel)} imports {target[1]}")
    return bad


def test_layers_point_down():
    bad = _layer_violations(PKG)
    assert not bad, bad


def test_the_layer_check_sees_root_sideways_and_lazy_imports(tmp_path):
    """The check itself: a lazy import of the package root, an absolute sideways import between
    layers of one rank and a relative upward one are all reported."""
    pkg = tmp_path / "dynamap"
    for sub in ("io", "systems", "models"):
        (pkg / sub).mkdir(parents=True)
    (pkg / "io" / "a.py").write_text("def f():\n    from .. import __version__\n")
    (pkg / "systems" / "b.py").write_text("from dynamap.io.a import f\n")
    (pkg / "systems" / "c.py").write_text("def g():\n    from ..models import m\n")
    assert sorted(_layer_violations(pkg)) == ["io/a.py imports the package root", "systems/b.py imports io",
                                              "systems/c.py imports models"]


def _module_imports() -> dict[str, set[str]]:
    """Each module of the package (dotted name) -> the package modules it imports, anywhere in it
    (function-level imports count: a lazy import still makes the two modules depend on each other)."""
    names = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("").parts
        names[".".join(rel[:-1] if rel[-1] == "__init__" else rel)] = path
    graph: dict[str, set[str]] = {}
    for mod, path in names.items():
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                cands = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                cands = [a.name for a in node.names]
            else:
                continue
            deps |= {c for c in cands if c in names and c != mod}
        graph[mod] = deps
    return graph


def test_no_import_circle():
    """No module reaches itself through the package's imports (package __init__ files excepted as
    targets: re-exporting a submodule's names is not a dependency of the submodule on its package)."""
    graph = _module_imports()
    inits = {m for m in graph if (PKG.parent / m.replace(".", "/") / "__init__.py").exists()}
    graph = {m: {d for d in deps if d not in inits} for m, deps in graph.items()}
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for dep in graph[node]:
                if dep == start:
                    circles.append(" -> ".join(trail + [start]))
                elif dep not in seen:
                    seen.add(dep)
                    stack.append((dep, trail + [dep]))
    assert not circles, circles[:5]


def test_the_circle_check_sees_a_circle(tmp_path, monkeypatch):
    """The check itself: two modules importing each other lazily form a circle."""
    pkg = tmp_path / "dynamap" / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / "dynamap" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from .a import f\n")
    monkeypatch.setattr(__import__(__name__), "PKG", tmp_path / "dynamap")
    with pytest.raises(AssertionError, match="dynamap.sub.a -> dynamap.sub.b -> dynamap.sub.a"):
        test_no_import_circle()


def test_benchmark_scripts_import(monkeypatch):
    """Each benchmark imports (its names from dynamap exist) and has a main(); none is run here
    (modules whose names start with an underscore are their shared helpers)."""
    import importlib.util

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    for path in sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_")):
        spec = importlib.util.spec_from_file_location(f"_bench_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        assert callable(getattr(mod, "main", None)), path.name


def test_example_morris_lecar_bursts_as_documented():
    """The bring-your-own-model example: its equations burst with 4 spikes per burst and a burst period
    near the 932 ms its docstring states (measured there over 200 s; here 30 s after 20 s)."""
    import importlib.util

    import numpy as np
    from scipy.integrate import solve_ivp

    path = ROOT / "examples" / "morris_lecar_burster.py"
    spec = importlib.util.spec_from_file_location("_example_ml", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    t = np.arange(0.0, 50_000.0, 0.5)
    sol = solve_ivp(mod.rhs, (0.0, t[-1]), [-40.0, 0.0, 0.1], t_eval=t, args=(45.0,), method="LSODA",
                    rtol=1e-8, atol=1e-10)
    v, tt = sol.y[0][t >= 20_000.0], t[t >= 20_000.0]
    up = tt[1:][(v[1:] >= 0.0) & (v[:-1] < 0.0)]
    isi = np.diff(up)
    gap = isi > 3 * np.median(isi)
    assert set(np.diff(np.flatnonzero(gap))) == {4}
    assert np.diff(up[1:][gap]).mean() == pytest.approx(931.8, abs=2.0)
