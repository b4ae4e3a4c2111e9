"""Screenshots of the studio (not run by CI): the README's picture and the legibility set.

Launches the real window (X11; under Xvfb when there is no display), opens the demo project, adapts,
classifies the demo's query images and photographs the window:

- ``packaging/screenshots/{lang}-{W}x{H}-{theme}.png`` for en and zh_CN, at 1024x680 and 1600x1000, light and
  dark (8 files). Each language starts light; dark is switched to live (View > Theme), then back, so the set
  also shows that every part of the window follows a theme change. At 1600x1000 the embedding map dock is
  open too.
- ``packaging/screenshots/main-window.png`` (1480x900, English, light): the README's and AppStream's picture.

    python packaging/screenshot.py                  # all nine; starts Xvfb itself when $DISPLAY is unset
    python packaging/screenshot.py --lang zh_CN     # one language's four (needs a CJK font: fonts-wqy-microhei)
    python packaging/screenshot.py --out-dir /tmp/shots

The PNGs are reduced to 256 colours when ImageMagick's ``convert`` is on PATH (a third of the size).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "packaging" / "screenshots"
LANGS = ("en", "zh_CN")
SMALL, LARGE, README = (1024, 680), (1600, 1000), (1480, 900)
SCREEN = (1640, 1040)
CHILD_ENV = "FEWSHOT_SCREENSHOT_CHILD"
TIME_LIMIT_S = 300  # a language's screenshots take about a minute; a child never hangs


def shots(lang: str) -> list[tuple[str, tuple[int, int], str, bool]]:
    """(file name, window size, theme, embedding map open) in the order they are taken."""
    plan = [(f"{lang}-1024x680-light.png", SMALL, "light", False),
            (f"{lang}-1024x680-dark.png", SMALL, "dark", False),
            (f"{lang}-1600x1000-dark.png", LARGE, "dark", True),
            (f"{lang}-1600x1000-light.png", LARGE, "light", True)]
    if lang == "en":
        plan.insert(0, ("main-window.png", README, "light", False))
    return plan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--lang", choices=LANGS, help="one language only (default: both, one process each)")
    parser.add_argument("--method", default="linear_probe")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    if os.environ.get(CHILD_ENV):
        return take(args)

    status = 0
    for lang in [args.lang] if args.lang else LANGS:
        cmd = [sys.executable, __file__, "--out-dir", str(args.out_dir), "--lang", lang, "--method", args.method,
               "--steps", str(args.steps)]
        if not os.environ.get("DISPLAY"):
            xvfb = shutil.which("xvfb-run")
            if xvfb is None:
                print("no $DISPLAY and no xvfb-run: install xvfb (apt-get install xvfb xauth)", file=sys.stderr)
                return 2
            cmd = [xvfb, "-a", "-s", f"-screen 0 {SCREEN[0]}x{SCREEN[1]}x24", *cmd]
        status = subprocess.run(cmd, env={**os.environ, CHILD_ENV: "1"}).returncode or status
    if status == 0 and shutil.which("convert"):
        for png in sorted(args.out_dir.glob("*.png")):
            subprocess.run(["convert", str(png), "-colors", "256", "-define", "png:compression-level=9",
                            f"PNG8:{png}"], check=False)
    for png in sorted(args.out_dir.glob("*.png")):
        print(f"{png.relative_to(REPO) if png.is_relative_to(REPO) else png}: {png.stat().st_size // 1024} KB")
    return status


def take(args) -> int:
    """In the child process (on an X display): one language's screenshots."""
    # A private studio folder: the screenshots never read or change the user's settings.
    home = Path(tempfile.mkdtemp(prefix="fewshot-screenshot-"))
    os.environ["FEWSHOT_STUDIO_HOME"] = str(home / "studio")
    os.environ.setdefault("FEWSHOT_STUDIO_OFFLINE", "1")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.path.insert(0, str(REPO))

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from fewshot_studio.gui import app

    plan = shots(args.lang or "en")
    state = {"taken": 0}

    def shown(window) -> None:
        window.move(0, 0)

        def give_up() -> None:
            print(f"gave up after {TIME_LIMIT_S} s with {state['taken']} of {len(plan)} screenshots", file=sys.stderr)
            window.close()

        QTimer.singleShot(TIME_LIMIT_S * 1000, give_up)

        def demo_opened() -> None:
            window.backbone_picker.set_current("efficientnet_lite0")
            window.method_picker.set_current(args.method)
            if "steps" in window.params_form.editors:
                window.params_form.set_values({"steps": args.steps})
            window.start_adapt()

        def classified(_n: int) -> None:
            window.board.set_current(window.support.class_names[0])
            window.predictions.view.setCurrentIndex(window.predictions.model.index(0))
            window.message_bar.dismiss()
            QTimer.singleShot(100, next_shot)

        def next_shot() -> None:
            if state["taken"] == len(plan):
                window.close()
                return
            _name, size, theme, with_map = plan[state["taken"]]
            window.set_theme(theme)
            window.resize(*size)
            if with_map and getattr(window, "embedding_map", None) is None:
                from fewshot_studio.gui.embedding_map import show_embedding_map

                show_embedding_map(window).sig_drawn.connect(lambda _m: QTimer.singleShot(100, wait_for_thumbnails))
                return
            QTimer.singleShot(300, wait_for_thumbnails)

        def wait_for_thumbnails() -> None:
            preds = window.predictions.predictions[:8]
            paths = [p.path for p in preds] + [n[0] for p in preds for n in p.nearest]
            paths += [str(p) for c in window.support.classes for p in c.images]
            if any(window.thumbnails.pixmap(p) is None and not window.thumbnails.error(p) for p in paths):
                QTimer.singleShot(100, wait_for_thumbnails)
                return
            QTimer.singleShot(500, capture)  # let the last thumbnails and the resized layout paint

        def capture() -> None:
            name, size, _theme, _map = plan[state["taken"]]
            screen = QGuiApplication.primaryScreen()
            image = screen.grabWindow(window.winId()) if screen is not None else window.grab()
            if image.isNull() or image.width() < size[0] // 2:
                image = window.grab()
            out = args.out_dir / name
            out.parent.mkdir(parents=True, exist_ok=True)
            if not image.save(str(out), "PNG"):
                print(f"could not write {out}", file=sys.stderr)
                window.close()
                return
            print(f"saved {out.name} ({image.width()}x{image.height()})", flush=True)
            state["taken"] += 1
            next_shot()

        def failed(message: str) -> None:
            print(f"adaptation failed: {message}", file=sys.stderr)
            window.close()

        window.sig_ready.connect(window.projects.open_demo)
        window.sig_support_replaced.connect(demo_opened)
        window.sig_run_finished.connect(lambda _clf: window.classify_demo_queries())
        window.sig_run_failed.connect(failed)
        window.sig_predictions_done.connect(classified)

    status = app.run(["--theme", "light", "--lang", args.lang or "en"],
                     on_created=lambda w: w.resize(*plan[0][1]), on_shown=shown)
    shutil.rmtree(home, ignore_errors=True)
    return status if state["taken"] == len(plan) else 1


if __name__ == "__main__":
    raise SystemExit(main())
