"""fewshot-studio sort as a user runs it: copy, move, link, dry run, the CSV report, unsure, refusals."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from clihelp import assert_one_line_error, cli
from imagegen import make_image_folder, make_queries


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sort-cli")
    support = make_image_folder(root / "support", per_class=3, size=64)
    cli("adapt", support, "--algorithm", "prototypical", "-o", root / "m.safetensors", "--quiet")
    return root / "m.safetensors"


@pytest.fixture
def inbox(tmp_path) -> tuple[Path, dict[Path, str]]:
    return tmp_path / "inbox", make_queries(tmp_path / "inbox", per_class=2, size=64)


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_copy_with_report_then_again_never_overwrites(model, inbox, tmp_path):
    folder, truth = inbox
    out, report = tmp_path / "out", tmp_path / "report.csv"
    run = cli("sort", model, folder, out, "--csv", report)
    assert f"copied 6 of 6 files into {out}: blue_square 2, green_triangle 2, red_circle 2" in run.stdout
    for path, label in truth.items():
        assert path.exists() and (out / label / path.name).read_bytes() == path.read_bytes()
    table = rows(report)
    assert [r["action"] for r in table] == ["copied"] * 6
    assert {Path(r["path"]).name: r["label"] for r in table} == {p.name: label for p, label in truth.items()}
    cli("sort", model, folder, out, "--quiet")
    for path, label in truth.items():
        assert (out / label / f"{path.stem} 2{path.suffix}").read_bytes() == path.read_bytes()


def test_dry_run_move_and_link(model, inbox, tmp_path):
    folder, truth = inbox
    dry = cli("sort", model, folder, tmp_path / "out", "--move", "--dry-run", "--csv", tmp_path / "r.csv")
    assert "would have moved 6 of 6 files" in dry.stdout and not (tmp_path / "out").exists()
    assert all(p.exists() for p in truth) and {r["action"] for r in rows(tmp_path / "r.csv")} == {"would move"}
    cli("sort", model, folder, tmp_path / "links", "--link")
    assert all((tmp_path / "links" / label / p.name).is_symlink() for p, label in truth.items())
    moved = cli("sort", model, folder, tmp_path / "out", "--move")
    assert "moved 6 of 6 files" in moved.stdout
    for path, label in truth.items():
        assert not path.exists() and (tmp_path / "out" / label / path.name).is_file()


def test_below_min_confidence_goes_to_unsure(model, inbox, tmp_path):
    folder, truth = inbox
    run = cli("sort", model, folder, tmp_path / "out", "--min-confidence", "100", "--csv", tmp_path / "r.csv")
    assert "copied 6 of 6 files" in run.stdout and "unsure 6" in run.stdout
    assert len(list((tmp_path / "out" / "unsure").iterdir())) == 6
    assert {r["reason"] for r in rows(tmp_path / "r.csv")} == {"confidence below 100%"}


def test_refusals_are_one_line(model, inbox, tmp_path):
    folder, _ = inbox
    assert_one_line_error(cli("sort", model, folder, folder / "sorted", check_rc=None), "inside the input folder")
    assert_one_line_error(cli("sort", model, folder, check_rc=None), "sort MODEL IN... OUT_DIR")
    assert_one_line_error(cli("sort", model, tmp_path / "nope", tmp_path / "out", check_rc=None), "not found")
    both = cli("sort", model, folder, tmp_path / "o", "--link", "--move", check_rc=None)  # argparse's usage error
    assert both.returncode == 2 and "argument --move: not allowed with argument --link" in both.stderr
    assert not (tmp_path / "out").exists() and not (folder / "sorted").exists()


def test_a_project_with_its_model_sorts_too(inbox, tmp_path):
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.project import save_project
    from fewshot_studio.core.support import SupportSet

    folder, truth = inbox
    support, _ = SupportSet.from_folder(make_image_folder(tmp_path / "support", per_class=3, size=64))
    clf = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    project = save_project(support, tmp_path / "shapes.fsproj", classifier=clf, up_to_date=True)
    run = cli("sort", project, folder, tmp_path / "out", "--min-confidence", "0.2")
    assert "copied 6 of 6 files" in run.stdout
    assert all((tmp_path / "out" / label / path.name).is_file() for path, label in truth.items())
    bare = save_project(support, tmp_path / "bare.fsproj")
    assert_one_line_error(cli("sort", bare, folder, tmp_path / "out2", check_rc=None), "this project has no model")
