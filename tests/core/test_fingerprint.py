"""The support set's fingerprint tells whether a model adapted on it is out of date."""

from __future__ import annotations

import os

from fewshot_studio.core.fingerprint import support_fingerprint
from fewshot_studio.core.support import SupportSet


def test_the_fingerprint_changes_with_classes_images_and_their_files(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    support = SupportSet([("cat", [a]), ("dog", [b])])
    first = support_fingerprint(support)
    assert support_fingerprint(SupportSet([("cat", [a]), ("dog", [b])])) == first
    assert support_fingerprint(SupportSet([("dog", [b]), ("cat", [a])])) != first  # order of classes
    assert support_fingerprint(SupportSet([("kitten", [a]), ("dog", [b])])) != first  # a renamed class
    assert support_fingerprint(SupportSet([("cat", [a, b]), ("dog", [])])) != first  # an image moved
    a.write_bytes(b"three")  # the same file, rewritten
    os.utime(a, ns=(1, 1))
    assert support_fingerprint(support) != first
    a.unlink()
    assert support_fingerprint(support) != first
