"""Imports go one way: no module of api/ or catalog/search/ imports, even inside a function, a module
that imports it back, and catalog/search never reaches up into harvest or api."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "catalog/search")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules ``name`` imports anywhere in its source (function bodies included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(name, path, known) if m in known and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph[node]):
            found = visit(target)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return None


def test_the_import_graph_is_read() -> None:
    graph = _graph()
    assert "catalog.search.errors" in graph["catalog.search.meili"]
    assert "catalog.search.facets" in graph["catalog.search.meili"]  # `from catalog.search import facets`
    assert "api.deps" in graph["api.routes.web"]  # a relative import two levels up
    assert "catalog.search.meili" in graph["catalog.search.engine"]  # imported inside a function


def test_no_import_circle_in_api_and_search() -> None:
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_a_circle_would_be_found() -> None:
    graph = _graph()
    graph["catalog.search.errors"] = {"catalog.search.meili"}
    assert _cycle(graph) is not None


def test_search_never_imports_the_layers_above_it() -> None:
    modules = _modules()
    for name, path in modules.items():
        if name.startswith("catalog."):
            upward = {m for m in _imports(name, path, set(modules)) if m.split(".")[0] in ("api", "harvest")}
            assert not upward, (name, upward)


@pytest.mark.parametrize(
    "module",
    ["catalog.search.meili", "catalog.search.engine", "api.routes.web", "api.deps", "api.search_params"],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    """Imported before anything else (the order in which a circle fails at import time)."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
