"""The longest event-loop stall of the studio window while it adapts and classifies (not run by CI).

A 10 ms timer ticks in the GUI thread; a stall is the time between two ticks beyond those 10 ms. Each
scenario runs through the window's own machinery (Adapt, the worker thread, live plots, the predictions
panel), once per torch thread count, after one warm-up run that builds the backbone.

    python benchmarks/gui_stall.py                      # offscreen
    xvfb-run -a python benchmarks/gui_stall.py --platform xcb
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

SCENARIOS = [  # (label, backbone, method, hyperparameters)
    ("prototypical, frozen (1 step)", "efficientnet_lite0", "prototypical", {}),
    ("linear probe, 300 steps", "efficientnet_lite0", "linear_probe", {"steps": 300}),
    ("fine-tuning the backbone, 8 steps", "efficientnet_lite0", "finetune", {"steps": 8, "batch_size": 8}),
    ("Conv-4 fine-tuning, 100 steps", "conv4", "finetune", {"steps": 100, "batch_size": 8}),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="torch thread counts to compare")
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (the median and worst are shown)")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="fewshot-stall-")
    os.environ.update(QT_QPA_PLATFORM=args.platform, FEWSHOT_STUDIO_HOME=str(Path(home) / "studio"),
                      FEWSHOT_STUDIO_OFFLINE="1")

    from imagegen import make_image_folder, make_queries
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from fewshot_studio.gui.app import application
    from fewshot_studio.gui.main_window import MainWindow
    from fewshot_studio.gui.settings import Settings

    application()
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

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()

    def measure(start, done_signal) -> tuple[float, float, float]:
        """(longest stall ms, 99th percentile stall ms, seconds) for one piece of work."""
        ticks.clear()
        t0 = time.perf_counter()
        wait(done_signal, start)
        seconds = time.perf_counter() - t0
        gaps = sorted(max(0.0, 1000 * (b - a) - 10) for a, b in zip(ticks, ticks[1:]))
        return gaps[-1], gaps[int(0.99 * (len(gaps) - 1))], seconds

    def adapt(backbone, method, values):
        window.backbone_picker.set_current(backbone)
        window.method_picker.set_current(method)
        window.params_form.reset()
        window.params_form.set_values(values)
        return measure(window.start_adapt, window.sig_run_ended)

    print(f"platform {args.platform}; support set 3 classes x 5 images (96 px); 15 query images; "
          f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        from common import machine

        print(machine(), flush=True)
    except Exception:  # noqa: BLE001 - the machine line is informative only
        pass
    first = adapt("efficientnet_lite0", "prototypical", {})
    print(f"first run of the session (builds the backbone): longest stall {first[0]:.1f} ms, {first[2]:.2f} s", flush=True)
    for threads in [int(t) for t in args.threads.split(",")]:
        window.torch_threads = threads
        print(f"\ntorch threads: {threads}", flush=True)
        rows = []
        work = [(f"adapt, {label}", lambda b=backbone, m=method, v=values: adapt(b, m, v))
                for label, backbone, method, values in SCENARIOS]
        work.append(("classify 15 images", lambda: measure(lambda: window.classify(queries), window.sig_predictions_done)))
        for label, do in work:
            results = [do() for _ in range(args.repeat)]
            worst = [r[0] for r in results]
            rows += worst
            print(f"  {label:43s} longest stall: median {statistics.median(worst):5.1f} ms, worst {max(worst):5.1f} ms;"
                  f" p99 {statistics.median(r[1] for r in results):4.1f} ms; run {statistics.median(r[2] for r in results):6.2f} s",
                  flush=True)
        print(f"  all runs: median longest stall {statistics.median(rows):.1f} ms, worst {max(rows):.1f} ms", flush=True)
    window.setWindowModified(False)  # no "save changes?" question
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
