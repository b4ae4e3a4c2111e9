"""The entry point and the parser: each command group contributes its :class:`~.common.Command` objects; the
parser lists them in :data:`ORDER` and calls the chosen one's ``run``.

Exit status: 0 success, 2 bad input (one line on stderr saying what to do), 1 internal error, 130 interrupted
(Ctrl+C), 143 terminated (SIGTERM). Both signals unwind like exceptions, so a save in progress removes its
temporary file.
"""

from __future__ import annotations

import argparse
import signal
import threading

from .. import __version__
from . import adapt, cache, catalogue, export, gui, meta, multitask, sort, validation
from .common import LONG_COMMANDS, PROG, ArgumentParser, Command, bad_input, configure_log, error

#: The modules whose ``commands()`` make up the command line.
GROUPS = (gui, adapt, catalogue, meta, multitask, validation, sort, export, cache)

#: The commands as ``--help`` lists them.
ORDER = ("gui", "demo", "backbones", "algorithms", "adapt", "predict", "import-weights", "meta-train", "multi-task",
         "evaluate", "validate", "compare", "rank", "embed", "sort", "inspect", "export", "export-support", "cache")


def commands() -> dict[str, Command]:
    """Every command by name, in :data:`ORDER`."""
    found = {c.name: c for group in GROUPS for c in group.commands()}
    assert sorted(found) == sorted(ORDER), "a command missing from ORDER, or listed there but in no group"
    return {name: found[name] for name in ORDER}


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=PROG, description="Few-shot image classification: teach new classes "
                                     "from a handful of examples. With no command, opens the studio window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands().values():
        # help is %-formatted by argparse (a "95% confidence" made --help crash); description is not
        p = sub.add_parser(command.name, help=command.summary.replace("%", "%%"), description=command.summary,
                           parents=command.parser_parents())
        if command.name in LONG_COMMANDS:
            p.add_argument("--log-json", metavar="FILE", help="write the run's events as JSON lines to FILE (appended; "
                           "- for standard error)")
        p.set_defaults(func=command.run)
    return parser


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that everything unwinds (saves remove their temporary files)."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    from ..core.errors import FewShotError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = gui.cmd_gui
    previous = None
    if threading.current_thread() is threading.main_thread() and args.func is not gui.cmd_gui:
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        configure_log(getattr(args, "log_json", None), quiet=bool(getattr(args, "quiet", False)))
        return args.func(args) or 0
    except FewShotError as exc:
        return bad_input(str(exc))
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except Terminated:
        error("terminated")
        return 143
    except BrokenPipeError:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
