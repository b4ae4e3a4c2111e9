"""Whether a model is out of date: a fingerprint of the support set it was adapted on.

Two support sets have the same fingerprint when they have the same classes, in the same order, with the
same image files, each of the same size and modification time: a model adapted on one is up to date for
the other.
"""

from __future__ import annotations

import hashlib
import os

from .support import SupportSet


def _stat(path) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:  # gone or unreadable: still a fingerprint, and a different one once it is back
        return -1, -1
    return st.st_size, st.st_mtime_ns


def support_fingerprint(support: SupportSet) -> str:
    """A hex digest of the class names, their image paths, the unlabelled pool's paths, and each file's size
    and modification time."""
    h = hashlib.sha256()
    for cls in support.classes:
        h.update(b"\x00class\x00" + cls.name.encode("utf-8", "surrogatepass"))
        for path in cls.images:
            size, mtime = _stat(path)
            h.update(f"\x00{os.fspath(path)}\x00{size}\x00{mtime}".encode("utf-8", "surrogatepass"))
    if support.unlabelled:  # only when there is a pool, so that fingerprints of sets without one stay as they were
        h.update(b"\x00unlabelled")
        for path in support.unlabelled:
            size, mtime = _stat(path)
            h.update(f"\x00{os.fspath(path)}\x00{size}\x00{mtime}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()
