"""Every file the studio saves goes through :func:`atomic_write`: nothing half-written, nothing of the user's lost.

- The file is written to a temporary file of its own in the target folder (``.<name>.fsw-<random>.tmp``, made
  by :func:`tempfile.mkstemp`, so a user's ``M.safetensors.part`` or a second save running at the same time is
  never touched), flushed to disk, given a normal file's mode (``0o666 & ~umask``) and moved into place with
  :func:`os.replace`: readers see the old file or the new one, never a mix.
- On any exception, ``KeyboardInterrupt`` and ``SystemExit`` included (the command line turns SIGTERM into
  ``SystemExit``), the temporary file is removed before the exception goes on.
- A save killed outright (SIGKILL, power loss) leaves its temporary file behind; the next save into that folder
  removes such leftovers: only names of exactly this pattern, and only when older than :data:`STALE_SECONDS`
  (a save running in another process at that moment is younger).
- A save never replaces one of the run's inputs (a support image, the model or the dataset being read):
  :func:`check_output` compares the target with them (same file, also through links) and refuses in one line.
  Commands call it before a long run starts, so a bad ``--output`` is reported at once, not at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import FewShotError

TAG = ".fsw-"
SUFFIX = ".tmp"
#: Leftovers of a killed save older than this (seconds) are removed by the next save into their folder.
STALE_SECONDS = 300
_LEFTOVER = re.compile(r"^\..+\.fsw-[a-z0-9_]{8}\.tmp$")
_NAME_ROOM = 120  # of the file name, in the temporary file's name (file systems allow 255 bytes)

MSG_NO_NAME = "no output file name given (it is empty); give a file name, for example model.safetensors"
MSG_IS_FOLDER = "{path} is a folder; give a file name inside it, for example {path}/model{suffix}"
MSG_PARENT_FILE = "cannot write {path}: {parent} is a file, not a folder; choose a folder you can write to"
MSG_INPUT = ("{path} is {what} this run reads; saving there would destroy it. Choose another file name for "
             "the output")


class OutputPathError(FewShotError):
    """An output path that cannot or must not be written (empty, a folder, under a file, one of the inputs)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a normal new file gets here: ``0o666`` less the umask."""
    return 0o666 & ~_umask()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        try:
            return a.resolve() == b.resolve()
        except OSError:
            return False


def check_output(path: str | os.PathLike, *, inputs: Iterable[tuple[str, str | os.PathLike]] = (),
                 suffix: str = "") -> Path:
    """``path`` as a place to save a file, checked without writing anything.

    ``inputs``: ``(what, path)`` pairs the run reads ("a support image", "the model"...); saving over any of
    them is refused. ``suffix`` only words the example in a message. Raises :class:`OutputPathError`.
    """
    if path is None or str(path).strip() == "":
        raise OutputPathError(MSG_NO_NAME)
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(MSG_IS_FOLDER.format(path=path, suffix=suffix or path.suffix))
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(MSG_PARENT_FILE.format(path=path, parent=parent))
            break
    if path.exists():
        for what, source in inputs:
            if source is not None and str(source) != "" and _same_file(path, Path(source)):
                raise OutputPathError(MSG_INPUT.format(path=path, what=what))
    return path


def is_leftover(name: str) -> bool:
    """True for the name of a temporary file of :func:`atomic_write` (and nothing else)."""
    return bool(_LEFTOVER.match(name))


def remove_leftovers(folder: str | os.PathLike, *, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove temporary files of killed saves in ``folder`` (our exact name pattern, regular files older than
    ``older_than`` seconds). Returns what was removed; never raises."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not is_leftover(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > older_than:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not possible on Windows; the rename is what matters
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike, write_fn: Callable[[Path], object], *,
                 inputs: Iterable[tuple[str, str | os.PathLike]] = ()) -> Path:
    """Save a file at ``path``: ``write_fn(tmp)`` writes it to a temporary path, which is then moved into place.

    See the module docstring for the guarantees. ``inputs`` as for :func:`check_output`. Raises
    :class:`OutputPathError` for a path that must not be written, and whatever ``write_fn`` raises
    (``OSError`` when the place cannot be written), always with the temporary file gone.
    """
    path = check_output(path, inputs=list(inputs))
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name[:_NAME_ROOM]}{TAG}", suffix=SUFFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        write_fn(tmp)
        _fsync(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(folder)
    return path
