"""Zip archives from elsewhere, read without trusting them.

:class:`SafeZipReader` opens an archive the way :class:`zipfile.ZipFile` does, after :func:`check_archive` has
looked at every entry of its central directory, and its :meth:`~SafeZipReader.open` and
:meth:`~SafeZipReader.read` count the bytes as they are decompressed (the sizes an archive declares are never
trusted). What is refused, each with an :class:`ArchiveError` that says why:

- more than :data:`MAX_MEMBERS` entries (counted from the end record, before the directory is parsed);
- names that are absolute, have a drive, ``..`` parts, backslashes or control characters; symbolic links;
  two entries with the same name; encrypted entries; compression methods other than stored, deflate, bzip2
  and LZMA; entries that overlap or lie outside the archive (a damaged or crafted central directory);
- a member that decompresses to more than :data:`MAX_RATIO` times its compressed size (above a small floor,
  :data:`RATIO_FLOOR`), and an archive whose members together would exceed :data:`MAX_RATIO` times the
  archive's own size (above :data:`TOTAL_FLOOR`): a zip bomb stops after at most that many bytes.

Nothing is ever extracted here: the caller chooses where the bytes go. Nothing here imports torch or Qt.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path

from .errors import FewShotError

MAX_MEMBERS = 20_000  # a project of 20 000 images is far beyond few-shot; a crafted archive has millions
MAX_RATIO = 100  # deflate reaches ~1000:1 on zeros; images (stored or deflated) are far below 100:1
RATIO_FLOOR = 2**20  # a member may always decompress to 1 MiB (a blank bitmap compresses extremely well)
TOTAL_FLOOR = 64 * 2**20  # an archive may always hold 64 MiB, whatever its own size
ALLOWED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
                   zipfile.ZIP_LZMA: "lzma"}
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_BAD_NAME = re.compile(r"(^[/\\])|(^[A-Za-z]:)|\\|[\x00-\x1f\x7f]|(^|/)\.\.(/|$)")

MSG_TOO_MANY = "it has {count:,} entries (the limit is {limit:,})"
MSG_BAD_NAME = "entry {name!r} has a name that points outside its folder"
MSG_SYMLINK = "entry {name!r} is a symbolic link"
MSG_DUPLICATE = "two entries are named {name!r}"
MSG_ENCRYPTED = "entry {name!r} is encrypted"
MSG_METHOD = "entry {name!r} uses compression method {method}, which cannot be read; re-zip it with Deflate"
MSG_OVERLAP = "its table of contents is damaged (entries overlap or point past the end of the file)"
MSG_RATIO = "entry {name!r} expands more than {ratio}-fold (a zip bomb?)"
MSG_TOTAL = "its contents would expand to more than {limit:,} bytes (a zip bomb?)"
MSG_SIZE = "entry {name!r} is larger than it declares"
MSG_LARGE = "entry {name!r} is larger than {limit:,} bytes"
MSG_CORRUPT = "entry {name!r} cannot be decompressed ({error})"


class ArchiveError(FewShotError):
    """An archive that is refused: ``why`` says what is wrong with it (the caller adds the file and what to do)."""

    def __init__(self, why: str):
        self.why = why
        super().__init__(why)


def declared_entries(fp) -> int | None:
    """The number of entries the end-of-central-directory record declares (zip64 too), without parsing the
    directory; None when there is no end record (then :class:`zipfile.ZipFile` says it is not a zip)."""
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    tail_len = min(size, 22 + 65535)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    locator = tail[at - 20:at] if at >= 20 else b""
    if locator[:4] == _EOCD64_LOCATOR:
        offset = struct.unpack("<Q", locator[8:16])[0]
        if 0 <= offset <= size - 56:
            fp.seek(offset)
            record = fp.read(56)
            if record[:4] == b"PK\x06\x06":
                count = max(count, struct.unpack("<Q", record[32:40])[0])
    return count


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def check_archive(zf: zipfile.ZipFile, archive_size: int) -> None:
    """Refuse (with :class:`ArchiveError`) an archive whose central directory is hostile or damaged; see the
    module docstring for the rules. ``archive_size`` is the archive file's size in bytes."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArchiveError(MSG_TOO_MANY.format(count=len(infos), limit=MAX_MEMBERS))
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if _BAD_NAME.search(name) or not name:
            raise ArchiveError(MSG_BAD_NAME.format(name=name))
        if _is_symlink(info):
            raise ArchiveError(MSG_SYMLINK.format(name=name))
        if name in seen:
            raise ArchiveError(MSG_DUPLICATE.format(name=name))
        seen.add(name)
        if info.flag_bits & 0x1:
            raise ArchiveError(MSG_ENCRYPTED.format(name=name))
        if info.compress_type not in ALLOWED_METHODS:
            raise ArchiveError(MSG_METHOD.format(name=name, method=info.compress_type))
        if info.file_size > member_limit(info):
            raise ArchiveError(MSG_RATIO.format(name=name, ratio=MAX_RATIO))
        total += info.file_size
    if total > total_limit(archive_size):
        raise ArchiveError(MSG_TOTAL.format(limit=total_limit(archive_size)))
    ends = sorted((i.header_offset, i.header_offset + 30 + len(i.orig_filename.encode("utf-8", "replace"))
                   + i.compress_size) for i in infos)
    for (start, end), (next_start, _) in zip(ends, ends[1:] + [(archive_size, 0)]):
        if start < 0 or end > next_start:
            raise ArchiveError(MSG_OVERLAP)


def member_limit(info: zipfile.ZipInfo) -> int:
    """The most bytes ``info`` may decompress to: :data:`MAX_RATIO` times its compressed size, at least
    :data:`RATIO_FLOOR`."""
    return max(RATIO_FLOOR, MAX_RATIO * info.compress_size)


def total_limit(archive_size: int) -> int:
    """The most bytes all members of an archive of ``archive_size`` bytes may decompress to together."""
    return max(TOTAL_FLOOR, MAX_RATIO * archive_size)


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
                struct.error, LookupError)


class _CountingReader(io.RawIOBase):
    """A member's decompressed bytes, counted: more than ``limit`` (or than the member declares) is refused."""

    def __init__(self, stream, info: zipfile.ZipInfo, limit: int, reader: SafeZipReader):
        self._stream, self._info, self._limit, self._reader = stream, info, limit, reader
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._stream.read(min(len(buffer), self._limit - self.count + 1))
        except _READ_ERRORS as exc:
            raise ArchiveError(MSG_CORRUPT.format(name=self._info.filename, error=str(exc)[:120] or
                                                  type(exc).__name__)) from None
        self.count += len(data)
        self._reader.add_bytes(len(data))
        if self.count > self._limit:
            if self._limit < member_limit(self._info):
                raise ArchiveError(MSG_LARGE.format(name=self._info.filename, limit=self._limit))
            raise ArchiveError(MSG_RATIO.format(name=self._info.filename, ratio=MAX_RATIO))
        if self.count > self._info.file_size:
            raise ArchiveError(MSG_SIZE.format(name=self._info.filename))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


class SafeZipReader:
    """A zip archive opened for reading after :func:`check_archive`; a subset of :class:`zipfile.ZipFile`
    (``infolist``, ``namelist``, ``getinfo``, ``open``, ``read``) whose reads are bounded.

    Raises :class:`ArchiveError` for a refused archive and :class:`zipfile.BadZipFile` for a file that is not
    a zip at all; reads raise :class:`ArchiveError` for damaged data or too many bytes.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._file = open(self.path, "rb")
        try:
            self.size = os.fstat(self._file.fileno()).st_size
            count = declared_entries(self._file)
            if count is not None and count > MAX_MEMBERS:
                raise ArchiveError(MSG_TOO_MANY.format(count=count, limit=MAX_MEMBERS))
            self._file.seek(0)
            try:
                self._zip = zipfile.ZipFile(self._file)
            except (ValueError, struct.error, EOFError, NotImplementedError, LookupError) as exc:
                raise zipfile.BadZipFile(str(exc) or type(exc).__name__) from None
            check_archive(self._zip, self.size)
        except BaseException:
            self._file.close()
            raise
        self._total = 0
        self._total_limit = total_limit(self.size)

    def add_bytes(self, n: int) -> None:
        """Count ``n`` more decompressed bytes against the archive's total."""
        self._total += n
        if self._total > self._total_limit:
            raise ArchiveError(MSG_TOTAL.format(limit=self._total_limit))

    def infolist(self) -> list[zipfile.ZipInfo]:
        return self._zip.infolist()

    def namelist(self) -> list[str]:
        return self._zip.namelist()

    def getinfo(self, name: str) -> zipfile.ZipInfo:
        return self._zip.getinfo(name)

    def open(self, member: str | zipfile.ZipInfo, limit: int | None = None):
        """A binary stream of ``member``'s bytes, at most ``limit`` of them (and at most its ratio limit)."""
        info = member if isinstance(member, zipfile.ZipInfo) else self.getinfo(member)
        if info.is_dir():
            raise ArchiveError(MSG_CORRUPT.format(name=info.filename, error="it is a folder"))
        cap = member_limit(info) if limit is None else min(limit, member_limit(info))
        try:
            stream = self._zip.open(info)
        except _READ_ERRORS as exc:
            raise ArchiveError(MSG_CORRUPT.format(name=info.filename, error=str(exc)[:120] or
                                                  type(exc).__name__)) from None
        return io.BufferedReader(_CountingReader(stream, info, cap, self), 2**16)

    def read(self, member: str | zipfile.ZipInfo, limit: int | None = None) -> bytes:
        """All of ``member``'s bytes, at most ``limit`` of them (see :meth:`open`)."""
        with self.open(member, limit) as f:
            return f.read()

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> SafeZipReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
