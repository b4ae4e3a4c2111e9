"""A long session in the window (not run by CI; tests/gui/test_soak.py is its 30-cycle CI version).

One offscreen window, Conv-4 + prototypical on three classes of tiny generated images; each cycle adapts,
classifies the query images and clears the results. Reports RSS (from /proc/self/status, after
``gc.collect()``) and thread counts (Python threads, running QThreads, the process's native threads) after
the warm-up and at the end.

    python benchmarks/soak.py --cycles 200
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def status(key: str) -> int:
    if key == "VmRSS":  # after glibc hands freed memory back: the allocator's caching otherwise moves RSS by ±100 MB
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="fewshot-soak-")
    os.environ.update(QT_QPA_PLATFORM="offscreen", FEWSHOT_STUDIO_HOME=str(Path(home) / "studio"),
                      FEWSHOT_STUDIO_OFFLINE="1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from imagegen import make_image_folder, make_queries
    from PySide6.QtCore import QEventLoop, QThread, QTimer

    from fewshot_studio.gui.app import application
    from fewshot_studio.gui.main_window import MainWindow
    from fewshot_studio.gui.settings import Settings

    app = application()
    window = MainWindow(Settings())
    window.show()

    def wait(signal, start=None, timeout_s=600):
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        if start is not None:
            QTimer.singleShot(0, start)
        loop.exec()
        signal.disconnect(loop.quit)

    def settle():
        for _ in range(200):
            app.processEvents()
            if not window.jobs.unfinished() and not window.tasks.busy:
                break
            time.sleep(0.01)
        gc.collect()

    def sample() -> dict:
        settle()
        return {"rss": status("VmRSS") / 1024, "py": threading.active_count(), "native": status("Threads"),
                "qthreads": sum(1 for o in gc.get_objects() if isinstance(o, QThread) and o.isRunning()),
                "jobs": len(window.jobs)}

    wait(window.sig_ready, window.start_engine)
    shapes = make_image_folder(Path(home) / "shapes", per_class=3, size=32)
    queries = list(make_queries(Path(home) / "queries", per_class=2, size=32))
    wait(window.board.sig_import_finished, lambda: window.board.import_paths([shapes]))
    assert window.backbone_picker.set_current("conv4") and window.method_picker.set_current("prototypical")

    def one_cycle():
        wait(window.sig_run_ended, window.start_adapt)
        assert window.classifier is not None, "the run failed"
        wait(window.sig_predictions_done, lambda: window.classify(queries))
        assert len(window.predictions.predictions) == len(queries)
        window.classification.clear_results()

    for _ in range(args.warm_up):
        one_cycle()
    first = sample()
    print(f"after warm-up ({args.warm_up} cycles): {first}", flush=True)
    start, largest = time.perf_counter(), first["rss"]
    for n in range(1, args.cycles + 1):
        one_cycle()
        if n % 25 == 0:
            s = sample()
            largest = max(largest, s["rss"])
            print(f"cycle {n:4d}: {s}", flush=True)
    last = sample()
    load = os.getloadavg()
    print(f"\n{args.cycles} adapt/classify cycles in {time.perf_counter() - start:.0f} s: RSS {first['rss']:.1f} MB "
          f"after the warm-up, {last['rss']:.1f} MB at the end, growth {last['rss'] - first['rss']:+.1f} MB "
          f"(largest sampled {largest:.1f} MB); Python threads {first['py']} -> {last['py']}, running QThreads "
          f"{first['qthreads']} -> {last['qthreads']}, native threads {first['native']} -> {last['native']}, "
          f"jobs left {last['jobs']}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    window.setWindowModified(False)
    window.close()
    return 0 if last["rss"] - first["rss"] < 50 and last["py"] == first["py"] \
        and last["qthreads"] == first["qthreads"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
