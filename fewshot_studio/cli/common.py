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


MSG_NO_UNLABELLED = "no usable image in --unlabelled {paths}; give image files or folders of images"


def add_unlabelled(support, args) -> str | None:
    """Add ``--unlabelled``'s images to the support set's pool (warning about each file left out); the line to say
    when it gave paths and none held a usable image."""
    if not getattr(args, "unlabelled", None):
        return None
    warn_skipped(support.add_unlabelled_files(args.unlabelled))
    return None if support.unlabelled else MSG_NO_UNLABELLED.format(paths=" ".join(map(str, args.unlabelled)))


def stages_option(args) -> str:
    """``--domain-adaptation``'s stages, as one comma-separated spec (the option repeats)."""
    return ",".join(getattr(args, "domain_adaptation", None) or [])


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
    return parent((("--quiet",), dict(action="store_true", help="no progress bar (nor progress lines in a log)")))


def param_option() -> argparse.ArgumentParser:
    return parent((("--param",), dict(action="append", metavar="NAME=VALUE", help="a hyperparameter (repeatable)")))


def method_options() -> argparse.ArgumentParser:
    """``--backbone`` and ``--algorithm``, one of each, for adapting on a support set."""
    return parent((("--backbone",), dict(default="efficientnet_lite0", help="see: fewshot-studio backbones")),
                  (("--algorithm",), dict(default="prototypical", help="see: fewshot-studio algorithms")))


def support_argument() -> argparse.ArgumentParser:
    return parent((("support",), dict(metavar="SUPPORT_DIR", type=Path, help="folder with one sub-folder of images "
                                      "per class (or a support-set .json)")))


def unlabelled_options() -> argparse.ArgumentParser:
    """``--unlabelled`` (the target domain's pool) and ``--domain-adaptation`` (the stages): adapt, validate, compare."""
    return parent(
        (("--unlabelled",), dict(nargs="+", metavar="DIR", type=Path, help="unlabelled images of the target domain "
                                 "(folders or files), for domain adaptation and transductive methods")),
        (("--domain-adaptation",), dict(action="append", metavar="NAME[,NAME]", help="adaptation stages, in any "
                                        "order: adabn, tent, coral, pseudo_label, soft_kmeans (NAME:key=value sets a "
                                        "stage's option; needs --unlabelled)")))


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

    def set_total(self, total: int) -> None:
        if self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()

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


#: The commands that write progress lines to a log and take ``--log-json`` (cli/parser.py adds the option).
LONG_COMMANDS = ("adapt", "meta-train", "multi-task", "evaluate", "validate", "compare", "rank", "embed", "sort")
#: Seconds between two progress lines when standard error is not a terminal (FEWSHOT_STUDIO_LOG_EVERY sets it).
LOG_EVERY = 5.0
MSG_LOG_JSON = "cannot write the JSON log {path}: {reason}; give a file in a writable folder, or - for stderr"

_log_json: str | None = None  # set from --log-json by main()
_quiet = False  # set from --quiet by main(): no progress lines either


def configure_log(log_json: str | None, *, quiet: bool = False) -> None:
    """Where :func:`follow` writes the events as JSON lines (``-``: standard error; None: nowhere), and whether
    progress lines are left out (``--quiet``)."""
    global _log_json, _quiet
    _log_json, _quiet = log_json, quiet


def _plain(value):
    """``value`` as strict JSON data: dataclasses as objects, paths as text, NaN and infinities as null."""
    import dataclasses
    import math

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _clock(seconds: float) -> str:
    import math

    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class ProgressLog:
    """Progress for logs: when standard error is not a terminal, one line every :data:`LOG_EVERY` seconds (step,
    loss, accuracy, elapsed, time left), and with ``--log-json`` every event as one JSON line. A context
    manager; :func:`follow` opens one, commands that are not runs feed :meth:`event` themselves."""

    def __init__(self, command: str = "", *, enabled: bool = True):
        import os
        import time

        self.command = command
        self.start = time.monotonic()
        self.lines = enabled and not sys.stderr.isatty() and not _quiet
        self.every = float(os.environ.get("FEWSHOT_STUDIO_LOG_EVERY", LOG_EVERY))
        self._last_line = float("-inf")
        self._pending: str | None = None
        self._json = None
        if not enabled:  # another process logs this run (torchrun: only the main rank does)
            pass
        elif _log_json == "-":
            self._json = sys.stderr
        elif _log_json:
            from ..core.errors import FewShotError

            try:
                self._json = open(_log_json, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
            except OSError as exc:
                raise FewShotError(MSG_LOG_JSON.format(path=_log_json, reason=exc.strerror or exc)) from None

    def __enter__(self) -> ProgressLog:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self._pending:  # the last state is always written
            self._write_line(self._pending)
        status = "done" if kind is None else ("interrupted" if issubclass(kind, KeyboardInterrupt) else "error")
        self._emit_json({"event": "End", "status": status, **({"message": str(exc)} if exc else {})})
        if self._json is not None and self._json is not sys.stderr:
            self._json.close()

    def elapsed(self) -> float:
        import time

        return time.monotonic() - self.start

    def _emit_json(self, record: dict) -> None:
        import json

        if self._json is None:
            return
        record = {"elapsed": round(self.elapsed(), 3), "command": self.command, **_plain(record)}
        self._json.write(json.dumps(record, allow_nan=False, ensure_ascii=False) + "\n")
        self._json.flush()

    def _write_line(self, text: str) -> None:
        print(f"{PROG}: {text}", file=sys.stderr, flush=True)
        self._last_line = self.elapsed()
        self._pending = None

    def event(self, event) -> None:
        """Log one event (of a run, or made by the command: Stage, Progress)."""
        data = _plain(event)
        self._emit_json({"event": type(event).__name__, **(data if isinstance(data, dict) else {"value": data})})
        if not self.lines:
            return
        text = self.describe(event)
        if text is None:
            return
        if self.elapsed() - self._last_line >= self.every:
            self._write_line(text)
        else:
            self._pending = text

    def describe(self, event) -> str | None:
        """The progress line for ``event`` (None for events that do not move progress)."""
        import math

        from ..core.runs import Progress

        kind = type(event).__name__
        done = next((getattr(event, a) for a in ("step", "done", "fold", "index") if hasattr(event, a)), None)
        total = getattr(event, "total", None)
        if not isinstance(done, int) or not isinstance(total, int) or total < 1:
            return None
        elapsed = event.elapsed if isinstance(event, Progress) else self.elapsed()
        left = elapsed / done * (total - done) if done else float("nan")
        name = {"Progress": "step", "FoldDone": "fold", "CandidateStarted": "candidates done",
                "FileSorted": "sorted"}.get(kind)
        parts = [f"{name or getattr(event, 'name', kind)} {done}/{total}"]
        if isinstance(event, Progress):
            if math.isfinite(event.loss):
                parts.append(f"loss {event.loss:.4f}")
            parts.append(f"accuracy {event.accuracy:.1%}")
        elif getattr(event, "seen", 0):
            parts.append(f"accuracy {event.correct / event.seen:.1%}")
        parts += [f"elapsed {_clock(elapsed)}", f"left {_clock(left)}"]
        return "  ".join(parts)


def follow(run, on: Mapping[type, Callable[[object], None]], *, command: str = "", log: bool = True):
    """The one progress loop: iterate ``run`` (a :class:`~fewshot_studio.core.runs.Run`) to its end, giving each
    event to the handler of its type in ``on`` (events of other types pass), and to the :class:`ProgressLog`
    (progress lines when standard error is not a terminal; JSON lines with ``--log-json``; ``log=False``: neither).
    Returns the last :class:`~fewshot_studio.core.runs.Progress` event (None if there was none)."""
    from ..core.runs import Progress

    last = None
    with ProgressLog(command, enabled=log) as progress_log:
        for event in run:
            progress_log.event(event)
            handler = next((on[kind] for kind in type(event).__mro__ if kind in on), None)
            if handler is not None:
                handler(event)
            if isinstance(event, Progress):
                last = event
    return last
