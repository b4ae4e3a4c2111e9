"""Screenshot of the studio for the README (not run by CI).

Launches the real window (X11; under Xvfb when there is no display), opens the demo project, adapts,
classifies the demo's query images and saves ``packaging/screenshots/main-window.png``.

    python packaging/screenshot.py            # starts Xvfb itself through xvfb-run when $DISPLAY is unset
    python packaging/screenshot.py --theme dark --out /tmp/dark.png
    python packaging/screenshot.py --lang zh_CN --out packaging/screenshots/main-window-zh_CN.png   # needs a CJK font
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "packaging" / "screenshots" / "main-window.png"
SIZE = (1480, 900)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--method", default="linear_probe")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--lang", default="en", help="interface language (en, zh_CN)")
    args = parser.parse_args()

    if not os.environ.get("DISPLAY") and not os.environ.get("FEWSHOT_SCREENSHOT_CHILD"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("no $DISPLAY and no xvfb-run: install xvfb (apt-get install xvfb)", file=sys.stderr)
            return 2
        os.environ["FEWSHOT_SCREENSHOT_CHILD"] = "1"
        os.execv(xvfb, [xvfb, "-a", "-s", f"-screen 0 {SIZE[0] + 40}x{SIZE[1] + 40}x24",
                        sys.executable, __file__, *sys.argv[1:]])

    # A private studio folder: the screenshot never reads or changes the user's settings.
    home = Path(tempfile.mkdtemp(prefix="fewshot-screenshot-"))
    os.environ["FEWSHOT_STUDIO_HOME"] = str(home / "studio")
    os.environ.setdefault("FEWSHOT_STUDIO_OFFLINE", "1")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.path.insert(0, str(REPO))

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from fewshot_studio.gui import app

    state = {"ok": False}

    def shown(window) -> None:
        window.resize(*SIZE)
        window.move(20, 20)

        def ready() -> None:
            window.open_demo()

        def demo_opened() -> None:
            window.backbone_picker.set_current("efficientnet_lite0")
            window.method_picker.set_current(args.method)
            if "steps" in window.params_form.editors:
                window.params_form.set_values({"steps": args.steps})
            window.start_adapt()

        def adapted(_classifier) -> None:
            window.classify_demo_queries()

        def classified(_n: int) -> None:
            window.board.set_current(window.support.class_names[0])
            window.predictions.view.setCurrentIndex(window.predictions.model.index(0))
            QTimer.singleShot(100, wait_for_thumbnails)

        def wait_for_thumbnails() -> None:
            paths = [p.path for p in window.predictions.predictions[:8]]
            paths += [n[0] for p in window.predictions.predictions[:8] for n in p.nearest]
            paths += [str(p) for c in window.support.classes for p in c.images]
            missing = [p for p in paths if window.thumbnails.pixmap(p) is None and not window.thumbnails.error(p)]
            if missing:
                QTimer.singleShot(100, wait_for_thumbnails)
                return
            QTimer.singleShot(400, capture)  # let the last thumbnails paint

        def capture() -> None:
            screen = QGuiApplication.primaryScreen()
            image = screen.grabWindow(window.winId()) if screen is not None else window.grab()
            if image.isNull() or image.width() < SIZE[0] // 2:
                image = window.grab()
            args.out.parent.mkdir(parents=True, exist_ok=True)
            state["ok"] = image.save(str(args.out), "PNG")
            print(f"saved {args.out} ({image.width()}x{image.height()}, {args.out.stat().st_size // 1024} KB)")
            window.close()

        def failed(message: str) -> None:
            print(f"adaptation failed: {message}", file=sys.stderr)
            window.close()

        window.sig_ready.connect(ready)
        window.sig_support_replaced.connect(demo_opened)
        window.sig_run_finished.connect(adapted)
        window.sig_run_failed.connect(failed)
        window.sig_predictions_done.connect(classified)

    status = app.run(["--theme", args.theme, "--lang", args.lang], on_shown=shown)
    shutil.rmtree(home, ignore_errors=True)
    return status if state["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
