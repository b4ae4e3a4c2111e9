"""`rank` and `embed` as a user runs them: real subprocesses, real files, exit codes and messages."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clihelp import cli
from imagegen import SHAPES, draw_shape, make_image_folder
from PIL import Image

from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.support import SupportSet

CLASSES = ("red_circle", "blue_square", "green_triangle")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A saved prototypical model (adapted in-process: quicker than a third subprocess) and a folder of
    unlabelled images: two clear examples per class, two blends of two classes, a text file."""
    root = tmp_path_factory.mktemp("rank-cli")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", CLASSES, per_class=4, size=64))
    model = AdaptRun(support, "efficientnet_lite0", "prototypical").run().save(root / "shapes.safetensors")
    pool = root / "unlabelled"
    pool.mkdir()
    for ci, name in enumerate(CLASSES):
        for i in range(2):
            draw_shape(*SHAPES[name], 5000 + ci * 10 + i, 64).save(pool / f"clear_{name}_{i}.png")
    blends = []
    for i, (a, b) in enumerate([("red_circle", "blue_square"), ("blue_square", "green_triangle")]):
        path = pool / f"blend_{a}_{b}.png"
        Image.blend(draw_shape(*SHAPES[a], 7000 + 10 * i, 64), draw_shape(*SHAPES[b], 7000 + 10 * i, 64), 0.5).save(path)
        blends.append(path)
    (pool / "notes.txt").write_text("not an image")
    return root, model, pool, blends


def test_rank_json_lists_the_blends_first_and_warns_about_skipped_files(world):
    _, model, pool, blends = world
    out = cli("rank", model, pool, "--json", "--by", "margin", "--top", "5", "--diversity", "0")
    rows = json.loads(out.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert {Path(r["path"]) for r in rows[:2]} == set(blends)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    for r in rows:
        assert set(r) == {"rank", "path", "score", "margin", "entropy", "label", "confidence", "top_k"}
        assert r["score"] == pytest.approx(1 - r["margin"]) and r["top_k"][0]["label"] == r["label"]
    assert "skipped" in out.stderr and "notes.txt: not an image file" in out.stderr


def test_embed_writes_a_csv_map_of_support_and_query_images(world, capsys):
    from fewshot_studio.cli import main  # in-process: the subprocess path is the same as rank's, tested above

    root, model, pool, _ = world
    assert main(["embed", str(model), str(pool), "--output", str(root / "map.csv")]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"saved {root / 'map.csv'}: 20 points (12 support, 8 query), PCA; the axes hold")
    assert "notes.txt: not an image file" in out.err
    rows = list(csv.DictReader(io.StringIO((root / "map.csv").read_text())))
    assert [r["kind"] for r in rows] == ["support"] * 12 + ["query"] * 8
    assert {r["label"] for r in rows} == set(CLASSES)
    assert all(r["confidence"] == "" for r in rows[:12]) and all(0 < float(r["confidence"]) <= 1 for r in rows[12:])


def test_bad_input_gets_one_line_that_says_what_to_do(world, tmp_path, capsys):
    from fewshot_studio.cli import main

    _, model, _, _ = world
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["rank", str(model), str(empty)]) == 2
    assert "no usable images in" in capsys.readouterr().err
    assert main(["rank", str(model), str(tmp_path / "nowhere")]) == 2
    assert "nowhere: not found; give a folder of images" in capsys.readouterr().err
    foreign = tmp_path / "weights.safetensors"
    from safetensors.torch import save_file
    import torch

    save_file({"w": torch.zeros(2)}, str(foreign))
    assert main(["rank", str(foreign), str(empty)]) == 2
    assert "not a Few-shot Studio model" in capsys.readouterr().err
    assert main(["embed", str(model), "--output", str(tmp_path / "map.png")]) == 2
    assert ".csv or .json" in capsys.readouterr().err
    assert main(["rank", str(model), str(empty), "--top", "0"]) == 2
    assert "--top must be at least 1" in capsys.readouterr().err


def test_t_sne_without_scikit_learn_says_how_to_get_it(world, monkeypatch, capsys):
    from fewshot_studio.cli import main
    from fewshot_studio.core import embedding_map

    _, model, pool, _ = world
    monkeypatch.setattr(embedding_map, "tsne_available", lambda: False)
    assert main(["embed", str(model), str(pool), "--method", "tsne"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'fewshot-studio[tsne]'" in err[0] and "or use PCA" in err[0]


def test_help_lists_rank_and_embed(capsys):
    from fewshot_studio.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])  # once crashed on the "95%" in evaluate's summary (argparse %-formats help)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "rank " in out and "embed " in out and "95% confidence" in out
