"""Test-wide set-up: offline, headless, and nothing written outside the test's temporary folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Set before anything imports Qt, torch or torch.hub (and inherited by the CLI subprocesses).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One torch thread: on 2 cores, two OpenMP threads plus anything else running (the GUI thread, another
# process) oversubscribe the cores and training steps get 5-40 times slower (KNOWN_TRAPS; seen here).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["FEWSHOT_STUDIO_OFFLINE"] = "1"

sys.path.insert(0, str(Path(__file__).parent))  # for tests/imagegen.py

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory, monkeypatch):
    """Each test gets its own studio folder and torch cache, so no test sees another's weights."""
    home = tmp_path_factory.mktemp("studio-home")
    monkeypatch.setenv("FEWSHOT_STUDIO_HOME", str(home / "studio"))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: required under CI (CI=true), skipped elsewhere when missing."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data missing at {SHARED_DATA} (CI must have it)")
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


_exit_status = {"code": 0}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


def pytest_unconfigure(config):
    """Leave without the interpreter's teardown once Qt has been used.

    After every test had passed, a full run once ended in a segmentation fault while Python tore down its
    modules (PySide6/pyqtgraph objects destroyed after Qt itself). The summary is printed by then, so
    exiting here with pytest's own status loses nothing.
    """
    import sys

    if "PySide6.QtWidgets" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status["code"])
