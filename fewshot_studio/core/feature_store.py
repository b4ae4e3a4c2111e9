"""The feature cache on disk: pooled backbone features of images, kept between runs and processes.

One SQLite database in WAL mode (``studio_home()/features/features.sqlite3``), one table of entries
``(key, dtype, shape, data, size, last_used)``. A key names the backbone and its weights (see
:func:`..backbones.cache.backbone_identity`) and the image's content (a sha256 of the file, or of the
decoded base tensor): a moved or copied project finds its features again, an edited image is embedded again.
Features are raw float32 bytes with their shape, never pickles. Readers and writers in several processes
are serialised by SQLite's own locking; WAL lets readers go on while one process writes.

The size is bounded (``$FEWSHOT_STUDIO_FEATURE_CACHE_MB``, default 1024; 0 turns the cache off): after
each write the least recently used entries go until the total is under the bound. A database that cannot
be read (corrupt, not a database) never breaks a run: it is deleted and made again, with one warning.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .paths import studio_home

if TYPE_CHECKING:
    import torch

ENV_CACHE_MB = "FEWSHOT_STUDIO_FEATURE_CACHE_MB"
DEFAULT_CACHE_MB = 1024
FILE_NAME = "features.sqlite3"
MSG_RECREATED = ("the feature cache at {path} could not be read ({why}); it was deleted and started afresh "
                 "(images are embedded again)")
MSG_DISABLED = "the feature cache at {path} cannot be used ({why}); images are embedded without it"
MSG_BAD_LIMIT = f"${ENV_CACHE_MB} must be a whole number of MiB (0 turns the cache off); using {DEFAULT_CACHE_MB}"

_SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, dtype TEXT NOT NULL, shape TEXT NOT NULL, "
           "data BLOB NOT NULL, size INTEGER NOT NULL, last_used REAL NOT NULL)",
           "CREATE INDEX IF NOT EXISTS entries_last_used ON entries (last_used)")
_DTYPES = {"float32": np.float32, "float16": np.float16}  # what an entry's bytes may be
_CHUNK = 500  # keys per SELECT (SQLite's limit on host parameters is 999 on old builds)


class FeatureCacheWarning(UserWarning):
    """The on-disk feature cache was unreadable and was started afresh, or cannot be used at all."""


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    entries: int
    bytes: int  # the features' bytes (the database file is a little larger)
    file_bytes: int  # the database on disk, with its WAL
    limit_bytes: int

    def as_dict(self) -> dict:
        return {"path": str(self.path), "entries": self.entries, "bytes": self.bytes,
                "file_bytes": self.file_bytes, "limit_bytes": self.limit_bytes}


def cache_limit_bytes() -> int:
    raw = os.environ.get(ENV_CACHE_MB, "").strip()
    if not raw:
        return DEFAULT_CACHE_MB * 2**20
    try:
        return max(0, int(raw)) * 2**20
    except ValueError:
        _warn_once("limit", MSG_BAD_LIMIT)
        return DEFAULT_CACHE_MB * 2**20


def cache_path() -> Path:
    return studio_home() / "features" / FILE_NAME


_warned: set[str] = set()
_warn_lock = threading.Lock()


def _warn_once(what: str, message: str) -> None:
    with _warn_lock:
        if what in _warned:
            return
        _warned.add(what)
    warnings.warn(message, FeatureCacheWarning, stacklevel=3)


class FeatureStore:
    """Features by key in one SQLite file. Every call opens its own connection, so threads and processes
    may share one store; every failure of the database is answered by "not cached"."""

    def __init__(self, path: str | os.PathLike | None = None, limit_bytes: int | None = None):
        self.path = Path(path) if path is not None else cache_path()
        self.limit_bytes = cache_limit_bytes() if limit_bytes is None else limit_bytes
        self._ready = False
        self._broken = False
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit_bytes > 0 and not self._broken

    # --- connections -------------------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 30000")
            if not self._ready:
                con.execute("PRAGMA journal_mode = WAL")
                for statement in _SCHEMA:
                    con.execute(statement)
                self._ready = True
        except BaseException:
            con.close()
            raise
        return con

    def _run(self, work, default):
        """``work(connection)``, retried once on a fresh database when this one is unreadable."""
        if not self.enabled:
            return default
        for attempt in (0, 1):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con = self._connect()
                try:
                    return work(con)
                finally:
                    con.close()
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    return default  # another process holds it past the timeout: embed instead
                if attempt or not self._recreate(exc):
                    return self._disable(exc, default)
            except (sqlite3.DatabaseError, OSError) as exc:
                if attempt or not self._recreate(exc):
                    return self._disable(exc, default)
        return default

    def _recreate(self, why: Exception) -> bool:
        with self._lock:
            self._ready = False
            try:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            except OSError:
                return False
        _warn_once("recreated", MSG_RECREATED.format(path=self.path, why=why))
        return True

    def _disable(self, why: Exception, default):
        self._broken = True
        _warn_once("disabled", MSG_DISABLED.format(path=self.path, why=why))
        return default

    # --- entries -----------------------------------------------------------------------------------------------
    def get_many(self, keys: list[str]) -> list[torch.Tensor | None]:
        """The features stored under each key (float32 CPU tensors), None where not stored."""
        if not keys or not self.enabled:
            return [None] * len(keys)

        def work(con):
            found: dict[str, torch.Tensor] = {}
            bad: list[str] = []
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, dtype, shape, data in con.execute(
                        f"SELECT key, dtype, shape, data FROM entries WHERE key IN ({marks})", chunk):
                    tensor = _decode(dtype, shape, data)
                    if tensor is None:
                        bad.append(key)
                    else:
                        found[key] = tensor
            if found or bad:
                con.execute("BEGIN IMMEDIATE")
                try:
                    now = time.time()
                    con.executemany("UPDATE entries SET last_used = ? WHERE key = ?", [(now, k) for k in found])
                    con.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in bad])
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            return [found.get(k) for k in keys]

        return self._run(work, [None] * len(keys))

    def put_many(self, items: list[tuple[str, torch.Tensor]]) -> None:
        """Store features (any float tensor; kept as float32) under their keys, then keep within the bound."""
        if not items or not self.enabled:
            return
        rows = []
        for key, tensor in items:
            array = np.ascontiguousarray(tensor.detach().float().cpu().numpy())
            data = array.tobytes()
            rows.append((key, "float32", ",".join(map(str, array.shape)), data, len(data)))

        def work(con):
            con.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                con.executemany("INSERT OR REPLACE INTO entries (key, dtype, shape, data, size, last_used) "
                                "VALUES (?, ?, ?, ?, ?, ?)", [(*r, now) for r in rows])
                _evict(con, self.limit_bytes)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

        self._run(work, None)

    def info(self) -> CacheInfo:
        def work(con):
            n, total = con.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries").fetchone()
            return int(n), int(total)

        exists = self.path.exists()
        n, total = self._run(work, (0, 0)) if exists and self.enabled else (0, 0)
        file_bytes = sum(Path(f"{self.path}{s}").stat().st_size for s in ("", "-wal")
                         if Path(f"{self.path}{s}").exists())
        return CacheInfo(self.path, n, total, file_bytes, self.limit_bytes)

    def clear(self) -> None:
        """Delete every entry and the database files (a process using the store at the time makes it again)."""
        with self._lock:
            self._ready = False
            self._broken = False
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError:  # held open elsewhere (Windows): empty it instead
            self._run(lambda con: con.execute("DELETE FROM entries"), None)


def _evict(con: sqlite3.Connection, limit: int) -> None:
    """Delete the least recently used entries until the total size is within ``limit``."""
    (total,) = con.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()
    if total <= limit:
        return
    excess = total - limit
    doomed, freed = [], 0
    for key, size in con.execute("SELECT key, size FROM entries ORDER BY last_used ASC, rowid ASC"):
        if freed >= excess:
            break
        doomed.append((key,))
        freed += size
    con.executemany("DELETE FROM entries WHERE key = ?", doomed)


def _decode(dtype: str, shape: str, data: bytes) -> torch.Tensor | None:
    import torch  # deferred: the cache command lists and clears without torch

    kind = _DTYPES.get(dtype)
    try:
        dims = tuple(int(s) for s in shape.split(",") if s)
    except ValueError:
        return None
    if kind is None or not isinstance(data, bytes):
        return None
    count = int(np.prod(dims)) if dims else 1
    if count * np.dtype(kind).itemsize != len(data):
        return None
    return torch.from_numpy(np.frombuffer(data, dtype=kind).copy().reshape(dims)).float()


_store: FeatureStore | None = None
_store_lock = threading.Lock()


def feature_store() -> FeatureStore:
    """The process's store for the current studio folder and size bound (made again when either changes)."""
    global _store
    path, limit = cache_path(), cache_limit_bytes()
    with _store_lock:
        if _store is None or _store.path != path or _store.limit_bytes != limit:
            _store = FeatureStore(path, limit)
        return _store
