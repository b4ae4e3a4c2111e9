"""Memory of one studio session over many adapt / classify cycles (not run by CI).

One window, one support set; each cycle adapts (prototypical and linear probe in turn), classifies the
query images, and clears the results. The resident set size (RSS) is read after the first cycle, which
fills the caches (backbone, features, thumbnails), and after the last one.

    python benchmarks/gui_memory.py --cycles 50
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="fewshot-memory-")
    os.environ.update(QT_QPA_PLATFORM=args.platform, FEWSHOT_STUDIO_HOME=str(Path(home) / "studio"),
                      FEWSHOT_STUDIO_OFFLINE="1")

    from imagegen import make_image_folder, make_queries
    from PySide6.QtCore import QEventLoop, QTimer

    from fewshot_studio.gui.app import application
    from fewshot_studio.gui.main_window import MainWindow
    from fewshot_studio.gui.settings import Settings

    app = application()
    window = MainWindow(Settings())
    window.resize(1400, 860)
    window.show()

    def wait(signal, start=None, timeout_s=600):
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        if start is not None:
            QTimer.singleShot(0, start)
        loop.exec()
        signal.disconnect(loop.quit)

    wait(window.sig_ready, window.start_engine)
    shapes = make_image_folder(Path(home) / "shapes", per_class=5, size=96)
    queries = list(make_queries(Path(home) / "queries", per_class=5, size=96))
    wait(window.board.sig_import_finished, lambda: window.board.import_paths([shapes]))

    plan = [("prototypical", {}), ("linear_probe", {"steps": 50})]
    samples = []
    start = time.perf_counter()
    for cycle in range(1, args.cycles + 1):
        method, values = plan[cycle % len(plan)]
        window.method_picker.set_current(method)
        window.params_form.set_values(values)
        wait(window.sig_run_ended, window.start_adapt)
        assert window.classifier is not None, "the run failed"
        wait(window.sig_predictions_done, lambda: window.classify(queries))
        assert len(window.predictions.predictions) == len(queries)
        window.classification.clear_results()
        app.processEvents()
        gc.collect()
        samples.append(rss_mb())
        if cycle in (1, 2, 5, 10) or cycle % 10 == 0:
            print(f"cycle {cycle:3d}: RSS {samples[-1]:7.1f} MB", flush=True)
    base = samples[1]  # after one cycle of each method: caches, arenas and code paths are warm
    growth = samples[-1] - base
    print(f"\n{args.cycles} adapt/classify cycles in {time.perf_counter() - start:.0f} s: RSS after the warm-up "
          f"(cycle 2) {base:.1f} MB, after cycle {args.cycles} {samples[-1]:.1f} MB, growth {growth:+.1f} MB; "
          f"largest RSS seen {max(samples):.1f} MB (cycle 1: {samples[0]:.1f} MB)")
    window.setWindowModified(False)  # no "save changes?" question
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
