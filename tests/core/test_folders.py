"""Folders of class folders and what a drop means, without a window."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import draw_shape, make_image_folder

from fewshot_studio.core.folders import numbered_name, plan_drop, unique_name


@pytest.fixture
def shapes(tmp_path) -> Path:
    """shapes/<class>/<class>_<i>.png: three classes of four small generated images."""
    return make_image_folder(tmp_path / "shapes", per_class=4, size=64)


def test_plan_drop_follows_folder_layout_without_a_window(shapes, tmp_path):
    loose = tmp_path / "loose.png"
    draw_shape("ellipse", (0, 0, 0), 1).save(loose)
    (shapes / "stray.png").write_bytes(loose.read_bytes())
    plan = plan_drop([shapes, loose], ["red_circle"])
    assert [(n, len(i)) for n, i in plan.classes] == [
        ("blue_square", 4), ("green_triangle", 4), ("red_circle", 4), (tmp_path.name, 1)]
    assert [(s.path.name, "class sub-folder" in s.reason) for s in plan.skipped] == [("stray.png", True)]
    assert plan_drop([shapes], [], loose_reason="elsewhere").skipped[0].reason == "elsewhere"


def test_new_class_names_skip_the_taken_ones():
    assert unique_name("cat", ["dog"]) == "cat"
    assert unique_name("cat", ["cat", "cat 2"]) == "cat 3"
    assert unique_name("  ", []) == "class"
    assert numbered_name("class", ["class 3"], 3) == "class 4"
