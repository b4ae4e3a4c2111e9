"""Support sets: editing, validation messages, ImageFolder import, JSON round trip."""

from __future__ import annotations

import json

import pytest
from imagegen import make_image_folder
from PIL import Image

from fewshot_studio.core.errors import SupportSetError
from fewshot_studio.core.support import SupportSet


def test_editing_keeps_order_and_emits_changed(tmp_path):
    s = SupportSet()
    seen = []
    s.changed.connect(lambda: seen.append(s.class_names))
    s.add_class("cat", [tmp_path / "c1.png"])
    s.add_class("dog")
    s.add_class()  # gets a free name
    assert s.class_names == ["cat", "dog", "class 3"]
    s.rename_class("class 3", "bird")
    s.move_class("bird", 0)
    assert s.class_names == ["bird", "cat", "dog"]
    s.add_images("dog", [tmp_path / "d1.png", tmp_path / "d1.png", tmp_path / "d2.png"])
    assert [p.name for p in s["dog"].images] == ["d1.png", "d2.png"]
    s.move_image(tmp_path / "d2.png", "dog", "cat")
    assert [p.name for p in s["cat"].images] == ["c1.png", "d2.png"]
    s.remove_images("cat", [tmp_path / "c1.png"])
    s.remove_class("bird")
    assert s.class_names == ["cat", "dog"]
    assert s.samples() == [(tmp_path / "d2.png", 0), (tmp_path / "d1.png", 1)]
    assert len(seen) == 9


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.add_class("cat"), "already a class called 'cat'"),
    (lambda s: s.add_class("   "), "cannot be empty"),
    (lambda s: s.rename_class("dog", "cat"), "already a class called 'cat'"),
    (lambda s: s.remove_class("fish"), "no class called 'fish'"),
])
def test_bad_edits_are_refused_with_a_message(edit, message):
    s = SupportSet([("cat", []), ("dog", [])])
    with pytest.raises(SupportSetError, match=message):
        edit(s)
    assert s.class_names == ["cat", "dog"]


def test_validation_says_what_to_fix(tmp_path):
    s = SupportSet([("cat", [tmp_path / "a.png"])])
    with pytest.raises(SupportSetError, match="at least 2 classes"):
        s.validate()
    s.add_class("dog")
    with pytest.raises(SupportSetError, match="class 'dog' has no images"):
        s.validate()
    s.add_images("dog", [tmp_path / "b.png"])
    s.validate()


def test_from_folder_one_class_per_subfolder_and_reports_skips(tmp_path):
    root = make_image_folder(tmp_path / "set", per_class=3)
    (root / "red_circle" / "notes.txt").write_text("x")
    (root / "stray.png").write_bytes(b"")
    (root / "empty_class").mkdir()
    s, skipped = SupportSet.from_folder(root)
    assert s.class_names == ["blue_square", "empty_class", "green_triangle", "red_circle"]
    assert [len(c.images) for c in s.classes] == [3, 0, 3, 3]
    assert {x.path.name for x in skipped} == {"notes.txt", "stray.png"}
    with pytest.raises(SupportSetError, match="'empty_class' has no images"):
        s.validate()


def test_from_folder_without_subfolders_explains_the_layout(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    with pytest.raises(SupportSetError, match="sub-folder"):
        SupportSet.from_folder(tmp_path)
    with pytest.raises(SupportSetError, match="not found"):
        SupportSet.from_folder(tmp_path / "missing")


def test_add_files_skips_bad_files_and_keeps_the_rest(tmp_path):
    root = make_image_folder(tmp_path / "set", per_class=2)
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    s = SupportSet([("a", [])])
    skipped = s.add_files("a", [bad, *sorted((root / "red_circle").iterdir())])
    assert [x.path for x in skipped] == [bad]
    assert len(s["a"].images) == 2


def test_json_round_trip_with_relative_paths(tmp_path):
    root = make_image_folder(tmp_path / "set", per_class=2)
    s, _ = SupportSet.from_folder(root)
    path = tmp_path / "support.json"
    s.save(path)
    data = json.loads(path.read_text())
    assert data["classes"][0]["images"][0].startswith("set/")
    again = SupportSet.load(path)
    assert again.class_names == s.class_names
    assert [c.images for c in again.classes] == [[p.resolve() for p in c.images] for c in s.classes]


def test_json_errors(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(SupportSetError, match="not a Few-shot Studio support set"):
        SupportSet.load(path)
    path.write_text(json.dumps({"format": "fewshot-studio-support-set", "version": 99, "classes": []}))
    with pytest.raises(SupportSetError, match="newer Few-shot Studio"):
        SupportSet.load(path)
    with pytest.raises(SupportSetError, match="cannot write"):
        SupportSet([("a", [])]).save(tmp_path / "x.json" / "sub.json")
