"""The command line's package: cheap to import, one launcher that opens the window, no cycles, one progress loop."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import fewshot_studio.cli
from fewshot_studio.cli import common, parser

CLI = Path(fewshot_studio.cli.__file__).parent


def test_help_imports_neither_torch_nor_the_window():
    code = ("import sys\nfrom fewshot_studio.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'tqdm', 'PySide6') "
            "or m.startswith('fewshot_studio.gui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_is_registered_once_in_the_order_help_lists():
    names = [c.name for group in parser.GROUPS for c in group.commands()]
    assert sorted(names) == sorted(parser.ORDER) and len(set(names)) == len(names)
    assert list(parser.commands()) == list(parser.ORDER)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for each ``from ... import`` in the file, inside functions too, resolved to absolute."""
    package = "fewshot_studio.cli"
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, [base, node.module]))
            found.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_only_the_launcher_imports_the_window_and_no_module_takes_private_names(path):
    for module, names in _imports(path):
        if path.name != "gui.py":
            assert not module.startswith("fewshot_studio.gui"), f"{path.name} imports {module}"
        if module.startswith("fewshot_studio.cli"):
            assert not [n for n in names if n.startswith("_")], f"{path.name} takes private names from {module}"


def test_no_import_cycle_through_the_command_line():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("fewshot_studio")
    for module in sorted(m for m in graph.modules if m.startswith("fewshot_studio.cli")):
        for imported in graph.find_modules_directly_imported_by(module):
            assert not graph.chain_exists(imported, module), f"{module} -> {imported} -> ... -> {module}"


def test_the_progress_loop_gives_each_event_to_the_handler_of_its_type():
    from fewshot_studio.core.runs import Progress, Run, Stage

    class Fold(Stage):  # a run's own event, here a subclass: its own handler wins over Stage's
        pass

    events = [Stage("loading images", 1, 2), Progress(1, 2, 0.5, 0.5, 0.1, 1.0, "CPU"), Fold("fold", 1, 1),
              "something else", Progress(2, 2, 0.25, 1.0, 0.1, 2.0, "CPU")]

    class Demo(Run):
        def _events(self):
            yield from events

    seen = []
    last = common.follow(Demo(), {Stage: lambda e: seen.append(("stage", e)),
                                  Fold: lambda e: seen.append(("fold", e)),
                                  Progress: lambda e: seen.append(("step", e))})
    assert seen == [("stage", events[0]), ("step", events[1]), ("fold", events[2]), ("step", events[4])]
    assert last is events[4]
    assert common.follow(Demo(), {}) is events[4]
