"""The package's imports flow one way: no circles, no upward or sideways edges.

Read from the source (ast), so a lazy import inside a function counts as an edge too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "biodl"

# (importer prefix, imported prefix): edges that break the layering
FORBIDDEN = [
    ("biodl.models", "biodl.data"), ("biodl.models", "biodl.tasks"),
    ("biodl.models", "biodl.inference"), ("biodl.models", "biodl.train"),
    ("biodl.tasks", "biodl.data"), ("biodl.tasks", "biodl.inference"),
    ("biodl.tasks", "biodl.train"), ("biodl.tasks", "biodl.tracking"),
    ("biodl.data", "biodl.models"), ("biodl.data", "biodl.tasks"),
    ("biodl.data", "biodl.inference"), ("biodl.data", "biodl.train"),
    ("biodl.data", "biodl.tracking"), ("biodl.inference", "biodl.train"),
    ("biodl.config", "biodl.data"), ("biodl.config", "biodl.models"),
    ("biodl.config", "biodl.tasks"), ("biodl.config", "biodl.inference"),
    ("biodl.config", "biodl.train"), ("biodl.config", "biodl.tracking"),
    ("biodl.vocab", "biodl."),
]


def module_names() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(
        ".__init__"): p for p in PACKAGE.rglob("*.py")}


def edges() -> dict[str, set[str]]:
    """Module -> the biodl modules it imports (a child importing its own package excluded)."""
    mods = module_names()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            for target in imported(node, package):
                while target and target not in mods:
                    target = target.rsplit(".", 1)[0] if "." in target else ""
                parent_package = module.startswith(target + ".") and mods[target].name == "__init__.py"
                if target and target != module and not parent_package:
                    graph[module].add(target)
    return graph


def imported(node: ast.AST, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        return [base] + [f"{base}.{alias.name}" for alias in node.names]
    return []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_reader_sees_the_known_edges():
    graph = edges()
    assert "biodl.data.base" in graph["biodl.data.formats"]
    assert "biodl.vocab" in graph["biodl.data.encoding"]
    assert "biodl.inference.predict" in graph["biodl.record"]


def test_no_import_circles():
    assert circles(edges()) == []


def test_no_upward_or_sideways_imports():
    bad = [f"{m} -> {t}" for m, targets in edges().items() for t in sorted(targets)
           for a, b in FORBIDDEN if m.startswith(a) and t.startswith(b)]
    assert bad == []


def test_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
