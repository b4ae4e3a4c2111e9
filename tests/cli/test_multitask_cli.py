"""multi-task as a user runs it: two labelled folders -> a checkpoint that `backbones` lists, `adapt` takes, and
whose adapted model `predict` uses; bad input in one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelp import assert_one_line_error, cli
from imagegen import make_image_folder, make_queries, save_pool, shape_pool


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> tuple[Path, Path]:
    pool = shape_pool(per_class=4, size=28)
    root = tmp_path_factory.mktemp("mt-cli")
    colour = [int(g[6:]) for g in pool.groups]
    return (save_pool(pool, root / "first", [c for c in range(len(pool)) if colour[c] < 2]),
            save_pool(pool, root / "second", [c for c in range(len(pool)) if 2 <= colour[c] < 4]))


def test_multi_task_checkpoint_is_a_backbone_to_adapt_and_predict_with(datasets, tmp_path):
    a, b = datasets
    log = tmp_path / "log.jsonl"
    run = cli("multi-task", "--dataset", a, "--dataset", b, "--image-size", "28", "--steps", "4", "--batch-size",
              "4", "--val-every", "2", "--val-fraction", "0.25", "--log-json", log)
    assert "step 2: validation mean " in run.stdout and "(first " in run.stdout and ", second " in run.stdout
    home = Path(os.environ["FEWSHOT_STUDIO_HOME"]) / "checkpoints"
    ckpt = home / "multitask-conv4-first+second.safetensors"
    assert f"saved {ckpt}; best mean validation accuracy " in run.stdout and ckpt.exists()
    assert "fewshot-studio: step 4/4  loss " in run.stderr  # progress lines, as meta-train's
    events = [json.loads(line) for line in log.read_text().splitlines()]
    checks = [e for e in events if e["event"] == "MultiTaskValidation"]
    assert [e["step"] for e in checks] == [2, 4] and set(checks[0]["accuracies"]) == {str(a), str(b)}
    names = {x["name"]: x for x in json.loads(cli("backbones", "--json").stdout)}
    entry = names["multitask-conv4-first+second"]
    assert entry["family"] == "checkpoint" and entry["input_size"] == 28 and "with a head each" in entry["description"]
    support = make_image_folder(tmp_path / "support", per_class=3, size=40)
    model = tmp_path / "m.safetensors"
    cli("adapt", support, "--backbone", ckpt, "-o", model, "--quiet")
    truth = make_queries(tmp_path / "q", per_class=2, size=40)
    rows = json.loads(cli("predict", model, *truth, "--json").stdout)
    assert len(rows) == len(truth)
    assert sum(r["label"] == truth[Path(r["path"])] for r in rows) >= 5, rows  # of 6: colours tell them apart


@pytest.mark.parametrize("case, phrases", [
    ("missing", ["dataset not found"]),
    ("one-class", ["at least 2 classes"]),
    ("output-under-a-file", ["is a file, not a folder"]),
])
def test_multi_task_bad_input(datasets, tmp_path, case, phrases):
    a, _ = datasets
    second, output = tmp_path / "nope", tmp_path / "out.safetensors"
    if case == "one-class":
        second = tmp_path / "one"
        (second / "only").mkdir(parents=True)
        for image in list((a / "cross-0").iterdir())[:2]:
            (second / "only" / image.name).write_bytes(image.read_bytes())
    elif case == "output-under-a-file":
        second = datasets[1]
        (tmp_path / "file").write_text("")
        output = tmp_path / "file" / "out.safetensors"
    out = cli("multi-task", "--dataset", a, "--dataset", second, "--image-size", "28", "--steps", "2",
              "--output", output, "--quiet", check_rc=None)
    assert_one_line_error(out, *phrases)
    assert not output.exists()
