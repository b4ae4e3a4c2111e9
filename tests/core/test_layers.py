"""The engine never imports Qt, pyqtgraph or the GUI: statically (import-linter) and at run time."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import fewshot_studio.core

REPO = Path(__file__).resolve().parents[2]


def test_import_linter_contract_holds():
    out = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                          "lint_imports_command()"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def test_importing_every_core_module_loads_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(fewshot_studio.core.__path__, "fewshot_studio.core.")]
    assert "fewshot_studio.core.engine" in modules
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph') "
            "or m.startswith('fewshot_studio.gui'))\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
