"""meta-train --preset as a user runs it: the preset's recipe is used, explicit options win, bad names refused."""

from __future__ import annotations

import json

from safetensors import safe_open
from clihelp import assert_one_line_error, cli


def saved_meta(path) -> dict:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["fewshot_studio"])


def test_preset_list_names_every_preset():
    from fewshot_studio.core.presets import list_presets

    out = cli("meta-train", "--preset", "list")
    for preset in list_presets():
        assert any(line.startswith(preset.name + " ") for line in out.stdout.splitlines()), preset.name


def test_a_preset_trains_with_its_recipe_and_explicit_options_win(tmp_path):
    from imagegen import make_look_dataset

    data = make_look_dataset(tmp_path / "light", "light", classes=8, per_class=7)
    out = tmp_path / "proto.safetensors"
    cli("meta-train", "--dataset", data, "--preset", "protonet", "--weights", "random", "--image-size", "28",
        "--ways", "4", "--steps", "2", "--val-fraction", "0", "--output", out, "--quiet")
    meta = saved_meta(out)
    config = meta["config"]
    assert config["preset"] == "protonet"
    assert config["ways"] == 4  # given: wins over the preset's 60
    assert (config["shots"], config["queries"], config["meta_batch"]) == (1, 5, 1)  # the preset's
    assert meta["method"]["name"] == "prototypical" and meta["method"]["params"]["distance"] == "l2"
    assert meta["step"] == 2


def test_an_explicit_param_is_merged_with_the_presets(tmp_path):
    from imagegen import make_look_dataset

    data = make_look_dataset(tmp_path / "light", "light", classes=6)
    out = tmp_path / "proto.safetensors"
    cli("meta-train", "--dataset", data, "--preset", "protonet-5shot", "--weights", "random", "--image-size", "28",
        "--ways", "3", "--shots", "1", "--queries", "2", "--param", "distance=cosine", "--steps", "1",
        "--val-fraction", "0", "--output", out, "--quiet")
    meta = saved_meta(out)
    assert meta["method"]["params"]["distance"] == "cosine" and meta["config"]["preset"] == "protonet-5shot"


def test_an_unknown_preset_is_refused_with_the_choices(tmp_path):
    out = cli("meta-train", "--dataset", tmp_path / "x.npz", "--preset", "fastest", check_rc=None)
    assert_one_line_error(out, "unknown preset 'fastest'", "protonet")


def test_meta_train_without_a_dataset_says_how(tmp_path):
    out = cli("meta-train", "--preset", "protonet", check_rc=None)
    assert_one_line_error(out, "give the base dataset", "--preset list")


def test_the_anil_preset_trains_wide_and_validates_five_way(tmp_path):
    """ANIL's head is as wide as the task: trained on 6-way tasks, the preset still validates (and keeps the best
    checkpoint) on 5-way 1-shot ones, with its meta-batch of 4."""
    from imagegen import make_look_dataset

    data = make_look_dataset(tmp_path / "light", "light", classes=12, per_class=7)
    out = tmp_path / "anil.safetensors"
    run = cli("meta-train", "--dataset", data, "--preset", "anil", "--weights", "random", "--image-size", "28",
              "--ways", "6", "--steps", "2", "--val-fraction", "0.5", "--output", out)
    assert "validation 5-way 1-shot" in run.stdout + run.stderr
    meta = saved_meta(out)
    assert meta["method"]["name"] == "anil" and meta["config"]["preset"] == "anil"
    assert (meta["config"]["ways"], meta["config"]["val_ways"], meta["config"]["meta_batch"]) == (6, 5, 4)


def test_the_fomaml_preset_trains_first_order_with_four_tasks_a_step(tmp_path):
    from imagegen import make_look_dataset

    data = make_look_dataset(tmp_path / "light", "light", classes=6, per_class=16)  # 1 shot + 15 queries
    out = tmp_path / "fomaml.safetensors"
    cli("meta-train", "--dataset", data, "--preset", "fomaml", "--weights", "random", "--steps", "2",
        "--val-fraction", "0", "--output", out)
    meta = saved_meta(out)
    assert meta["method"]["name"] == "fomaml" and meta["config"]["preset"] == "fomaml"
    assert meta["method"]["params"]["first_order"] is True
    assert (meta["config"]["ways"], meta["config"]["shots"], meta["config"]["meta_batch"]) == (5, 1, 4)
