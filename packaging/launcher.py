"""The frozen application's entry point (PyInstaller): the same ``main`` as the ``fewshot-studio`` command."""

import multiprocessing

from fewshot_studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # child processes of a frozen app on Windows and macOS (spawn)
    raise SystemExit(main())
