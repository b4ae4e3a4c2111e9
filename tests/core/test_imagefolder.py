"""A support set written as an ImageFolder tree: the import gives it back, and nothing is ever lost."""

from __future__ import annotations

import shutil

import pytest
from imagegen import make_image_folder

from fewshot_studio.core import imagefolder
from fewshot_studio.core.errors import SupportSetError
from fewshot_studio.core.imagefolder import export_image_folder, import_image_folder
from fewshot_studio.core.support import SupportSet


@pytest.fixture
def awkward(tmp_path) -> SupportSet:
    """Two images with one name in a class, a hidden file name, class names that are not folder names."""
    a = make_image_folder(tmp_path / "a", per_class=2, size=32)
    b = make_image_folder(tmp_path / "b", per_class=1, size=32, seed=5)
    hidden = tmp_path / "a" / ".hidden.png"
    shutil.copy(a / "red_circle" / "red_circle_0.png", hidden)
    return SupportSet([
        ("circles", [a / "red_circle" / "red_circle_0.png", b / "red_circle" / "red_circle_0.png", hidden]),
        ("a/b: squares?", sorted((a / "blue_square").iterdir())),
        ("..", sorted((a / "green_triangle").iterdir())),
        ("Circles", [a / "red_circle" / "red_circle_1.png"]),  # same folder as "circles" on Windows and macOS
    ])


def contents(support: SupportSet) -> dict[str, list[bytes]]:
    return {c.name: sorted(p.read_bytes() for p in c.images) for c in support.classes}


def test_export_then_import_gives_the_same_classes_and_images(tmp_path):
    support, _ = SupportSet.from_folder(make_image_folder(tmp_path / "src", per_class=3, size=32))
    result = export_image_folder(support, tmp_path / "out")
    assert not result.renamed and len(result.files) == 9
    again, skipped = import_image_folder(tmp_path / "out")
    assert not skipped
    assert contents(again) == contents(support)
    assert [sorted(p.name for p in c.images) for c in again.classes] == \
        [sorted(p.name for p in c.images) for c in support.classes]


def test_awkward_names_are_made_safe_reported_and_nothing_is_lost(tmp_path, awkward):
    result = export_image_folder(awkward, tmp_path / "out")
    folders = dict(result.classes)
    assert folders == {"circles": "circles", "a/b: squares?": "a_b_ squares_", "..": "class 3",
                       "Circles": "Circles (2)"}
    assert sorted(p.name for p in (tmp_path / "out" / "circles").iterdir()) == \
        ["hidden.png", "red_circle_0 (2).png", "red_circle_0.png"]
    assert len(result.renamed) == 5  # three class folders, the second red_circle_0.png, .hidden.png
    again, skipped = import_image_folder(tmp_path / "out")
    assert not skipped and again.n_images == awkward.n_images
    back = contents(again)
    for name, files in contents(awkward).items():
        assert back[folders[name]] == files


def test_target_must_be_new_or_empty_and_sources_present(tmp_path, awkward):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(SupportSetError, match="is not empty; choose a new or empty folder"):
        export_image_folder(awkward, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(SupportSetError, match="is a file, not a folder"):
        export_image_folder(awkward, tmp_path / "file")
    gone = awkward.classes[0].images[0]
    gone.unlink()
    with pytest.raises(SupportSetError, match="no longer exists"):
        export_image_folder(awkward, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_unwritable_target_is_a_clear_error_and_leaves_nothing_behind(tmp_path, awkward, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SupportSetError, match="cannot write to .*choose a folder you can write to"):
        export_image_folder(awkward, tmp_path / "file" / "out")
    # a copy that fails half-way (disk full): what was written is removed, the sources are untouched
    calls = []

    def copy_then_fail(src, dst):
        calls.append(src)
        if len(calls) > 3:
            raise OSError(28, "No space left on device")
        return shutil.copyfile(src, dst)

    monkeypatch.setattr(imagefolder.shutil, "copy2", copy_then_fail)
    before = contents(awkward)
    with pytest.raises(SupportSetError, match="No space left on device"):
        export_image_folder(awkward, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert contents(awkward) == before
