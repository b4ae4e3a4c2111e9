"""``gui`` (and no command at all): open the studio window. The only module of the command line that imports
:mod:`fewshot_studio.gui`, and only when the window is wanted."""

from __future__ import annotations

import argparse

from .common import Command


def cmd_gui(args) -> int:
    from ..gui.app import main as gui_main

    argv = ["--lang", args.lang] if getattr(args, "lang", None) else []
    if getattr(args, "path", None):
        argv += ["--", args.path]  # a project or folder, as the desktop entry passes a double-clicked file
    return gui_main(argv)


def _gui_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", help="a project file (.fsproj) or a folder of class sub-folders to open")
    p.add_argument("--lang", help="interface language: en or zh_CN (default: the setting, else the system's)")


def commands() -> tuple[Command, ...]:
    return (Command("gui", cmd_gui, "open the studio window", (_gui_options,)),)
