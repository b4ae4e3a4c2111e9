"""Project archives from elsewhere: every hostile or damaged kind is refused with one clear message, and
nothing is written outside the project cache (nor left in it)."""

from __future__ import annotations

import io
import json
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from imagegen import draw_shape

from fewshot_studio.core import archive
from fewshot_studio.core.archive import ArchiveError, SafeZipReader
from fewshot_studio.core.project import FORMAT, MANIFEST, ProjectError, open_project


def png(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    draw_shape("ellipse", (220, 40, 40), seed, 32).save(buf, "PNG")
    return buf.getvalue()


def manifest(*members: str, name: str = "a") -> str:
    return json.dumps({"format": FORMAT, "version": 1, "classes": [{"name": name, "images": list(members)}]})


def write_zip(path: Path, entries, method=zipfile.ZIP_DEFLATED) -> Path:
    """``entries``: [(name or ZipInfo, bytes)], in order (duplicates allowed)."""
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                name.compress_type = method
            zf.writestr(name, data)
    return path


def central_entries(data: bytes) -> list[int]:
    """Offsets of the central directory's file headers."""
    eocd = data.rfind(b"PK\x05\x06")
    start = struct.unpack("<I", data[eocd + 16:eocd + 20])[0]
    out, at = [], start
    while data[at:at + 4] == b"PK\x01\x02":
        out.append(at)
        n, m, k = struct.unpack("<HHH", data[at + 28:at + 34])
        at += 46 + n + m + k
    return out


def patch(path: Path, edits) -> Path:
    """Overwrite bytes: ``edits`` is [(offset, struct format, value)]."""
    data = bytearray(path.read_bytes())
    for offset, fmt, value in edits:
        struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))
    return path


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


# --- the hostile kinds: each builds its archive and says what the message must name ----------------------------
def k_dotdot(d):
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png()),
                                       ("../../evil.png", png())]), "points outside"


def k_dotdot_listed(d):
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/../../evil.png")),
                                       ("images/0/../../evil.png", png())]), "points outside"


def k_absolute(d):
    target = str(d / "abs_evil.png")
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest(target)), (target, png())]), "points outside"


def k_backslash(d):
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png()),
                                       ("..\\..\\evil.png", png())]), "points outside"


def k_drive(d):
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png()),
                                       ("C:/Windows/evil.png", png())]), "points outside"


def k_symlink(d):
    info = zipfile.ZipInfo("images/0/link.png")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/link.png")), (info, "/etc/passwd")]), \
        "symbolic link"


def k_bomb_honest(d):
    """20 MB of zeros deflate to ~20 KB (1000:1); the header says so."""
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.bmp")),
                                       ("images/0/a.bmp", bytes(20 * 2**20))]), "expands more than 100-fold"


def k_bomb_lying(d):
    """The same bomb, but the central directory claims 100 bytes: reading stops there and the data is refused."""
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.bmp")),
                                       ("images/0/a.bmp", bytes(20 * 2**20))])
    entry = central_entries(path.read_bytes())[1]
    return patch(path, [(entry + 24, "<I", 100)]), "cannot be decompressed.*CRC"


def k_bomb_total(d, monkeypatch):
    """Many members, each within its ratio, together far beyond the archive's own size times the ratio."""
    monkeypatch.setattr(archive, "TOTAL_FLOOR", 2**20)
    names = [f"images/0/{i}.bmp" for i in range(40)]
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest(*names))] + [(n, bytes(2**20)) for n in names]), \
        "would expand to more than"


def k_overlap(d):
    """Two entries pointing at the same bytes (the overlapping-files zip bomb)."""
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png", "images/0/b.png")),
                                       ("images/0/a.png", png(1)), ("images/0/b.png", png(2))])
    entries = central_entries(path.read_bytes())
    offset_a = struct.unpack("<I", path.read_bytes()[entries[1] + 42:entries[1] + 46])[0]
    return patch(path, [(entries[2] + 42, "<I", offset_a)]), "entries overlap"


def k_many_members(d):
    names = [f"images/0/{i}.png" for i in range(archive.MAX_MEMBERS + 10_000)]  # tens of thousands
    with zipfile.ZipFile(d / "x.fsproj", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(MANIFEST, manifest(*names[:3]))
        for n in names:
            zf.writestr(n, b"")
    return d / "x.fsproj", r"30,001 entries \(the limit is 20,000\)"


def k_claimed_members(d):
    """A tiny archive whose end record claims 65 535 entries: refused before the directory is parsed."""
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png())])
    eocd = path.read_bytes().rfind(b"PK\x05\x06")
    return patch(path, [(eocd + 8, "<H", 65535), (eocd + 10, "<H", 65535)]), "65,535 entries"


def k_duplicate(d):
    entries = [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png(1)), ("images/0/a.png", png(2))]
    with pytest.warns(UserWarning, match="Duplicate name"):
        return write_zip(d / "x.fsproj", entries), "two entries are named 'images/0/a.png'"


def k_duplicate_manifest(d):
    entries = [(MANIFEST, manifest("images/0/a.png")), (MANIFEST, manifest()), ("images/0/a.png", png())]
    with pytest.warns(UserWarning, match="Duplicate name"):
        return write_zip(d / "x.fsproj", entries), "two entries are named 'project.json'"


def k_listed_twice(d):
    return write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png", "images/0/a.png")),
                                       ("images/0/a.png", png())]), "images/0/a.png is listed twice"


def k_encrypted(d):
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png())])
    entry = central_entries(path.read_bytes())[1]
    return patch(path, [(entry + 8, "<H", 0x1)]), "encrypted"


def k_method(d):
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png())])
    entry = central_entries(path.read_bytes())[1]
    return patch(path, [(entry + 10, "<H", 9)]), "compression method 9.*Deflate"  # Deflate64 (Windows)


def k_corrupt_data(d):
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.bmp")),
                                       ("images/0/a.bmp", bytes(range(256)) * 400)])
    data = bytearray(path.read_bytes())
    at = data.find(b"images/0/a.bmp") + len("images/0/a.bmp") + 10  # inside the compressed stream
    data[at:at + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    return path, "cannot be decompressed"


def k_cut_short(d):
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png())])
    path.write_bytes(path.read_bytes()[:-30])  # the end record is gone
    return path, "damaged"


def k_directory_garbage(d):
    path = write_zip(d / "x.fsproj", [(MANIFEST, manifest("images/0/a.png")), ("images/0/a.png", png())])
    entry = central_entries(path.read_bytes())[1]
    return patch(path, [(entry, "<I", 0xDEADBEEF)]), "damaged.*central directory"


def k_nested_manifest(d):
    return write_zip(d / "x.fsproj", [(MANIFEST, "[" * 100_000 + "]" * 100_000)]), "damaged.*project.json"


HOSTILE = [k_dotdot, k_dotdot_listed, k_absolute, k_backslash, k_drive, k_symlink, k_bomb_honest, k_bomb_lying,
           k_bomb_total, k_overlap, k_many_members, k_claimed_members, k_duplicate, k_duplicate_manifest,
           k_listed_twice, k_encrypted, k_method, k_corrupt_data, k_cut_short, k_directory_garbage,
           k_nested_manifest]


@pytest.mark.parametrize("kind", HOSTILE, ids=lambda k: k.__name__[2:])
def test_a_hostile_or_damaged_archive_is_refused_with_one_line_and_nothing_written_outside_the_cache(
        tmp_path, monkeypatch, kind):
    outside = tmp_path / "world"
    outside.mkdir()
    cache = tmp_path / "world" / "cache"
    build = kind if kind.__code__.co_argcount == 1 else (lambda d: kind(d, monkeypatch))
    path, expected = build(outside)
    before = files_under(tmp_path)
    with pytest.raises(ProjectError, match=expected) as info:
        open_project(path, cache_dir=cache)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    assert "damaged" in message and ("use a backup" in message or "ask for the project again" in message)
    new = files_under(tmp_path) - before
    assert all(cache in p.parents or p == cache for p in new), sorted(new)
    assert not [p for p in new if p.is_file()], "nothing is left in the cache either"
    assert not (tmp_path / "evil.png").exists() and not Path("/evil.png").exists()


def test_members_not_listed_or_not_images_are_never_used(tmp_path):
    cache = tmp_path / "cache"
    path = write_zip(tmp_path / "p.fsproj", [
        (MANIFEST, manifest("images/0/a.png", "images/0/run.sh")), ("images/0/a.png", png()),
        ("images/0/run.sh", b"#!/bin/sh\nrm -rf ~\n"), ("run.sh", b"#!/bin/sh\n"), ("images/0/extra.png", png(3)),
        ("images/", b"")])
    project = open_project(path, cache_dir=cache)
    assert [p.name for p in project.support["a"].images] == ["a.png"]
    assert [s.path.name for s in project.skipped] == ["run.sh"] and "not an image" in project.skipped[0].reason
    written = sorted(p.relative_to(project.folder).as_posix() for p in project.folder.rglob("*") if p.is_file())
    assert written == [".complete", "0/a.png", "0/run.sh"]
    assert not any(p.stat().st_mode & 0o111 for p in project.folder.rglob("*") if p.is_file())


def test_names_that_differ_only_in_case_or_characters_land_in_different_files(tmp_path):
    """A.png and a.png would be one file on Windows and macOS; a:b.png and a_b.png one after sanitising."""
    members = ["images/0/A.png", "images/0/a.png", "images/0/a:b.png", "images/0/a_b.png"]
    data = [png(i) for i in range(4)]
    path = write_zip(tmp_path / "p.fsproj", [(MANIFEST, manifest(*members))] + list(zip(members, data)))
    project = open_project(path, cache_dir=tmp_path / "cache")
    images = project.support["a"].images
    assert [p.read_bytes() for p in images] == data
    assert len({p.name.lower() for p in images}) == 4


def test_reads_are_counted_and_bounded(tmp_path):
    path = write_zip(tmp_path / "p.zip", [("big.bin", bytes(512 * 1024)), ("small.bin", b"hello")])
    with SafeZipReader(path) as zf:
        assert zf.read("small.bin") == b"hello"
        with pytest.raises(ArchiveError, match="big.bin' is larger than 1,000 bytes"):
            zf.read("big.bin", limit=1000)
        assert len(zf.read("big.bin")) == 512 * 1024  # under the 1 MiB floor: any ratio is fine
        with zf.open("small.bin") as f:
            assert f.read(2) == b"he" and f.read() == b"llo"


def test_a_legitimate_archive_made_by_another_zip_tool_still_opens(tmp_path):
    """Folder entries, Unix modes, bzip2/LZMA and a stored manifest are all fine."""
    members = ["images/0/a.png", "images/0/b.png"]
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        path = write_zip(tmp_path / f"p{method}.fsproj", [("images/", b""), ("images/0/", b""),
                                                          (MANIFEST, manifest(*members)),
                                                          (members[0], png(1)), (members[1], png(2))], method)
        project = open_project(path, cache_dir=tmp_path / "cache")
        assert [p.read_bytes() for p in project.support["a"].images] == [png(1), png(2)]
