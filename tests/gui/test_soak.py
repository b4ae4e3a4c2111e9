"""Long sessions in the window: adapting and classifying over and over leaks neither memory nor threads, and
cancelling, closing and reopening at random moments never damages the project and model files on disk.

CI runs 30 cycles (CI_CYCLES, the CI version); ``benchmarks/soak.py`` runs the full 200 of issue 14.
"""

from __future__ import annotations

import ctypes
import gc
import random
import threading
from pathlib import Path

from conftest import RUN_TIMEOUT, close_window, drop_and_wait, make_window, url_mime
from imagegen import make_image_folder, make_queries
from PySide6.QtCore import QThread, QTimer

from fewshot_studio.core.classifier import load_classifier
from fewshot_studio.core.project import open_project
from fewshot_studio.gui import dialogs

CI_CYCLES = 30  # CI version of benchmarks/soak.py's 200 cycles (a cycle is ~0.3 s of Conv-4 on 32 px images)
WARM_UP = 3
MAX_GROWTH_MB = 50


def rss_mb() -> float:
    """Resident memory after glibc hands freed memory back (without it the allocator's own caching moves RSS by
    ±100 MB between cycles of a training run, hiding or faking a leak)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: RSS as it is
        pass
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def running_qthreads() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, QThread) and o.isRunning())


def cycle(qtbot, window, queries) -> None:
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        assert window.classify(queries)
    assert len(window.predictions.predictions) == len(queries)
    window.classification.clear_results()


def test_many_adapt_classify_cycles_leak_neither_memory_nor_threads(qtbot, window, tmp_path):
    shapes = make_image_folder(tmp_path / "shapes", per_class=3, size=32)
    queries = list(make_queries(tmp_path / "queries", per_class=2, size=32))
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("conv4") and window.method_picker.set_current("prototypical")
    for _ in range(WARM_UP):
        cycle(qtbot, window, queries)
    qtbot.waitUntil(lambda: not window.jobs.unfinished() and not window.tasks.busy, timeout=RUN_TIMEOUT)
    gc.collect()
    rss0, threads0, qthreads0 = rss_mb(), threading.active_count(), running_qthreads()
    for _ in range(CI_CYCLES):
        cycle(qtbot, window, queries)
    qtbot.waitUntil(lambda: not window.jobs.unfinished() and not window.tasks.busy, timeout=RUN_TIMEOUT)
    gc.collect()
    growth = rss_mb() - rss0
    assert growth < MAX_GROWTH_MB, f"RSS grew {growth:.1f} MB over {CI_CYCLES} cycles"
    assert threading.active_count() == threads0
    assert running_qthreads() == qthreads0 and len(window.jobs) == 0
    assert window.tasks.pool.activeThreadCount() == 0


def test_cancelling_closing_and_reopening_at_random_moments_keeps_the_files_intact(qtbot, tmp_path, monkeypatch):
    rng = random.Random(14)
    shapes = make_image_folder(tmp_path / "shapes", per_class=3, size=32)
    project_path, model_path = tmp_path / "keep" / "shapes.fsproj", tmp_path / "keep" / "shapes.safetensors"
    monkeypatch.setattr(dialogs, "save_project", lambda parent, suggested: str(project_path))
    monkeypatch.setattr(dialogs, "save_model", lambda parent, suggested: str(model_path))

    window = make_window(qtbot)
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    classes = window.support.class_names
    assert window.backbone_picker.set_current("conv4") and window.method_picker.set_current("prototypical")
    with qtbot.waitSignal(window.sig_run_ended, timeout=RUN_TIMEOUT):
        window.start_adapt()
    with qtbot.waitSignal(window.sig_model_saved, timeout=RUN_TIMEOUT):
        window.model_files.save_model()
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()
    done = []
    try:
        for _ in range(6):
            window.method_picker.set_current("finetune")
            window.params_form.set_values({"steps": 100_000, "batch_size": 4})
            with qtbot.waitSignal(window.sig_progress, timeout=RUN_TIMEOUT):
                assert window.start_adapt()
            action = rng.choice(["cancel", "close", "save-and-close", "cancel-and-save"])
            delay = rng.randint(0, 400)  # ms into the run
            if action.startswith("cancel"):
                with qtbot.waitSignal(window.sig_run_ended, timeout=RUN_TIMEOUT):
                    QTimer.singleShot(delay, window.model_panel.cancel_adapt)
                assert window.classifier is not None, "the previous model is kept"
                if action == "cancel-and-save":
                    with qtbot.waitSignal(window.sig_model_saved, timeout=RUN_TIMEOUT):
                        window.model_files.save_model()
            else:
                if action == "save-and-close":  # the saves are still running in the pool when the window closes
                    window.model_files.save_model()
                    window.projects.save_project()
                QTimer.singleShot(delay, window.close)
                qtbot.waitUntil(lambda: window.closed, timeout=RUN_TIMEOUT)
                window = make_window(qtbot)  # reopen: the project, then the model
                with qtbot.waitSignal(window.sig_support_replaced, timeout=RUN_TIMEOUT):
                    window.projects.open_project(str(project_path))
                assert window.support.class_names == classes
                with qtbot.waitSignal(window.sig_model_loaded, timeout=RUN_TIMEOUT):
                    window.model_files.load_model(str(model_path))
                window.backbone_picker.set_current("conv4")
            done.append((action, delay))
    finally:
        close_window(qtbot, window)
    assert {a for a, _ in done} >= {"cancel", "close"}, done  # the seed reaches both kinds
    assert open_project(project_path, cache_dir=tmp_path / "check").support.class_names == classes
    assert load_classifier(model_path, device="cpu").class_names == classes
    assert sorted(p.name for p in project_path.parent.iterdir()) == ["shapes.fsproj", "shapes.safetensors"], \
        "no temporary file is left beside them"
