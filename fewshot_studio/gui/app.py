"""Starting the studio: ``fewshot-studio`` (no arguments) and ``fewshot-studio gui`` call :func:`main`.

The window is shown before the engine loads: importing torch and torchvision takes seconds, so they load
right behind the shown window (:mod:`.engine_loader`) and Adapt is enabled when they are ready.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from .. import __version__

ORGANISATION = "fewshot-studio"
APP_ID = "io.github.fewshotstudio.FewShotStudio"  # the desktop entry's name (packaging/linux)
# Set (to anything but "" or "0"): quit once the window is shown and the engine loaded; status 1 if the
# engine failed. The packaged application's smoke test (packaging/build_bundle.sh) starts it this way.
SMOKE_ENV = "FEWSHOT_STUDIO_SMOKE"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fewshot-studio gui", description="Open the Few-shot Studio window.")
    parser.add_argument("path", nargs="?", help="a project file (.fsproj) or a folder of class sub-folders to open")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo project")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="colour theme (remembered)")
    parser.add_argument("--lang", metavar="LANG", help="interface language for this run: en or zh_CN (default: "
                        "$FEWSHOT_STUDIO_LANG, else the setting in View > Language, else the system's)")
    return parser.parse_args(argv)


def application() -> QApplication:
    """The QApplication, made once, with the studio's name, icon and high-DPI behaviour."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "fewshot-studio"])
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName("Few-shot Studio")
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(APP_ID)
    return app


def run(argv: list[str] | None = None, *, on_created: Callable | None = None, on_shown: Callable | None = None,
        engine_in_thread: bool = True) -> int:
    """Show the window, load the engine behind it, and run the event loop. ``on_created(window)`` is called
    just before the window is shown and ``on_shown(window)`` once it is (benchmarks and the screenshot
    script use them)."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    app = application()
    from . import icons
    from .main_window import MainWindow
    from .settings import Settings
    from .theme import Theme

    settings = Settings()
    if args.theme:
        settings.theme = args.theme
    from . import i18n

    lang, no_font = i18n.startup_language(args.lang, settings.language)
    i18n.install(lang)
    Theme.ensure(app, settings.theme)
    app.setWindowIcon(QIcon(str(icons.icon_path("fewshot-studio"))))
    window = MainWindow(settings)
    if no_font:
        from .notices import Notice

        window.notify(Notice("warning", no_font))
    app.aboutToQuit.connect(window.shutdown)
    if os.environ.get(SMOKE_ENV, "").strip() not in ("", "0"):
        _quit_when_loaded(app, window)
    if on_created is not None:
        on_created(window)
    window.show()

    def after_shown() -> None:
        if on_shown is not None:
            on_shown(window)
        window.start_engine(in_thread=engine_in_thread)
        if args.path:
            window.projects.open_path(args.path)
        elif args.demo:
            window.projects.open_demo()

    _when_painted(window, after_shown)
    return app.exec()


def _quit_when_loaded(app: QApplication, window) -> None:
    """The smoke test: leave the event loop with status 0 once the engine is ready, 1 if it failed."""

    def ready() -> None:
        shown = window.isVisible()
        print(f"smoke test: window {'shown' if shown else 'NOT SHOWN'}, engine loaded "
              f"({len(window.engine.backbones)} backbones, {window.engine.device})", flush=True)
        app.exit(0 if shown else 1)

    def failed(exc: Exception, text: str) -> None:
        print(f"smoke test: the engine failed to load\n{text}", file=sys.stderr, flush=True)
        app.exit(1)

    window.sig_ready.connect(ready)
    window.loader.sig_failed.connect(failed)


class _FirstPaint(QObject):
    """Calls ``callback`` once, right after the window's first paint (or after ``fallback_ms`` if the window
    is never painted, e.g. started minimised): the engine must not compete with the first frame."""

    def __init__(self, window, callback: Callable[[], None], fallback_ms: int = 1500):
        super().__init__(window)
        self.callback = callback
        self.done = False
        window.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self.fire)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and not self.done:
            QTimer.singleShot(0, self.fire)  # after this paint has been drawn and flushed
        return False

    def fire(self) -> None:
        if not self.done:
            self.done = True
            self.parent().removeEventFilter(self)
            self.callback()


def _when_painted(window, callback: Callable[[], None]) -> None:
    window._first_paint = _FirstPaint(window, callback)


def main(argv: list[str] | None = None) -> int:
    """Open the studio window; returns the exit status."""
    try:
        return run(argv)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
