"""The shape of the house (ARCHITECTURE.md): no import cycles, layers that point one way, small modules.

grimp reads every import statement of every module, those inside functions included, so a cycle closed by
an import inside a function is a cycle here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fewshot_studio"
LAUNCHER = "fewshot_studio.cli.gui"  # the one command module that opens the window
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("fewshot_studio")


def strongly_connected(graph) -> list[list[str]]:
    """Tarjan's components of size > 1: each is a set of modules that import each other in a ring."""
    adj = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    for root in adj:
        if root in index:
            continue
        work = [(root, iter(adj[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(adj[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                ring = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    ring.append(member)
                    if member == node:
                        break
                if len(ring) > 1:
                    found.append(sorted(ring))
    return found


def test_the_cycle_finder_finds_a_ring():
    g = grimp.ImportGraph()
    for m in ("a", "a.x", "a.y", "a.z"):
        g.add_module(m)
    g.add_import(importer="a.x", imported="a.y")
    g.add_import(importer="a.y", imported="a.x")
    g.add_import(importer="a.z", imported="a.x")
    assert strongly_connected(g) == [["a.x", "a.y"]]


def test_no_import_cycles(graph):
    rings = strongly_connected(graph)
    details = []
    for ring in rings:
        for a in ring:
            for b in ring:
                for d in graph.get_import_details(importer=a, imported=b):
                    details.append(f"{a}:{d['line_number']} imports {b}")
    assert not rings, "import cycles:\n" + "\n".join(details)


def test_core_never_imports_the_window_nor_the_command_line(graph):
    for module in graph.find_descendants("fewshot_studio.core"):
        for imported in graph.find_modules_directly_imported_by(module):
            assert not imported.startswith(("fewshot_studio.gui", "fewshot_studio.cli")), (module, imported)


def test_only_the_launcher_of_the_command_line_imports_the_window(graph):
    assert LAUNCHER in graph.modules
    users = {m for m in graph.find_descendants("fewshot_studio.cli") | {"fewshot_studio.cli"}
             for imported in graph.find_modules_directly_imported_by(m) if imported.startswith("fewshot_studio.gui")}
    assert users == {LAUNCHER}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "resources" not in p.relative_to(PACKAGE).parts)


def test_no_module_is_over_the_limit():
    long = {str(p.relative_to(PACKAGE)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_class_is_over_the_limit():
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                long[f"{path.relative_to(PACKAGE)}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert not long, f"classes over {MAX_CLASS_LINES} lines: {long}"
