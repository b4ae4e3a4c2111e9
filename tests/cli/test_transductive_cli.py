"""Unlabelled images on the command line: adapt --unlabelled/--domain-adaptation, predict --transductive,
evaluate --unlabelled-per-class/--transductive, on a generated domain shift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import assert_one_line_error, cli
from imagegen import KINDS, draw_domain_shape, make_domain_shift


@pytest.fixture(scope="module")
def shift(tmp_path_factory):
    root = tmp_path_factory.mktemp("shift-cli")
    return make_domain_shift(root, shots=1, unlabelled=6, queries=4, colours=1)


def right(rows, truth) -> float:
    return sum(r["label"] == truth[Path(r["path"])] for r in rows) / len(rows)


def test_adapt_with_a_pool_then_predict_transductively(shift, tmp_path):
    support, pool, truth = shift
    model = tmp_path / "tim.safetensors"
    out = cli("adapt", support, "--algorithm", "tim", "--unlabelled", pool, "--output", model, "--quiet")
    assert "24 unlabelled" in out.stdout and "+ tim" in out.stdout
    meta = json.loads(cli("inspect", model, "--json").stdout)
    assert meta["support"]["unlabelled"] == 24
    joint = json.loads(cli("predict", model, *sorted(truth), "--transductive", "--json").stdout)
    alone = json.loads(cli("predict", model, *sorted(truth), "--json").stdout)
    assert len(joint) == len(truth) and right(joint, truth) >= 0.75
    assert right(joint, truth) >= right(alone, truth)
    few = cli("predict", model, sorted(truth)[0], "--transductive")  # 1 image + the pool of 24: enough
    assert "warning" not in few.stderr


def test_adapt_with_domain_adaptation_records_the_stages(shift, tmp_path):
    support, pool, _ = shift
    model = tmp_path / "proto.safetensors"
    out = cli("adapt", support, "--unlabelled", pool, "--domain-adaptation", "coral,soft_kmeans:steps=2",
              "--output", model, "--quiet")
    assert "efficientnet_lite0 + coral+soft_kmeans + prototypical" in out.stdout
    meta = json.loads(cli("inspect", model, "--json").stdout)
    assert meta["run"]["domain_adaptation"] == [{"name": "coral", "params": {"mode": "covariance", "shrinkage": 1.0}},
                                                {"name": "soft_kmeans",
                                                 "params": {"steps": 2, "pool_weight": 5.0, "sharpness": 2.0}}]


def test_bad_unlabelled_input_is_one_line(shift, tmp_path):
    support, pool, truth = shift
    empty = tmp_path / "empty"
    empty.mkdir()
    out = cli("adapt", support, "--domain-adaptation", "adabn", "--output", tmp_path / "m.safetensors", check_rc=None)
    assert_one_line_error(out, "needs unlabelled images of the target domain", "--unlabelled DIR")
    out = cli("adapt", support, "--unlabelled", empty, "--output", tmp_path / "m.safetensors", check_rc=None)
    assert_one_line_error(out, "no usable image in --unlabelled")
    model = tmp_path / "proto.safetensors"
    cli("adapt", support, "--output", model, "--quiet")
    out = cli("predict", model, *sorted(truth), "--transductive", check_rc=None)
    assert_one_line_error(out, "prototypical classifies each image on its own", "--algorithm pt_map")


def test_evaluate_with_episode_pools_transductively_and_the_guard(shift, tmp_path):
    support, _, _ = shift
    model = tmp_path / "proto.safetensors"
    cli("adapt", support, "--output", model, "--quiet")
    dataset = tmp_path / "target"
    for ki, kind in enumerate(KINDS):
        (dataset / kind).mkdir(parents=True)
        for i in range(8):
            draw_domain_shape(kind, "target", 9000 + ki * 100 + i, 64, 1).save(dataset / kind / f"{i}.png")
    common = ["--model-or-checkpoint", model, "--dataset", dataset, "--ways", "4", "--shots", "1", "--episodes", "3"]
    out = cli("evaluate", *common, "--queries", "2", "--unlabelled-per-class", "4", "--algorithm", "pt_map",
              "--transductive", "--json")
    assert "4 unlabelled images per class" in out.stdout and "warning" not in out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["episodes"] == 3
    out = cli("evaluate", *common, "--queries", "1", "--algorithm", "tim", "--transductive")
    assert "warning: in 3 of 3 episodes the images were too few to classify jointly" in out.stderr
    out = cli("evaluate", *common, "--queries", "1", "--domain-adaptation", "coral", check_rc=None)
    assert_one_line_error(out, "needs unlabelled images")


def test_validate_and_compare_cross_validate_with_the_pool_and_the_stages(tmp_path):
    support, pool, _ = make_domain_shift(tmp_path / "cv", kinds=("circle", "square"), shots=2, unlabelled=3,
                                         queries=0, colours=1)
    out = cli("validate", support, "--unlabelled", pool, "--domain-adaptation", "soft_kmeans", "--quiet")
    assert "4 images, 6 unlabelled images in every fold, efficientnet_lite0 + soft_kmeans + prototypical" in out.stdout
    r = json.loads(cli("validate", support, "--unlabelled", pool, "--domain-adaptation", "soft_kmeans", "--json",
                       "--quiet").stdout)
    assert r["domain_adaptation"] == ["soft_kmeans"] and r["unlabelled"] == 6 and r["images"] == 4
    rows = json.loads(cli("compare", support, "--algorithm", "prototypical", "--algorithm", "linear_probe",
                          "--unlabelled", pool, "--domain-adaptation", "soft_kmeans", "--json", "--quiet").stdout)
    proto, probe = rows["rows"]
    assert proto["images"] == 4 and "soft_kmeans refines class prototypes" in probe["error"]
    out = cli("validate", support, "--domain-adaptation", "coral", check_rc=None)
    assert_one_line_error(out, "needs unlabelled images of the target domain")
    empty = tmp_path / "empty"
    empty.mkdir()
    out = cli("compare", support, "--unlabelled", empty, check_rc=None)
    assert_one_line_error(out, "no usable image in --unlabelled")
