"""What the window tells the user, in its message bar: a :class:`Notice`, and the one path from an exception
to the user's text (:func:`exception_text`, :func:`error_notice`).

- a :class:`~fewshot_studio.core.errors.FewShotError` says its own message (written for users), in the
  interface's language when :data:`.i18n.CORE_MESSAGES` has its template;
- an ``OSError`` with a ``strerror`` says that sentence ("Permission denied: /path");
- anything else is a bug: "... failed unexpectedly (TypeError: ...)", with the traceback in the details.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from ..core.errors import FewShotError, ImageError
from ..core.images import Skipped
from .i18n import core_text

# The window's text for a failed job that is a bug ("{what}" is the job: "Adaptation", "Saving the model").
MSG_UNEXPECTED = QT_TRANSLATE_NOOP("MainWindow", "{what} failed unexpectedly ({error}). The previous model is kept. "
                                   "If it happens again, please report it with the details below.")


@dataclass
class Notice:
    """A message for the window's message bar."""

    level: str  # info, success, warning, error
    text: str
    details: str = ""
    actions: list[tuple[str, Callable[[], None]]] = field(default_factory=list)


STOPS = (".", "。", "!", "！", "?", "？")  # a sentence that ends with one of these gets no other full stop


def _sentence(text: str, full_stop: bool) -> str:
    text = text[:1].upper() + text[1:]
    return text if not full_stop or text.endswith(STOPS) else text + "."


def status_line(text: str) -> str:
    """The first sentence of a notice, for the status bar, ended by one full stop (。 in Chinese: not "。.")."""
    first = re.split(r"(?<=\.) |(?<=[。！？])", text.strip(), maxsplit=1)[0].strip()
    return first if first.endswith(STOPS) else first + "."


def exception_text(exc: BaseException, unexpected: str, *, full_stop: bool = False) -> tuple[str, bool]:
    """(the user's text for ``exc``, whether it is a bug). ``unexpected`` is a translated text with an
    ``{error}`` field, used for bugs; ``full_stop`` ends the text with a full stop."""
    if isinstance(exc, ImageError):
        return _sentence(f"{exc.path}: {core_text(exc.reason)}", full_stop), False
    if isinstance(exc, FewShotError):
        return _sentence(core_text(str(exc)), full_stop), False
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else ""
        return _sentence(f"{exc.strerror}: {where}" if where else exc.strerror, full_stop), False
    return _sentence(unexpected.format(error=f"{type(exc).__name__}: {exc}"), full_stop), True


def error_notice(exc: BaseException, details: str, unexpected: str, *, actions=(),
                 full_stop: bool = False) -> Notice:
    """A failed job as a Notice: :func:`exception_text`, and the traceback ``details`` only for a bug."""
    text, bug = exception_text(exc, unexpected, full_stop=full_stop)
    return Notice("error", text, details=details if bug else "", actions=list(actions))


def unexpected_text(what: str) -> str:
    """The window's "{what} failed unexpectedly ({error})..." text, translated, with ``{error}`` left open."""
    return QCoreApplication.translate("MainWindow", MSG_UNEXPECTED).replace("{what}", what)


def skipped_notice(skipped: list[Skipped], added: int, head: str | None = None) -> Notice:
    """"2 files were skipped: a.txt: not an image...; b.png: file is empty" (every file in the details).
    ``head`` replaces the first sentence ("Added 3 images. ", "Nothing was added. ")."""
    n = len(skipped)
    shown = "; ".join(f"{s.path.name}: {core_text(s.reason)}" for s in skipped[:3])
    more = QCoreApplication.translate("ClassBoard", "; and {n} more (see Details)").format(n=n - 3) if n > 3 else ""
    if head is None:
        if added == 1:
            head = QCoreApplication.translate("ClassBoard", "Added {n} image. ").format(n=added)
        elif added:
            head = QCoreApplication.translate("ClassBoard", "Added {n} images. ").format(n=added)
        else:
            head = QCoreApplication.translate("ClassBoard", "Nothing was added. ")
    skipped_text = (QCoreApplication.translate("ClassBoard", "{n} file was skipped: {files}{more}.") if n == 1 else
                    QCoreApplication.translate("ClassBoard", "{n} files were skipped: {files}{more}."))
    text = head + skipped_text.format(n=n, files=shown, more=more)
    return Notice("warning", text, "\n".join(str(s) for s in skipped))
