"""Projects keep the unlabelled pool: saved as ``unlabelled/<n>.<ext>`` members, checked like class images when
opened, restored in order; older projects without one open as before."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from imagegen import make_domain_shift, make_image_folder

from fewshot_studio.core.project import FORMAT, MANIFEST, ProjectError, open_project, save_project
from fewshot_studio.core.support import SupportSet


@pytest.fixture
def with_pool(tmp_path) -> SupportSet:
    support, pool, _ = make_domain_shift(tmp_path / "src", kinds=("circle", "square"), shots=2, unlabelled=2,
                                         queries=0, size=32)
    s, _ = SupportSet.from_folder(support)
    jpeg = pool / "photo.JPG"  # a suffix in capitals: the member keeps it in lower case
    (pool / "u_circle_0.png").rename(jpeg)
    assert not s.add_unlabelled_files([pool])
    return s


def _members(path: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(MANIFEST)), {n: zf.read(n) for n in zf.namelist() if n != MANIFEST}


def _write_zip(path: Path, manifest: dict, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_the_unlabelled_pool_moves_with_the_project_in_order(with_pool, tmp_path):
    expected = [p.read_bytes() for p in with_pool.unlabelled]
    saved = save_project(with_pool, tmp_path / "a" / "pool.fsproj")
    manifest, members = _members(saved)
    assert manifest["unlabelled"] == ["unlabelled/0.jpg", "unlabelled/1.png", "unlabelled/2.png", "unlabelled/3.png"]
    assert set(manifest["unlabelled"]) <= set(members)
    moved = tmp_path / "b" / "pool.fsproj"
    moved.parent.mkdir()
    shutil.move(saved, moved)
    shutil.rmtree(tmp_path / "src")  # the originals are gone on the "other machine"

    project = open_project(moved, cache_dir=tmp_path / "cache")
    assert [p.read_bytes() for p in project.support.unlabelled] == expected
    assert all(project.folder in p.parents for p in project.support.unlabelled)
    assert project.support.n_images == 4 and not project.skipped
    again = open_project(moved, cache_dir=tmp_path / "cache")  # the unpacked cache is reused, pool included
    assert again.support.unlabelled == project.support.unlabelled


def test_a_project_without_a_pool_writes_no_pool_and_older_projects_open_with_none(tmp_path):
    s, _ = SupportSet.from_folder(make_image_folder(tmp_path / "src", per_class=2, size=32))
    manifest, members = _members(save_project(s, tmp_path / "p.fsproj"))
    assert "unlabelled" not in manifest and not any(n.startswith("unlabelled/") for n in members)
    old = {"format": FORMAT, "version": 1, "classes": manifest["classes"]}  # as an older studio wrote it
    project = open_project(_write_zip(tmp_path / "old.fsproj", old, members), cache_dir=tmp_path / "c")
    assert project.support.unlabelled == [] and project.support.n_images == s.n_images


def test_saving_a_pool_whose_image_was_deleted_names_the_file(with_pool, tmp_path):
    gone = with_pool.unlabelled[1]
    gone.unlink()
    with pytest.raises(ProjectError, match=f"unlabelled image .*{gone.name}"):
        save_project(with_pool, tmp_path / "p.fsproj")
    assert not list(tmp_path.glob("*.fsproj*"))


@pytest.mark.parametrize("listed, stored, why", [
    (["unlabelled/../../evil.png"], {}, "unexpected unlabelled image name"),
    (["unlabelled/../../evil.png"], {"unlabelled/../../evil.png": b"x"}, "points outside its folder"),  # the archive's
    (["/abs/evil.png"], {}, "unexpected unlabelled image name"),
    (["images/0/blue.png"], {"images/0/blue.png": b"x"}, "unexpected unlabelled image name"),
    (["unlabelled/0/evil.png"], {"unlabelled/0/evil.png": b"x"}, "unexpected unlabelled image name"),
    (["unlabelled/0.png\n"], {}, "unexpected unlabelled image name"),
    (["unlabelled/photo.png"], {"unlabelled/photo.png": b"x"}, "unexpected unlabelled image name"),
    (["unlabelled/0.p/g"], {}, "unexpected unlabelled image name"),
    ([7], {}, "unexpected unlabelled image name"),
    ("unlabelled/0.png", {}, "unlabelled list is malformed"),
    (["unlabelled/0.png"], {}, "unlabelled/0.png is listed but missing"),
    (["unlabelled/0.png", "unlabelled/0.png"], {"unlabelled/0.png": b"x"}, "listed twice"),
])
def test_hostile_or_broken_pool_entries_are_refused_and_nothing_is_unpacked(with_pool, tmp_path, listed, stored,
                                                                             why):
    manifest, members = _members(save_project(with_pool, tmp_path / "p.fsproj"))
    manifest["unlabelled"] = listed
    members = {n: b for n, b in members.items() if not n.startswith("unlabelled/")} | stored
    path = _write_zip(tmp_path / "evil.fsproj", manifest, members)
    with pytest.raises(ProjectError, match="damaged") as error:
        open_project(path, cache_dir=tmp_path / "cache")
    assert why in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.png"))
    assert not (tmp_path.parent / "evil.png").exists()


def test_an_oversized_pool_member_is_refused_before_it_is_unpacked(with_pool, tmp_path, monkeypatch):
    from fewshot_studio.core import project as project_module

    manifest, members = _members(save_project(with_pool, tmp_path / "p.fsproj"))
    limit = 2 * max(len(b) for b in members.values())
    members["unlabelled/3.png"] = bytes(limit + 1)  # deflates to almost nothing: the listed size counts
    monkeypatch.setattr(project_module, "MAX_IMAGE_BYTES", limit)
    path = _write_zip(tmp_path / "big.fsproj", manifest, members)
    with pytest.raises(ProjectError, match="unlabelled/3.png is implausibly large"):
        open_project(path, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_corrupt_pool_image_is_skipped_with_the_reason_and_the_rest_kept(with_pool, tmp_path):
    manifest, members = _members(save_project(with_pool, tmp_path / "p.fsproj"))
    members["unlabelled/2.png"] = b"\x89PNG\r\n\x1a\n but cut short"
    project = open_project(_write_zip(tmp_path / "corrupt.fsproj", manifest, members), cache_dir=tmp_path / "c")
    assert [s.path.name for s in project.skipped] == ["2.png"]
    assert "damaged PNG" in project.skipped[0].reason
    assert [p.name for p in project.support.unlabelled] == ["0.jpg", "1.png", "3.png"]
    assert project.support.n_images == with_pool.n_images, "the classes are untouched"


def test_a_model_that_uses_the_pool_is_out_of_date_when_the_pool_changed(with_pool, tmp_path):
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.fingerprint import content_fingerprint

    run = AdaptRun(with_pool, "efficientnet_lite0", "prototypical", domain_adaptation="soft_kmeans", calibrate=False)
    clf = run.run()
    assert run.uses_unlabelled and clf.uses_unlabelled
    path = save_project(with_pool, tmp_path / "m.fsproj", classifier=clf, up_to_date=True)
    manifest, members = _members(path)
    assert manifest["model"]["unlabelled"] is True
    assert manifest["model"]["support"] == content_fingerprint(with_pool)
    assert open_project(path, cache_dir=tmp_path / "c").model.status == "current"
    members["unlabelled/1.png"] = members["unlabelled/2.png"]  # other bytes in the pool
    edited = open_project(_write_zip(tmp_path / "edited.fsproj", manifest, members), cache_dir=tmp_path / "c")
    assert edited.model.status == "changed"

    plain = AdaptRun(with_pool, "efficientnet_lite0", "prototypical", calibrate=False)
    plain_clf = plain.run()
    assert not plain.uses_unlabelled and not plain_clf.uses_unlabelled
    manifest, members = _members(save_project(with_pool, tmp_path / "p.fsproj", classifier=plain_clf,
                                              up_to_date=True))
    assert manifest["model"]["unlabelled"] is False
    members["unlabelled/1.png"] = members["unlabelled/2.png"]
    other_pool = open_project(_write_zip(tmp_path / "p2.fsproj", manifest, members), cache_dir=tmp_path / "c")
    assert other_pool.model.status == "current", "the pool plays no part in a model that does not use it"
