"""What every command shares: messages on standard error, loading a support set, the options that commands repeat
(as argparse parent parsers), the progress bar and the one loop that follows a run's events.

Cheap to import: torch, tqdm and the engine are imported inside the functions that need them, so that building
the parser (``--help``, ``--version``) stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROG = "fewshot-studio"

#: One piece of a command's options, in the order ``--help`` lists them: a parent parser (``add_help=False``)
#: or a function that adds the command's own arguments to a parser.
Options = argparse.ArgumentParser | Callable[[argparse.ArgumentParser], None]


# --- messages ------------------------------------------------------------------------------------------------
def error(message: str) -> None:
    """One line on standard error; the command then exits with a status that is not 0."""
    print(f"{PROG}: error: {message}", file=sys.stderr)


def bad_input(message: str) -> int:
    """Report bad input: one line on standard error; returns the exit status for it (2)."""
    error(message)
    return 2


def warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def print_json(value, **options) -> None:
    """``value`` on standard output as strict JSON (NaN and infinities become null), indented by 2."""
    from ..core import strict_json

    options.setdefault("indent", 2)
    print(strict_json.dumps(value, **options))


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but a usage error is one line that points to ``--help`` (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see: {self.prog} --help)\n")


# --- argument types ----------------------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def seed_int(text: str) -> int:
    """An argparse type: a random seed in the range every library takes."""
    from ..core.errors import ParameterError
    from ..core.params import check_seed

    try:
        return check_seed(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("the seed ", "", 1)) from None


def warn_skipped(skipped: Iterable) -> None:
    """A warning for each file that was left out (a :class:`~fewshot_studio.core.support.Skipped` says why)."""
    for s in skipped:
        warn(f"skipped {s}")


# --- inputs --------------------------------------------------------------------------------------------------
def load_support(path: str | Path, *, projects: bool = False):
    """The support set in a folder of class folders or a support-set ``.json`` (with ``projects``: also a
    ``.fsproj`` project); warns about each file left out."""
    from ..core.support import SupportSet

    source = Path(path)
    suffix = source.suffix.lower() if source.is_file() else None
    if projects:
        from ..core.project import SUFFIX, open_project

        if suffix == SUFFIX:
            project = open_project(source)
            warn_skipped(project.skipped)
            warn_about(project.support)
            return project.support
    if suffix == ".json":
        support = SupportSet.load(source)
    else:
        support, skipped = SupportSet.from_folder(source)
        warn_skipped(skipped)
    warn_about(support)
    return support


def warn_about(support) -> None:
    """Warnings for what reading a support set changed (class names), and images in more than one class."""
    from ..core.support import duplicate_images

    for notice in getattr(support, "notices", ()):
        warn(notice)
    for notice in duplicate_images(support):
        warn(notice)


def parse_params(args) -> dict:
    """The ``--param NAME=VALUE`` options as a dict of strings (checked by the method)."""
    from ..core.params import parse_assignments

    return parse_assignments(args.param or [])


# --- the command registry ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """A subcommand: ``run(args)`` returns its exit status; ``summary`` is its line in ``--help``."""

    name: str
    run: Callable[[argparse.Namespace], int]
    summary: str
    options: tuple[Options, ...] = ()  # parent parsers and argument-adding functions, in --help order

    def parser_parents(self) -> list[argparse.ArgumentParser]:
        """The command's options as parent parsers, in order."""
        return [as_parser(piece) for piece in self.options]


# --- parent parsers: the options that commands repeat --------------------------------------------------------
def parent(*arguments: tuple[tuple, dict]) -> argparse.ArgumentParser:
    """A parent parser holding ``add_argument(*args, **kwargs)`` for each ``(args, kwargs)``."""
    parser = ArgumentParser(add_help=False)
    for names, kwargs in arguments:
        parser.add_argument(*names, **kwargs)
    return parser


def as_parser(piece: Options) -> argparse.ArgumentParser:
    """``piece`` as a parent parser (a function that adds arguments gets a parser of its own)."""
    if isinstance(piece, argparse.ArgumentParser):
        return piece
    parser = argparse.ArgumentParser(add_help=False)
    piece(parser)
    return parser


def combine(*pieces: Options) -> argparse.ArgumentParser:
    """One parent parser holding the options of ``pieces``, in order."""
    return argparse.ArgumentParser(add_help=False, parents=[as_parser(piece) for piece in pieces])


def device_option() -> argparse.ArgumentParser:
    from ..core.device_names import DEVICE_CHOICES

    return parent((("--device",), dict(default="auto", help=f"{', '.join(DEVICE_CHOICES)} or cuda:N (default: auto)")))


def json_option(help: str | None = "machine-readable output") -> argparse.ArgumentParser:
    return parent((("--json",), dict(action="store_true", help=help)))


def quiet_option() -> argparse.ArgumentParser:
    return parent((("--quiet",), dict(action="store_true", help="no progress bar")))


def param_option() -> argparse.ArgumentParser:
    return parent((("--param",), dict(action="append", metavar="NAME=VALUE", help="a hyperparameter (repeatable)")))


def method_options() -> argparse.ArgumentParser:
    """``--backbone`` and ``--algorithm``, one of each, for adapting on a support set."""
    return parent((("--backbone",), dict(default="efficientnet_lite0", help="see: fewshot-studio backbones")),
                  (("--algorithm",), dict(default="prototypical", help="see: fewshot-studio algorithms")))


def support_argument() -> argparse.ArgumentParser:
    return parent((("support",), dict(metavar="SUPPORT_DIR", type=Path, help="folder with one sub-folder of images "
                                      "per class (or a support-set .json)")))


def model_argument() -> argparse.ArgumentParser:
    return parent((("model",), dict(metavar="MODEL")))


# --- progress ------------------------------------------------------------------------------------------------
class ProgressBar:
    """A progress bar on standard error, for a run's events. Hidden with ``--quiet`` and when standard error is
    not a terminal (a log file gets no bar). A context manager: the bar is closed at the end."""

    def __init__(self, total: int, *, quiet: bool, unit: str = "step", desc: str = "preparing"):
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit=unit, file=sys.stderr, disable=True if quiet else None,
                         dynamic_ncols=True, desc=desc, mininterval=0.1 if sys.stderr.isatty() else 2.0)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self._bar.close()

    def describe(self, text: str, **postfix: str) -> None:
        """Show ``text`` before the bar and ``postfix`` (name=value) after it."""
        self._bar.set_description(text)
        if postfix:
            self._bar.set_postfix(refresh=False, **postfix)

    def advance_to(self, n: int) -> None:
        self._bar.update(n - self._bar.n)

    def write(self, line: str) -> None:
        """A line above the bar."""
        self._bar.write(line)

    def step(self, event, text: str, loss_format: str = ".4f") -> None:
        """A :class:`~fewshot_studio.core.runs.Progress` event: ``text``, the loss and accuracy, and the step."""
        self.describe(text, loss=f"{event.loss:{loss_format}}", acc=f"{event.accuracy:.0%}")
        self.advance_to(event.step)

    def stage(self, event, *, counts: bool = True) -> None:
        """A :class:`~fewshot_studio.core.runs.Stage` event: its name (with ``counts``, "done/total" too)."""
        self.describe(f"{event.name} {event.done}/{event.total}" if counts and event.total > 1 else event.name)


def follow(run, on: Mapping[type, Callable[[object], None]]):
    """The one progress loop: iterate ``run`` (a :class:`~fewshot_studio.core.runs.Run`) to its end, giving each
    event to the handler of its type in ``on`` (events of other types pass). Returns the last
    :class:`~fewshot_studio.core.runs.Progress` event (None if there was none)."""
    from ..core.runs import Progress

    last = None
    for event in run:
        handler = next((on[kind] for kind in type(event).__mro__ if kind in on), None)
        if handler is not None:
            handler(event)
        if isinstance(event, Progress):
            last = event
    return last
