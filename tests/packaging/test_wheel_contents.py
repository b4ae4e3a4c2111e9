"""What `pip install .` and `pipx install .` get: the wheel holds every module, every resource (icons, demo
images, translations...) and the `fewshot-studio` command. Built offline by setuptools itself, in seconds."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    pytest.importorskip("setuptools", minversion="68")
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("fewshot_studio", "resources"):
        shutil.copytree(REPO / name, src / name, ignore=IGNORE)
    code = f"import setuptools.build_meta as backend; print(backend.build_wheel({str(out)!r}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = out.glob("fewshot_studio-*.whl")
    with zipfile.ZipFile(path) as zf:
        yield zf


def test_the_wheel_has_every_resource_under_fewshot_studio_resources(wheel):
    names = set(wheel.namelist())
    expected = {f"fewshot_studio/resources/{f}" for f in _files(REPO / "resources")}
    assert "fewshot_studio/resources/icons/fewshot-studio.svg" in expected
    assert any(n.startswith("fewshot_studio/resources/demo/support/") for n in expected)
    assert sorted(expected - names) == []


def test_the_wheel_has_every_module_of_the_studio(wheel):
    names = set(wheel.namelist())
    expected = {f"fewshot_studio/{f}" for f in _files(REPO / "fewshot_studio") if f.endswith(".py")}
    assert sorted(expected - names) == [], "a package missing from [tool.setuptools] packages in pyproject.toml"


def test_the_wheel_installs_the_fewshot_studio_command(wheel):
    [entry_points] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "fewshot-studio = fewshot_studio.cli:main" in wheel.read(entry_points).decode()
