"""Launch time of the studio window (not run by CI).

Each launch is a fresh process: the time from starting Python to the window's first paint ("shown"),
to the engine being loaded ("ready", torch and torchvision imported, Adapt enabled), and the longest
event-loop stall while the engine loads (a 10 ms timer in the GUI thread). Both ways of loading the
engine are measured: in a background thread (the default) and in the GUI thread behind the shown window.

    python benchmarks/gui_launch.py                     # offscreen, 5 launches per mode
    xvfb-run -a python benchmarks/gui_launch.py --platform xcb
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
t_start = float(sys.argv[1]); in_thread = sys.argv[2] == "thread"
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer
from fewshot_studio.gui import app
out = {}
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "shown" not in out:
            out["shown"] = time.time() - t_start
            out["torch_at_shown"] = "torch" in sys.modules
        return False
ticks = []
def created(window):
    window._bench_filter = FirstPaint(window)
    window.installEventFilter(window._bench_filter)
def shown(window):
    timer = QTimer(window); timer.setTimerType(Qt.TimerType.PreciseTimer); timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter())); timer.start()
    def ready():
        out["ready"] = time.time() - t_start
        marks = ticks + [time.perf_counter()]  # the stretch up to now counts too (all of it, in the GUI thread)
        out["stall_ms"] = round(1000 * max(b - a for a, b in zip(marks, marks[1:])), 1)
        QTimer.singleShot(0, window.close)
    window.sig_ready.connect(ready)
    ticks.append(time.perf_counter())
app.run([], on_created=created, on_shown=shown, engine_in_thread=in_thread)
print("RESULT " + json.dumps(out), flush=True)
"""


def launch(mode: str, platform: str) -> dict:
    home = tempfile.mkdtemp(prefix="fewshot-launch-")
    env = dict(os.environ, QT_QPA_PLATFORM=platform, FEWSHOT_STUDIO_HOME=home, FEWSHOT_STUDIO_OFFLINE="1")
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, repr(t0), mode], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode != 0 or not line:
        raise RuntimeError(f"launch failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(line[0][7:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    parser.add_argument("--modes", default="thread,main")
    args = parser.parse_args()
    launch("thread", args.platform)  # warm the file cache once; not counted
    print(f"platform {args.platform}, {args.repeat} launches per mode (median, min-max)")
    for mode in args.modes.split(","):
        runs = [launch(mode, args.platform) for _ in range(args.repeat)]
        assert not any(r["torch_at_shown"] for r in runs), "torch was imported before the window was shown"
        row = {}
        for key in ("shown", "ready", "stall_ms"):
            values = [r[key] for r in runs]
            row[key] = (statistics.median(values), min(values), max(values))
        print(f"engine loaded in the {'background thread' if mode == 'thread' else 'GUI thread'}: "
              f"shown {row['shown'][0]:.2f} s ({row['shown'][1]:.2f}-{row['shown'][2]:.2f}), "
              f"ready {row['ready'][0]:.2f} s ({row['ready'][1]:.2f}-{row['ready'][2]:.2f}), "
              f"longest stall while loading {row['stall_ms'][0]:.0f} ms ({row['stall_ms'][1]:.0f}-{row['stall_ms'][2]:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
