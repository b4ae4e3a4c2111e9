"""The entry point and the parser: each command group contributes its :class:`~.common.Command` objects; the
parser lists them in :data:`ORDER` and calls the chosen one's ``run``.

Exit status: 0 success, 2 bad input (one line on stderr saying what to do), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse

from .. import __version__
from . import adapt, cache, catalogue, export, gui, meta, validation
from .common import PROG, Command, bad_input, error

#: The modules whose ``commands()`` make up the command line.
GROUPS = (gui, adapt, catalogue, meta, validation, export, cache)

#: The commands as ``--help`` lists them.
ORDER = ("gui", "demo", "backbones", "algorithms", "adapt", "predict", "import-weights", "meta-train", "evaluate",
         "validate", "compare", "rank", "embed", "inspect", "export", "export-support",
         "cache")


def commands() -> dict[str, Command]:
    """Every command by name, in :data:`ORDER`."""
    found = {c.name: c for group in GROUPS for c in group.commands()}
    assert sorted(found) == sorted(ORDER), "a command missing from ORDER, or listed there but in no group"
    return {name: found[name] for name in ORDER}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Few-shot image classification: teach new classes "
                                     "from a handful of examples. With no command, opens the studio window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands().values():
        # help is %-formatted by argparse (a "95% confidence" made --help crash); description is not
        p = sub.add_parser(command.name, help=command.summary.replace("%", "%%"), description=command.summary,
                           parents=command.parser_parents())
        p.set_defaults(func=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..core.errors import FewShotError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = gui.cmd_gui
    try:
        return args.func(args) or 0
    except FewShotError as exc:
        return bad_input(str(exc))
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return 0
