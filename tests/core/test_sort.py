"""core/sort.py: one folder per class, an unsure folder, never overwriting, moves that never lose a file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from imagegen import make_image_folder, make_queries

from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.openset import OpenSetRule
from fewshot_studio.core.sort import FileSorted, SortError, SortRun, folder_name, read_report
from fewshot_studio.core.support import SupportSet


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    root = tmp_path_factory.mktemp("sort-support")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", per_class=3, size=64))
    return AdaptRun(support, "efficientnet_lite0", "prototypical").run()


@pytest.fixture
def inbox(tmp_path) -> tuple[Path, dict[Path, str]]:
    truth = make_queries(tmp_path / "inbox", per_class=2, size=64)
    (tmp_path / "inbox" / "notes.txt").write_text("not an image")
    return tmp_path / "inbox", truth


def test_copy_sorts_into_class_folders_and_reports(classifier, inbox, tmp_path):
    folder, truth = inbox
    out, report = tmp_path / "out", tmp_path / "report.csv"
    run = SortRun(classifier, [folder], out, csv_path=report)
    events = list(run)
    result = run.result
    assert [e.done for e in events if isinstance(e, FileSorted)] == list(range(1, 8))
    for path, label in truth.items():
        assert path.exists()  # copied, not moved
        assert (out / label / path.name).read_bytes() == path.read_bytes()
    assert result.counts == {"blue_square": 2, "green_triangle": 2, "red_circle": 2, "skipped": 1}
    rows = read_report(report)
    assert len(rows) == 7 and set(rows[0]) == {"path", "destination", "label", "confidence", "action", "reason"}
    skipped = [r for r in rows if r["action"] == "skipped"]
    assert len(skipped) == 1 and skipped[0]["path"].endswith("notes.txt") and skipped[0]["destination"] == ""
    copied = [r for r in rows if r["action"] == "copied"]
    assert all(Path(r["destination"]).exists() and 0 < float(r["confidence"]) <= 1 for r in copied)


def test_never_overwrites_numbered_names_and_dry_run_touches_nothing(classifier, inbox, tmp_path):
    folder, truth = inbox
    out = tmp_path / "out"
    SortRun(classifier, [folder], out).run()
    before = sorted(p for p in out.rglob("*"))
    dry = SortRun(classifier, [folder], out, dry_run=True).run()
    assert sorted(p for p in out.rglob("*")) == before
    assert {r.action for r in dry.rows} == {"would copy", "skipped"}
    assert all(Path(r.destination).stem.endswith(" 2") for r in dry.rows if r.destination)
    SortRun(classifier, [folder], out).run()
    for path, label in truth.items():
        assert (out / label / path.name).exists() and (out / label / f"{path.stem} 2{path.suffix}").exists()


def test_below_the_confidence_or_rejected_goes_to_unsure(classifier, inbox, tmp_path):
    folder, truth = inbox
    result = SortRun(classifier, [folder], tmp_path / "a", min_confidence=1.0).run()
    assert result.counts == {"skipped": 1, "unsure": 6}
    assert all(r.reason == "confidence below 100%" for r in result.rows if r.destination)
    classifier.open_set = OpenSetRule(threshold=1.01, enabled=True)  # rejects everything
    try:
        result = SortRun(classifier, [folder], tmp_path / "b").run()
    finally:
        classifier.open_set = None
    assert result.counts["unsure"] == 6 and {r.reason for r in result.rows if r.destination} == {"none of these"}


def test_move_across_file_systems_copies_verifies_then_deletes(classifier, inbox, tmp_path, monkeypatch):
    folder, truth = inbox
    originals = {p.name: p.read_bytes() for p in truth}

    def cross_device(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    result = SortRun(classifier, [folder], tmp_path / "out", mode="move").run()
    assert {r.action for r in result.rows} == {"moved", "skipped"}
    for path, label in truth.items():
        assert not path.exists() and (tmp_path / "out" / label / path.name).read_bytes() == originals[path.name]
    assert (folder / "notes.txt").exists()


def test_link_mode_and_cancel(classifier, inbox, tmp_path):
    folder, truth = inbox
    SortRun(classifier, [folder], tmp_path / "links", mode="link").run()
    links = [p for p in (tmp_path / "links").rglob("*.png")]
    assert len(links) == 6 and all(p.is_symlink() and p.resolve() in {t.resolve() for t in truth} for p in links)
    run = SortRun(classifier, [folder], tmp_path / "c", batch_size=1)
    for event in run:
        if isinstance(event, FileSorted) and event.row.destination:
            run.cancel()
    assert run.result.cancelled and run.result.sorted_files == 1
    assert len(list((tmp_path / "c").rglob("*.png"))) == 1


def test_refusals(classifier, inbox, tmp_path):
    folder, _ = inbox
    with pytest.raises(SortError, match="inside the input folder"):
        SortRun(classifier, [folder], folder / "sorted")
    with pytest.raises(SortError, match="inside the input folder"):
        SortRun(classifier, [folder], folder)
    with pytest.raises(SortError, match="not found"):
        SortRun(classifier, [tmp_path / "missing"], tmp_path / "out")
    with pytest.raises(SortError, match="between 0 and 1"):
        SortRun(classifier, [folder], tmp_path / "out", min_confidence=60)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SortError, match="no image to sort"):
        SortRun(classifier, [tmp_path / "empty"], tmp_path / "out").run()


def test_class_names_become_safe_distinct_folders():
    assert folder_name("cats/dogs") == "cats_dogs" and folder_name("..") == "class"
