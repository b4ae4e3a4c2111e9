"""Project files: save a support set with its images, move the file elsewhere, open it, get the same set."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from imagegen import make_image_folder

from fewshot_studio.core.project import (FORMAT, MANIFEST, MODEL_MEMBER, ProjectError, open_project,
                                         projects_cache_dir, save_project)
from fewshot_studio.core.support import SupportSet


@pytest.fixture
def support(tmp_path) -> SupportSet:
    root = make_image_folder(tmp_path / "src", per_class=3, size=32)
    s, skipped = SupportSet.from_folder(root)
    assert not skipped
    return s


def _bytes_by_class(s: SupportSet) -> list[tuple[str, list[bytes]]]:
    return [(c.name, [Path(p).read_bytes() for p in c.images]) for c in s.classes]


def test_a_project_moves_to_another_machine_with_its_images(support, tmp_path):
    support.rename_class("red_circle", "Röd cirkel ⭕")  # any name survives
    expected = _bytes_by_class(support)
    saved = save_project(support, tmp_path / "a" / "shapes.fsproj", settings={"method": "linear_probe"})

    moved = tmp_path / "elsewhere" / "shapes.fsproj"
    moved.parent.mkdir()
    shutil.copy(saved, moved)
    shutil.rmtree(tmp_path / "src")  # the original images are gone on the "other machine"
    saved.unlink()

    project = open_project(moved)
    assert project.support.class_names == ["blue_square", "green_triangle", "Röd cirkel ⭕"]
    assert _bytes_by_class(project.support) == expected
    assert project.settings == {"method": "linear_probe"}
    assert not project.skipped
    assert all(projects_cache_dir() in Path(p).parents for p, _ in project.support.samples())


def test_reopening_reuses_the_unpacked_images_and_repairs_a_damaged_cache(support, tmp_path):
    path = save_project(support, tmp_path / "p.fsproj")
    first = open_project(path)
    again = open_project(path)
    assert again.folder == first.folder
    assert again.support.samples() == first.support.samples()
    victim = first.support.classes[0].images[0]
    victim.unlink()
    repaired = open_project(path)
    assert victim.is_file()
    assert _bytes_by_class(repaired.support) == _bytes_by_class(first.support)


def test_images_with_the_same_file_name_in_one_class_are_all_kept(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    make_image_folder(a, classes=("red_circle",), per_class=1, size=32, seed=1)
    make_image_folder(b, classes=("red_circle",), per_class=1, size=32, seed=2)
    same = [a / "red_circle" / "red_circle_0.png", b / "red_circle" / "red_circle_0.png"]
    s = SupportSet([("x", same), ("y", [same[0]])])
    project = open_project(save_project(s, tmp_path / "dup.fsproj"))
    assert [p.read_bytes() for p in project.support["x"].images] == [p.read_bytes() for p in same]
    assert len({p.name for p in project.support["x"].images}) == 2


def test_saving_a_project_whose_image_was_deleted_names_the_file(support, tmp_path):
    gone = support.classes[1].images[0]
    gone.unlink()
    with pytest.raises(ProjectError, match=f"{gone.name}.*green_triangle"):
        save_project(support, tmp_path / "p.fsproj")
    assert not list(tmp_path.glob("*.fsproj*")), "no half-written file is left"


def test_a_failed_save_keeps_the_previous_file(support, tmp_path):
    path = save_project(support, tmp_path / "p.fsproj")
    before = path.read_bytes()
    support.classes[0].images[0].unlink()
    with pytest.raises(ProjectError):
        save_project(support, path)
    assert path.read_bytes() == before


def _write_zip(path: Path, manifest: dict | None, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        if manifest is not None:
            zf.writestr(MANIFEST, json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("member", ["../evil.png", "images/0/../../evil.png", "/abs/evil.png", "images/x/a.png",
                                    "images/0/sub/a.png", "images/0/.."])
def test_member_names_that_could_escape_the_cache_are_refused(tmp_path, member):
    manifest = {"format": FORMAT, "version": 1, "classes": [{"name": "a", "images": [member]}]}
    path = _write_zip(tmp_path / "evil.fsproj", manifest, {member: b"x"})
    with pytest.raises(ProjectError, match="damaged"):
        open_project(path, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "evil.png").exists()
    assert not any((tmp_path / "cache").rglob("*.png")) if (tmp_path / "cache").exists() else True


def test_files_that_are_not_projects_say_so(tmp_path):
    text = tmp_path / "notes.fsproj"
    text.write_text("hello")
    with pytest.raises(ProjectError, match="not a Few-shot Studio project"):
        open_project(text)
    plain_zip = _write_zip(tmp_path / "plain.fsproj", None, {"a.txt": b"x"})
    with pytest.raises(ProjectError, match="no project.json"):
        open_project(plain_zip)
    foreign = _write_zip(tmp_path / "foreign.fsproj", {"format": "something-else"}, {})
    with pytest.raises(ProjectError, match="unknown format"):
        open_project(foreign)
    with pytest.raises(ProjectError, match="not found"):
        open_project(tmp_path / "missing.fsproj")


def test_a_project_from_a_newer_studio_asks_for_an_upgrade(tmp_path):
    path = _write_zip(tmp_path / "new.fsproj", {"format": FORMAT, "version": 99, "classes": []}, {})
    with pytest.raises(ProjectError, match="newer Few-shot Studio.*upgrade"):
        open_project(path)


def test_a_listed_image_missing_from_the_archive_is_reported(tmp_path):
    manifest = {"format": FORMAT, "version": 1, "classes": [{"name": "a", "images": ["images/0/a.png"]}]}
    path = _write_zip(tmp_path / "p.fsproj", manifest, {})
    with pytest.raises(ProjectError, match="images/0/a.png is listed but missing"):
        open_project(path)


def test_unusable_images_inside_a_project_are_skipped_with_the_reason(support, tmp_path):
    path = save_project(support, tmp_path / "p.fsproj")
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != MANIFEST}
        data = json.loads(zf.read(MANIFEST))
    data["classes"][0]["images"].append("images/0/broken.png")
    members["images/0/broken.png"] = b"not really a png"
    project = open_project(_write_zip(tmp_path / "edited.fsproj", data, members))
    assert [s.path.name for s in project.skipped] == ["broken.png"]
    assert "not an image" in project.skipped[0].reason
    assert len(project.support.classes[0].images) == 3


# --- projects keep their model -----------------------------------------------------------------------------------
def _probs(clf, paths):
    predictions, _ = clf.predict(paths, top_k=3)
    return [(p.label, [round(s, 5) for _, s in p.top_k]) for p in predictions]


@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    from imagegen import make_queries

    from fewshot_studio.core.engine import AdaptRun

    root = tmp_path_factory.mktemp("with-model")
    support, _ = SupportSet.from_folder(make_image_folder(root / "src", per_class=3, size=48))
    queries = sorted(make_queries(root / "q", per_class=1, size=48))
    return support, AdaptRun(support, "efficientnet_lite0", "prototypical").run(), queries


def test_a_project_keeps_its_model_across_machines_and_says_it_is_current(adapted, tmp_path):
    support, clf, queries = adapted
    state = {"seconds": 0.4, "method": "prototypical"}
    saved = save_project(support, tmp_path / "a" / "m.fsproj", {"method": "prototypical"}, classifier=clf,
                         up_to_date=True, model_state=state)
    with zipfile.ZipFile(saved) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        assert MODEL_MEMBER in zf.namelist()
    assert manifest["version"] == 1, "old readers still open it: they ignore what they do not list"
    assert manifest["model"]["file"] == MODEL_MEMBER and manifest["model"]["support"]
    moved = tmp_path / "b" / "m.fsproj"
    moved.parent.mkdir()
    shutil.move(saved, moved)

    project = open_project(moved, cache_dir=tmp_path / "cache")
    assert project.model is not None and project.model.status == "current"
    assert project.model.state == state and not project.model_problem
    again = project.load_model()
    assert again.class_names == clf.class_names
    assert _probs(again, queries) == _probs(clf, queries)
    unpacked = [str(p) for p, _ in project.support.samples()]
    assert again.support_paths == unpacked, "nearest examples show the project's own images"
    assert all(Path(p).is_file() for p in again.support_paths)


def test_a_project_whose_images_changed_says_its_model_is_out_of_date(adapted, tmp_path):
    support, clf, _ = adapted
    path = save_project(support, tmp_path / "m.fsproj", classifier=clf, up_to_date=True)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != MANIFEST}
        data = json.loads(zf.read(MANIFEST))
    first = data["classes"][0]["images"][0]
    members[first] = Path(support.classes[1].images[0]).read_bytes()  # same name and layout, other bytes
    project = open_project(_write_zip(tmp_path / "edited.fsproj", data, members), cache_dir=tmp_path / "c")
    assert project.model.status == "changed"

    stale = open_project(save_project(support, tmp_path / "s.fsproj", classifier=clf, up_to_date=False),
                         cache_dir=tmp_path / "c")
    assert stale.model.status == "changed", "saved after the support set changed"
    loaded = open_project(save_project(support, tmp_path / "l.fsproj", classifier=clf), cache_dir=tmp_path / "c")
    assert loaded.model.status == "unknown", "a model loaded from a file: nothing to compare with"


def test_the_content_fingerprint_ignores_paths_and_times_but_not_bytes_or_names(support, tmp_path):
    from fewshot_studio.core.fingerprint import content_fingerprint, support_fingerprint

    copy = tmp_path / "copy"
    shutil.copytree(support.classes[0].images[0].parents[1], copy)  # new paths, new modification times
    again, _ = SupportSet.from_folder(copy)
    assert support_fingerprint(again) != support_fingerprint(support)
    assert content_fingerprint(again) == content_fingerprint(support)
    again.rename_class(again.class_names[0], "renamed")
    assert content_fingerprint(again) != content_fingerprint(support)
    other, _ = SupportSet.from_folder(copy)
    target = other.classes[0].images[0]
    target.write_bytes(Path(other.classes[0].images[1]).read_bytes())
    assert content_fingerprint(other) != content_fingerprint(support)


def test_a_project_without_a_model_opens_as_before(support, tmp_path):
    project = open_project(save_project(support, tmp_path / "p.fsproj"))
    assert project.model is None and project.load_model() is None and not project.model_problem


@pytest.mark.parametrize("entry, members, why", [
    ({"file": "../model.safetensors"}, {}, "malformed model entry"),
    ({"file": MODEL_MEMBER}, {}, "listed but missing"),
])
def test_a_damaged_model_entry_leaves_the_images_usable_and_says_adapt_again(support, tmp_path, entry, members, why):
    path = save_project(support, tmp_path / "p.fsproj")
    with zipfile.ZipFile(path) as zf:
        kept = {n: zf.read(n) for n in zf.namelist() if n != MANIFEST}
        data = json.loads(zf.read(MANIFEST))
    data["model"] = entry
    project = open_project(_write_zip(tmp_path / "bad.fsproj", data, {**kept, **members}), cache_dir=tmp_path / "c")
    assert project.model is None
    assert why in project.model_problem and "adapt again" in project.model_problem
    assert project.support.n_images == support.n_images


def test_a_model_member_that_is_a_pickle_is_refused_by_the_model_loader(support, tmp_path):
    import io

    import torch

    from fewshot_studio.core.errors import ModelFileError

    path = save_project(support, tmp_path / "p.fsproj")
    with zipfile.ZipFile(path) as zf:
        kept = {n: zf.read(n) for n in zf.namelist() if n != MANIFEST}
        data = json.loads(zf.read(MANIFEST))
    data["model"] = {"file": MODEL_MEMBER, "support": None}
    buffer = io.BytesIO()
    torch.save({"head.weight": torch.zeros(2, 2)}, buffer)  # a PyTorch pickle, not the engine's format
    pickled = buffer.getvalue()
    project = open_project(_write_zip(tmp_path / "evil.fsproj", data, {**kept, MODEL_MEMBER: pickled}),
                           cache_dir=tmp_path / "c")
    with pytest.raises(ModelFileError, match="not a readable model file"):
        project.load_model()
