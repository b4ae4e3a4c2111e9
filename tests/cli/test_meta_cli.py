"""meta-train and evaluate as a user runs them, on the real Omniglot minimal splits (../shared/data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.torch import load_file
from clihelp import assert_one_line_error, cli

SMALL = ["--image-size", "28", "--queries", "3", "--meta-batch", "2", "--val-episodes", "5"]


@pytest.fixture(scope="module")
def omniglot(shared_data) -> Path:
    return shared_data / "omniglot"


def meta(path: Path) -> dict:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["fewshot_studio"])


def test_meta_train_keeps_best_and_last_then_resumes(omniglot, tmp_path):
    out = tmp_path / "proto.safetensors"
    run = cli("meta-train", "--dataset", omniglot / "images_background_small1.zip", "--algorithm", "prototypical",
              *SMALL, "--steps", "4", "--val-every", "2", "--output", out)
    assert "step 2: validation 5-way 1-shot" in run.stdout and "step 4: validation 5-way 1-shot" in run.stdout
    assert f"saved {out}" in run.stdout and "best validation 5-way 1-shot" in run.stdout
    assert "fewshot-studio: step 4/4  loss " in run.stderr  # a log gets progress lines (the last always)
    last = tmp_path / "proto.last.safetensors"
    assert out.exists() and last.exists()
    first = meta(last)
    assert first["step"] == 4 and [h["step"] for h in first["history"]] == [2, 4]
    assert meta(out)["best"]["mean"] == max(h["mean"] for h in first["history"])
    cli("meta-train", "--dataset", "ignored-on-resume", "--resume", last, "--steps", "6", "--output", out, "--quiet")
    resumed = meta(last)
    assert resumed["step"] == 6 and [h["step"] for h in resumed["history"]] == [2, 4, 6]
    assert [Path(d).name for d in resumed["config"]["datasets"]] == ["images_background_small1.zip"]


def test_evaluate_prints_mean_and_interval_and_lake_error_rate(omniglot, tmp_path):
    ckpt = tmp_path / "p.safetensors"
    cli("meta-train", "--dataset", omniglot / "images_background_small1.zip", *SMALL, "--steps", "2",
        "--val-every", "0", "--output", ckpt, "--quiet")
    out = cli("evaluate", ckpt, "--dataset", omniglot / "images_background_small2.zip",
              "--episodes", "10", "--ways", "5", "--shots", "1", "--queries", "3")
    assert "5-way 1-shot:" in out.stdout and "% ± " in out.stdout and "10 episodes" in out.stdout
    result = json.loads(cli("evaluate", "--model-or-checkpoint", ckpt, "--dataset", omniglot /
                            "images_background_small2.zip", "--episodes", "10", "--queries", "3", "--json")
                        .stdout.splitlines()[-1])
    assert 0.2 < result["accuracy"] <= 1 and result["ci95"] > 0
    from fewshot_studio.core.episodes import zip_pool
    from fewshot_studio.core.evaluation import write_lake_runs

    runs = write_lake_runs(zip_pool(omniglot / "images_background_small2.zip"), tmp_path / "runs", runs=2)
    lake = cli("evaluate", ckpt, "--dataset", runs)
    assert "Lake one-shot runs: 2 runs, error rate" in lake.stdout
    both = cli("evaluate", ckpt, "--model-or-checkpoint", ckpt, "--dataset", runs, check_rc=None)
    assert_one_line_error(both, "give the model once")
    assert_one_line_error(cli("evaluate", "--dataset", runs, check_rc=None), "evaluate MODEL_OR_CHECKPOINT")


def test_a_checkpoint_becomes_a_backbone(omniglot, tmp_path):
    cli("meta-train", "--dataset", omniglot / "images_background_small1.zip", *SMALL, "--steps", "2",
        "--val-every", "0", "--quiet")
    home = Path(os.environ["FEWSHOT_STUDIO_HOME"]) / "checkpoints"
    assert (home / "prototypical-conv4-images_background_small1.safetensors").exists()
    names = {b["name"]: b for b in json.loads(cli("backbones", "--json").stdout)}
    entry = names["prototypical-conv4-images_background_small1"]
    assert entry["family"] == "checkpoint" and entry["available_offline"] and entry["input_size"] == 28
    from imagegen import make_image_folder

    support = make_image_folder(tmp_path / "s", per_class=2, size=40)
    cli("adapt", support, "--backbone", "prototypical-conv4-images_background_small1", "-o",
        tmp_path / "m.safetensors", "--quiet")
    assert json.loads(cli("inspect", tmp_path / "m.safetensors", "--json").stdout)["backbone"]["included"]


def test_ddp_with_two_processes_gives_the_single_process_update(omniglot, tmp_path):
    args = ["-m", "fewshot_studio", "meta-train", "--dataset", str(omniglot / "images_background_small1.zip"),
            "--algorithm", "maml", "--image-size", "28", "--queries", "3", "--meta-batch", "4", "--steps", "1",
            "--val-every", "0", "--optimizer", "sgd", "--lr", "0.1", "--quiet"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--master-port", "29531"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for n in (1, 2):
        out = subprocess.run([*torchrun, "--nproc-per-node", str(n), *args, "--output", str(tmp_path / f"{n}.safetensors")],
                             capture_output=True, text=True, env=env, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
    one, two = load_file(str(tmp_path / "1.safetensors")), load_file(str(tmp_path / "2.safetensors"))
    keys = [k for k in one if k.startswith("backbone.") and "running" not in k and "num_batches" not in k]
    assert keys
    assert max((one[k] - two[k]).abs().max().item() for k in keys) < 1e-5


@pytest.mark.parametrize("args, phrases", [
    (["--algorithm", "linear_probe"], ["cannot be meta-trained"]),
    (["--ways", "1"], ["--ways >= 2"]),
])
def test_meta_train_bad_input(omniglot, args, phrases):
    out = cli("meta-train", "--dataset", omniglot / "images_background_small1.zip", *args, check_rc=None)
    assert_one_line_error(out, *phrases)


def test_meta_train_on_two_domains_reports_each_domain(tmp_path):
    from imagegen import make_look_dataset

    light, dark = make_look_dataset(tmp_path / "light", "light"), make_look_dataset(tmp_path / "dark", "dark")
    out, log = tmp_path / "two.safetensors", tmp_path / "log.jsonl"
    run = cli("meta-train", "--dataset", light, "--dataset", dark, "--dataset-weight", "proportional",
              "--weights", "random", "--ways", "3", "--val-fraction", "0.5", *SMALL, "--steps", "2",
              "--val-every", "2", "--output", out, "--log-json", log)
    line = next(x for x in run.stdout.splitlines() if x.startswith("step 2: validation 3-way 1-shot: "))
    assert " [light " in line and "%, dark " in line and line.endswith("(best, saved)")
    assert "best validation 3-way 1-shot" in run.stdout and "[light " in run.stdout.splitlines()[-1]
    validation = next(r for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "Validation")
    per_domain = validation["per_domain"]
    assert list(per_domain) == ["light", "dark"] and per_domain["dark"]["episodes"] == 5
    mean = sum(r["mean"] for r in per_domain.values()) / 2
    assert abs(validation["result"]["mean"] - mean) < 1e-6
    saved = meta(out)
    assert saved["config"]["dataset_weight"] == "proportional" and len(saved["config"]["datasets"]) == 2
    assert set(saved["history"][0]["per_domain"]) == {"light", "dark"}


def test_meta_train_refuses_a_domain_too_small_and_an_unknown_weighting(tmp_path):
    from imagegen import make_look_dataset

    light, tiny = make_look_dataset(tmp_path / "light", "light"), make_look_dataset(tmp_path / "tiny", "dark",
                                                                                  classes=2)
    small = cli("meta-train", "--dataset", light, "--dataset", tiny, "--ways", "3", "--val-fraction", "0",
                "--weights", "random", *SMALL, "--steps", "1", "--quiet", check_rc=None)
    assert_one_line_error(small, "the dataset tiny has 2 classes", "3-way episodes need 3")
    weight = cli("meta-train", "--dataset", light, "--dataset-weight", "by-size", "--steps", "1", check_rc=None)
    assert_one_line_error(weight, "unknown --dataset-weight 'by-size'", "uniform, proportional")


def test_meta_train_missing_dataset(tmp_path):
    out = cli("meta-train", "--dataset", tmp_path / "nope.npz", "--steps", "1", "--quiet", check_rc=None)
    assert_one_line_error(out, "dataset not found")


def test_meta_train_with_a_cosine_schedule_and_maml_plus_plus_options(omniglot, tmp_path):
    """The log's progress carries the scheduled learning rate; the learned inner rates are in the checkpoint."""
    out, log = tmp_path / "mpp.safetensors", tmp_path / "log.jsonl"
    cli("meta-train", "--dataset", omniglot / "images_background_small1.zip", "--algorithm", "fomaml",
        "--param", "learned_inner_lr=true", "--param", "multi_step_loss=true", "--lr", "0.002",
        "--lr-schedule", "cosine", *SMALL, "--steps", "3", "--val-every", "0", "--output", out, "--log-json", log,
        "--quiet")
    lrs = [r["lr"] for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "Progress"]
    assert lrs == pytest.approx([0.002, 0.0015, 0.0005])  # 0.001 (1 + cos(pi s / 3)), s = 0, 1, 2
    saved = meta(out)
    assert saved["config"]["lr_schedule"] == "cosine" and saved["method"]["params"]["learned_inner_lr"] is True
    assert any(k.startswith("nets.inner_lr.") for k in load_file(str(out)))
    bad = cli("meta-train", "--dataset", omniglot / "images_background_small1.zip", "--lr-schedule", "linear",
              "--steps", "1", check_rc=None)
    assert_one_line_error(bad, "unknown learning-rate schedule 'linear'", "constant, cosine")
