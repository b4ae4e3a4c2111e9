"""Sorting a folder: classify every image under the input folders and put it into one folder per class, or into
an "unsure" folder when the answer is below a confidence or rejected as none of these (open set).

The same engine serves ``fewshot-studio sort`` and File > Sort a folder... in the window: :class:`SortRun` is a
:class:`~.runs.Run` (events :class:`~.runs.Stage` and :class:`FileSorted`; ``cancel()`` stops between files and
the result says how far it got). It never overwrites a file (numbered names: ``photo 2.jpg``), never writes
inside an input folder, and a move never loses a file: a rename where it can, otherwise copy, verify, then
delete the original. The CSV report is written as files are sorted, so a cancelled run leaves a true one.

>>> run = SortRun(classifier, ["inbox"], "sorted", mode="copy", min_confidence=0.6, csv_path="report.csv")
>>> result = run.run()
>>> result.counts
{'cat': 12, 'dog': 9, 'unsure': 3}
"""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FewShotError
from .folders import unique_name
from .runs import Run, Stage

MODES = ("copy", "move", "link")
UNSURE = "unsure"
CSV_COLUMNS = ("path", "destination", "label", "confidence", "action", "reason")

MSG_BAD_MODE = "unknown sort mode {mode!r}; choose one of: copy, move, link"
MSG_BAD_CONFIDENCE = "the minimum confidence must be between 0 and 1 (got {value}); for example 0.6"
MSG_NO_INPUT = "{path}: not found; give folders (or files) of images to sort"
MSG_OUT_IN_INPUT = ("the output folder {out} is inside the input folder {folder}; choose an output folder outside "
                    "every input folder")
MSG_OUT_IS_FILE = "the output folder {out} is a file; give a folder (it is created if missing)"
MSG_NOTHING = "no image to sort in {paths}; give folders (or files) of images"
MSG_VERIFY_FAILED = "copy of {path} to {destination} differs from the original; the original is kept"
MSG_CANNOT_WRITE = "cannot write {destination}: {reason}"
REASON_LOW = "confidence below {threshold:.0%}"
REASON_UNKNOWN = "none of these"


class SortError(FewShotError):
    """Bad input to a sort, or a file that could not be put in place (the message says what to do)."""


@dataclass(frozen=True)
class SortRow:
    """One file of a sort: where it went (``destination`` empty when it was skipped) and why."""

    path: str
    destination: str
    label: str  # the best guess (also for an unsure file)
    confidence: float | None
    action: str  # copied, moved, linked; "would copy"... in a dry run; skipped
    reason: str = ""  # why unsure, or why skipped

    def as_csv(self) -> list[str]:
        confidence = "" if self.confidence is None else f"{self.confidence:.4f}"
        return [self.path, self.destination, self.label, confidence, self.action, self.reason]


@dataclass(frozen=True)
class FileSorted:
    """One file was sorted (or skipped): ``done`` of ``total``."""

    row: SortRow
    done: int
    total: int


@dataclass
class SortResult:
    out_dir: Path
    mode: str
    dry_run: bool
    rows: list[SortRow] = field(default_factory=list)
    cancelled: bool = False
    total: int = 0  # files found

    @property
    def counts(self) -> dict[str, int]:
        """Files per destination folder (class folders and the unsure folder), skipped files under "skipped"."""
        counts = Counter(Path(r.destination).parent.name if r.destination else "skipped" for r in self.rows)
        return dict(sorted(counts.items()))

    @property
    def sorted_files(self) -> int:
        return sum(1 for r in self.rows if r.destination)


def folder_name(label: str) -> str:
    """A class name as a folder name: path separators and other characters folders cannot have become ``_``."""
    name = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in label).strip(" .")
    return name or "class"


def check_out_dir(inputs: list[Path], out_dir: Path) -> None:
    """Refuse an output folder that is a file, or that is (inside) an input folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SortError(MSG_OUT_IS_FILE.format(out=out_dir))
    out = out_dir.resolve()
    for path in inputs:
        if not path.exists():
            raise SortError(MSG_NO_INPUT.format(path=path))
        if path.is_dir():
            folder = path.resolve()
            if out == folder or folder in out.parents:
                raise SortError(MSG_OUT_IN_INPUT.format(out=out_dir, folder=path))


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _copy_new(source: Path, destination: Path) -> None:
    """Copy to a file that must not exist yet (never overwrites; a partial copy is removed)."""
    with open(source, "rb") as src, open(destination, "xb") as dst:
        try:
            shutil.copyfileobj(src, dst, 1 << 20)
        except BaseException:
            dst.close()
            destination.unlink(missing_ok=True)
            raise
    shutil.copystat(source, destination)


def _move(source: Path, destination: Path) -> None:
    """Move without overwriting: a hard link then unlink on the same file system; otherwise copy, compare the
    bytes, and only then delete the original."""
    try:
        os.link(source, destination)  # fails if destination exists: never overwrites
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EACCES):
            raise
        _copy_new(source, destination)
        if _digest(source) != _digest(destination):
            destination.unlink(missing_ok=True)
            raise SortError(MSG_VERIFY_FAILED.format(path=source, destination=destination)) from None
    source.unlink()


def _link(source: Path, destination: Path) -> None:
    try:
        os.symlink(source.resolve(), destination)
    except FileExistsError:
        raise
    except OSError:  # no symbolic links here (Windows without the privilege): a hard link
        os.link(source, destination)


ACTIONS = {"copy": (_copy_new, "copied"), "move": (_move, "moved"), "link": (_link, "linked")}


class SortRun(Run[SortResult]):
    """Classify the images under ``inputs`` with ``classifier`` and put them into ``out_dir``/CLASS (or
    ``out_dir``/unsure). ``mode``: copy, move or link; ``min_confidence``: below it a file is unsure;
    ``dry_run``: decide and report, touch nothing (the CSV is still written); ``csv_path``: the report."""

    def __init__(self, classifier, inputs, out_dir, *, mode: str = "copy", min_confidence: float = 0.0,
                 dry_run: bool = False, csv_path=None, batch_size: int | None = None):
        super().__init__()
        if mode not in MODES:
            raise SortError(MSG_BAD_MODE.format(mode=mode))
        if not 0.0 <= float(min_confidence) <= 1.0:
            raise SortError(MSG_BAD_CONFIDENCE.format(value=min_confidence))
        self.classifier = classifier
        self.inputs = [Path(p) for p in inputs]
        self.out_dir = Path(out_dir)
        self.mode, self.min_confidence, self.dry_run = mode, float(min_confidence), dry_run
        self.csv_path = Path(csv_path) if csv_path else None
        self.batch_size = batch_size
        check_out_dir(self.inputs, self.out_dir)
        self.folders: dict[str, str] = {}  # class -> its folder (two names that read alike get "name 2")
        for name in classifier.class_names:
            self.folders[name] = unique_name(folder_name(name), {f.lower() for f in self.folders.values()})
        self.unsure = unique_name(UNSURE, {f.lower() for f in self.folders.values()})
        self._taken: dict[str, set[str]] = {}

    # --- where a file goes ------------------------------------------------------------------------------------
    def _folder_for(self, pred) -> tuple[str, str]:
        if pred.unknown:
            return self.unsure, REASON_UNKNOWN
        if pred.confidence < self.min_confidence:
            return self.unsure, REASON_LOW.format(threshold=self.min_confidence)
        return self.folders[pred.label], ""

    def _free_name(self, folder: str, name: str) -> Path:
        """``name`` in ``out_dir/folder``, or ``stem 2.ext``, ``stem 3.ext``... whichever is free (on disk and in
        this run, which matters in a dry run)."""
        taken = self._taken.setdefault(folder, set())
        directory = self.out_dir / folder
        stem, suffix = Path(name).stem, Path(name).suffix
        candidate, n = name, 2
        while candidate in taken or os.path.lexists(directory / candidate):
            candidate, n = f"{stem} {n}{suffix}", n + 1
        taken.add(candidate)
        return directory / candidate

    def _put(self, source: Path, folder: str) -> tuple[Path, str]:
        place, verb = ACTIONS[self.mode]
        while True:
            destination = self._free_name(folder, source.name)
            if self.dry_run:
                return destination, f"would {self.mode}"
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                place(source, destination)
                return destination, verb
            except FileExistsError:  # another process took the name meanwhile: the next number
                continue
            except SortError:
                raise
            except OSError as exc:
                raise SortError(MSG_CANNOT_WRITE.format(destination=destination,
                                                        reason=exc.strerror or exc)) from None

    # --- the run ------------------------------------------------------------------------------------------------
    def _events(self):
        from .classifier import expand_paths
        from .devices import inference_batch

        yield Stage("finding images", 0, len(self.inputs))
        files, skipped = expand_paths(self.inputs)
        result = SortResult(self.out_dir, self.mode, self.dry_run, total=len(files) + len(skipped))
        if not files:
            raise SortError(MSG_NOTHING.format(paths=" ".join(map(str, self.inputs))))
        report = self._open_report()
        try:
            for s in skipped:
                yield self._record(result, report, SortRow(str(s.path), "", "", None, "skipped", s.reason))
            batch = self.batch_size or inference_batch(self.classifier.device)
            for start in range(0, len(files), batch):
                if self.cancelled:
                    result.cancelled = True
                    break
                chunk = files[start:start + batch]
                preds, bad = self.classifier.predict(chunk, top_k=1, nearest=0, batch_size=batch)
                for s in bad:
                    yield self._record(result, report, SortRow(str(s.path), "", "", None, "skipped", s.reason))
                for pred in preds:
                    if self.cancelled:
                        result.cancelled = True
                        break
                    folder, reason = self._folder_for(pred)
                    guess = pred.top_k[0][0] if pred.top_k else ""
                    destination, action = self._put(Path(pred.path), folder)
                    yield self._record(result, report, SortRow(pred.path, str(destination), guess, pred.confidence,
                                                               action, reason))
                if result.cancelled:
                    break
        finally:
            if report is not None:
                report[0].close()
        self.result = result

    def _open_report(self):
        if self.csv_path is None:
            return None
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.csv_path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed at the end of the run
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        return f, writer

    def _record(self, result: SortResult, report, row: SortRow) -> FileSorted:
        result.rows.append(row)
        if report is not None:
            report[1].writerow(row.as_csv())
            report[0].flush()
        return FileSorted(row, len(result.rows), result.total)


def read_report(path) -> list[dict[str, str]]:
    """A sort's CSV report as dicts (column -> text)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
