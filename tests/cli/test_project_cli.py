"""``predict PROJECT.fsproj IMAGES``: a project saved with its model classifies from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import assert_one_line_error, cli
from imagegen import make_image_folder, make_queries

from fewshot_studio.core.project import save_project
from fewshot_studio.core.support import SupportSet


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from fewshot_studio.core.engine import AdaptRun

    root = tmp_path_factory.mktemp("project-cli")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", per_class=4, size=64))
    truth = make_queries(root / "query", per_class=2, size=64)
    clf = AdaptRun(support, "efficientnet_lite0", "linear_probe", {"steps": 20}).run()
    return root, support, clf, truth


def test_predict_uses_the_model_a_project_keeps(saved):
    root, support, clf, truth = saved
    project = save_project(support, root / "shapes.fsproj", classifier=clf, up_to_date=True)
    out = cli("predict", project, *truth, "--json")
    rows = json.loads(out.stdout)
    assert [r["label"] for r in rows] == [truth[Path(r["path"])] for r in rows]
    assert "warning" not in out.stderr

    stale = save_project(support, root / "stale.fsproj", classifier=clf, up_to_date=False)
    out = cli("predict", stale, *list(truth)[:1], "--json")
    assert len(json.loads(out.stdout)) == 1
    assert "the support set changed since this model was adapted" in out.stderr


def test_predict_with_a_project_without_a_model_says_what_to_do(saved):
    root, support, _, truth = saved
    bare = save_project(support, root / "bare.fsproj")
    out = cli("predict", bare, *list(truth)[:1], check_rc=None)
    assert_one_line_error(out, "bare.fsproj: this project has no model", "press Adapt and save it")
