"""Hostile and unusual input, through the command line as a user types it (issue 14): nothing of the user's is
lost, every bad input gets one line and exit status 2, every answer printed is strict JSON.

One small Conv-4 model (random weights: no download) is adapted once and shared; edited copies of it stand for
model files from elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch
from clihelp import assert_one_line_error, cli
from imagegen import make_image_folder
from safetensors import safe_open
from safetensors.torch import save_file

from fewshot_studio.core.safe_write import file_mode, is_leftover

CONV4 = ("--backbone", "conv4", "--weights", "random", "--quiet")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    support = make_image_folder(root / "sup", per_class=3, size=32)
    model = root / "m.safetensors"
    cli("adapt", support, *CONV4, "-o", model)
    return root, support, model


def edited_model(src: Path, dst: Path, meta_edit=None, tensor_edit=None) -> Path:
    """A copy of ``src`` with its JSON header and/or tensors changed, as a foreign tool might write it."""
    with safe_open(str(src), "pt") as f:
        meta = json.loads(f.metadata()["fewshot_studio"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if meta_edit:
        meta_edit(meta)
    if tensor_edit:
        tensor_edit(tensors)
    save_file(tensors, str(dst), metadata={"fewshot_studio": json.dumps(meta)})
    return dst


def _head(tensors):
    return next(k for k in tensors if k.startswith("head.") and tensors[k].dim() == 2)


MODEL_EDITS = {
    "names_short": (lambda m: m.update(class_names=m["class_names"][:2]), None, "support.labels"),
    "names_long": (lambda m: m.update(class_names=m["class_names"] + ["extra"]), None, "scores 3 classes"),
    "names_missing": (lambda m: m.pop("class_names"), None, "'class_names' is missing"),
    "names_not_strings": (lambda m: m.update(class_names=[1, 2, 3]), None, "non-empty names"),
    "method_not_object": (lambda m: m.update(method="prototypical"), None, "'method' must be an object"),
    "head_wrong_shape": (None, lambda t: t.update({_head(t): torch.zeros(5, 7)}), "head does not fit"),
    "nan_tensors": (None, lambda t: t.update({k: v * float("nan") for k, v in t.items() if v.is_floating_point()}),
                    "NaN or infinite"),
    "inf_features": (None, lambda t: t.update({"support.features": t["support.features"] + float("inf")}),
                     "NaN or infinite"),
    "labels_out_of_range": (None, lambda t: t.update({"support.labels": t["support.labels"] + 7}), "class numbers"),
    "features_missing": (None, lambda t: t.pop("support.features"), "support.features is missing"),
}


HEADER_FAULTS = {"names_missing", "names_not_strings", "method_not_object"}


@pytest.mark.parametrize("kind", list(MODEL_EDITS))
def test_a_model_file_from_elsewhere_is_checked_before_use(work, tmp_path, kind):
    root, support, model = work
    meta_edit, tensor_edit, phrase = MODEL_EDITS[kind]
    bad = edited_model(model, tmp_path / f"{kind}.safetensors", meta_edit, tensor_edit)
    out = cli("predict", bad, support / "red_circle", "--json", check_rc=None)
    assert_one_line_error(out, str(bad), phrase)
    assert out.stdout == ""
    if kind in HEADER_FAULTS:  # inspect reads only the header: the same check
        assert_one_line_error(cli("inspect", bad, check_rc=None), phrase)


def _refused(work, tmp_path):
    root, support, model = work
    out = tmp_path / "x.safetensors"
    image = support / "red_circle" / "red_circle_0.png"
    junk = tmp_path / "junk.zip"
    with zipfile.ZipFile(junk, "w") as zf:
        zf.writestr("alphabet/character01/01.png", b"not a png")
        zf.writestr("readme.txt", "hello")
    (tmp_path / "a_file").write_text("x")
    return {
        "output_is_a_support_image": (("adapt", support, *CONV4, "-o", image), ["support image", "Choose another"]),
        "output_empty": (("adapt", support, *CONV4, "-o", ""), ["no output file name"]),
        "output_under_a_file": (("adapt", support, *CONV4, "-o", tmp_path / "a_file" / "m.safetensors"),
                                ["a_file is a file, not a folder"]),
        "output_is_a_folder": (("adapt", support, *CONV4, "-o", tmp_path), ["is a folder; give a file name"]),
        "lr_nan": (("adapt", support, *CONV4, "--algorithm", "linear_probe", "--param", "lr=nan", "-o", out),
                   ["lr must be a finite number"]),
        "scale_nan": (("adapt", support, *CONV4, "--algorithm", "linear_probe", "--param", "scale=nan", "-o", out),
                      ["scale must be a finite number"]),
        "lr_inf": (("adapt", support, *CONV4, "--algorithm", "linear_probe", "--param", "lr=inf", "-o", out),
                   ["lr must be a finite number"]),
        "seed_huge": (("adapt", support, *CONV4, "--seed", "99999999999999999999999", "-o", out), ["--seed"]),
        "seed_negative": (("adapt", support, *CONV4, "--seed", "-1", "-o", out), ["--seed", "from 0 to"]),
        "top_k_0": (("predict", model, image, "--top-k", "0"), ["--top-k", "at least 1"]),
        "top_k_negative": (("predict", model, image, "--top-k", "-3"), ["--top-k", "at least 1"]),
        "junk_zip_meta_train": (("meta-train", "--dataset", junk, *CONV4, "--steps", "2", "-o", out),
                                ["no images in", "junk.zip"]),
        "junk_zip_evaluate": (("evaluate", "--model-or-checkpoint", model, "--dataset", junk), ["no images in"]),
        "episodes_0": (("evaluate", "--model-or-checkpoint", model, "--dataset", support, "--episodes", "0"),
                       ["--episodes", "at least 1"]),
        "image_size_0": (("meta-train", "--dataset", support, *CONV4, "--image-size", "0", "-o", out),
                         ["--image-size must be from 16"]),
        "steps_0": (("meta-train", "--dataset", support, *CONV4, "--steps", "0", "-o", out),
                    ["--steps must be at least 1"]),
        "meta_train_over_its_dataset": (("meta-train", "--dataset", junk, *CONV4, "-o", junk),
                                        ["the dataset", "Choose another"]),
        "export_over_the_model": (("export", model, "--onnx", model), ["the model", "Choose another"]),
        "embed_over_the_model": (("embed", model, "-o", model), [".csv or .json"]),
        "export_support_inside_itself": (("export-support", support, support / "export"),
                                         ["inside the support set's folder"]),
        "unknown_option": (("adapt", support, "-o", out, "--colour", "red"), ["unrecognized arguments", "--help"]),
        "unknown_command": (("adaptt",), ["invalid choice", "--help"]),
        "missing_argument": (("predict",), ["required", "--help"]),
        "not_a_number": (("evaluate", "--model-or-checkpoint", model, "--dataset", support, "--ways", "five"),
                         ["--ways", "five"]),
    }


REFUSED = ["output_is_a_support_image", "output_empty", "output_under_a_file", "output_is_a_folder", "lr_nan",
           "scale_nan", "lr_inf", "seed_huge", "seed_negative", "top_k_0", "top_k_negative", "junk_zip_meta_train",
           "junk_zip_evaluate", "episodes_0", "image_size_0", "steps_0", "meta_train_over_its_dataset",
           "export_over_the_model", "embed_over_the_model", "export_support_inside_itself", "unknown_option",
           "unknown_command", "missing_argument", "not_a_number"]


@pytest.mark.parametrize("kind", REFUSED)
def test_bad_input_is_one_line_with_status_2_and_nothing_is_written(work, tmp_path, kind):
    root, support, model = work
    before = {p: p.read_bytes() for p in [*support.rglob("*.png"), model]}
    args, phrases = _refused(work, tmp_path)[kind]
    out = cli(*args, check_rc=None)
    assert_one_line_error(out, *phrases)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr  # argparse's usage lines too are gone
    assert "saved" not in out.stdout
    assert not (tmp_path / "x.safetensors").exists()
    assert not (support / "export").exists()
    assert {p: p.read_bytes() for p in before} == before, "an input of the run was changed"


def test_help_is_still_argparse_help(work):
    out = cli("adapt", "--help")
    assert out.stdout.startswith("usage: fewshot-studio adapt") and "--output" in out.stdout


def test_a_users_part_file_is_kept_and_saves_get_a_normal_mode(work, tmp_path):
    _, support, _ = work
    part = tmp_path / "M.safetensors.part"
    part.write_text("my notes")
    old = tmp_path / ".M.safetensors.fsw-abcd1234.tmp"  # what a save killed ten minutes ago left
    young = tmp_path / ".M.safetensors.fsw-efgh5678.tmp"  # a save running in another process right now
    lookalike = tmp_path / ".M.safetensors.fsw-mine.tmp"  # not our pattern: never ours to remove
    for p in (old, young, lookalike):
        p.write_bytes(b"\0" * 1000)
    os.utime(old, (time.time() - 600, time.time() - 600))
    os.utime(lookalike, (time.time() - 600, time.time() - 600))
    cli("adapt", support, *CONV4, "-o", tmp_path / "M.safetensors")
    assert part.read_text() == "my notes"
    assert not old.exists() and young.exists() and lookalike.exists()
    assert (tmp_path / "M.safetensors").stat().st_mode & 0o777 == file_mode()
    assert sorted(p.name for p in tmp_path.iterdir() if is_leftover(p.name)) == [young.name]


SIGNAL_DURING_SAVE = """
import os, signal, sys, time
import fewshot_studio.core.weights_files as wf
# Ctrl-C as in a terminal: a shell starts background jobs (`make test &`) with SIGINT ignored, which a child inherits
signal.signal(signal.SIGINT, signal.default_int_handler)
real = wf.save_file
def slow_save(tensors, path, metadata=None):
    real(tensors, path, metadata=metadata)  # half way: the temporary file is there
    print("TEMP", path, flush=True)
    os.kill(os.getpid(), signal.{sig})
    time.sleep(30)
wf.save_file = slow_save
from fewshot_studio.cli.parser import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig, status, word", [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")])
def test_a_signal_during_a_save_leaves_the_previous_model_and_no_temporary_file(work, tmp_path, sig, status, word):
    _, support, model = work
    target = tmp_path / "m.safetensors"
    shutil.copy(model, target)
    before = target.read_bytes()
    out = subprocess.run([sys.executable, "-c", SIGNAL_DURING_SAVE.replace("{sig}", sig), "adapt", str(support),
                          *CONV4, "--seed", "3", "-o", str(target)], capture_output=True, text=True, timeout=300)
    assert out.returncode == status, out.stderr
    temp = Path(out.stdout.split("TEMP ", 1)[1].split()[0])
    assert is_leftover(temp.name) and temp.parent == tmp_path
    assert not temp.exists(), "the temporary file was left behind"
    assert target.read_bytes() == before, "the previous model was changed"
    assert out.stderr.strip().splitlines()[-1] == f"fewshot-studio: error: {word}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_unusable_files_are_named_with_their_real_fault(work, tmp_path):
    """A damaged PNG, a pipe, a device, a loop of links, a folder named like an image, a hidden class folder, a
    class folder with spaces round its name and one image in two classes: each gets its own warning."""
    _, support, model = work
    messy = tmp_path / "messy"
    shutil.copytree(support, messy)
    red = messy / "red_circle"
    good = red / "red_circle_0.png"
    data = bytearray(good.read_bytes())
    data[29] ^= 0xFF  # the IHDR chunk's checksum
    (red / "bad_crc.png").write_bytes(bytes(data))
    os.mkfifo(red / "pipe.png")
    os.symlink(".", red / "loop")
    os.symlink("nowhere.png", red / "broken.png")
    (red / "folder.png").mkdir()
    shutil.copytree(messy / "blue_square", messy / "...")
    (messy / "green_triangle").rename(messy / " green triangle ")
    shutil.copy(good, messy / "blue_square" / "copied_from_red.png")
    out = cli("adapt", messy, *CONV4, "-o", tmp_path / "messy.safetensors")
    warnings = out.stderr
    assert "bad_crc.png: damaged PNG (broken PNG file" in warnings
    assert "pipe.png: not a regular file but a named pipe" in warnings
    assert "loop: leads to a folder already searched" in warnings
    assert "broken.png: broken symbolic link" in warnings
    assert "folder.png: is a folder named like an image" in warnings
    assert "...: hidden folder" in warnings
    assert "class folder ' green triangle ' is read as class 'green triangle'" in warnings
    assert "the same image is in classes 'blue_square' and 'red_circle'" in warnings
    assert all(f"{name} ({n})" in out.stdout for name, n in [("blue_square", 4), ("green triangle", 3),
                                                               ("red_circle", 3)]), out.stdout

    out = cli("predict", model, red / "bad_crc.png", red / "pipe.png", "/dev/zero", good, "--json")
    assert "damaged PNG" in out.stderr and "/dev/zero: not a regular file but a device" in out.stderr
    assert [row["path"] for row in json.loads(out.stdout)] == [str(good)]


def test_an_empty_support_folder_names_itself_in_the_message(tmp_path):
    (tmp_path / "empty").mkdir()
    out = cli("adapt", tmp_path / "empty", "-o", tmp_path / "m.safetensors", check_rc=None)
    assert_one_line_error(out, "has no sub-folders", str(tmp_path / "empty" / "cat" / "1.jpg"))
    assert "{folder}" not in out.stderr


OUT_OF_MEMORY = """
import sys, torch
def oom(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
from fewshot_studio.core import classifier, meta_train
from fewshot_studio.core.algorithms import base
base.FitTask.embed = oom  # adapting: embedding the support images
classifier.FewShotClassifier.predict_images = oom  # classifying a batch
meta_train.MetaObjective.forward = oom  # a meta-training step
from fewshot_studio.cli.parser import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", ["adapt", "predict", "meta-train"])
def test_running_out_of_gpu_memory_keeps_the_previous_model_and_says_what_to_do(work, tmp_path, command):
    _, support, model = work
    target = tmp_path / "m.safetensors"
    shutil.copy(model, target)
    before = target.read_bytes()
    args = {"adapt": ["adapt", support, *CONV4, "-o", target],
            "predict": ["predict", target, support / "red_circle"],
            "meta-train": ["meta-train", "--dataset", support, *CONV4, "--ways", "2", "--queries", "1",
                           "--steps", "1", "-o", target]}[command]
    out = subprocess.run([sys.executable, "-c", OUT_OF_MEMORY, *map(str, args)], capture_output=True, text=True,
                         timeout=300)
    assert_one_line_error(out, "ran out of memory", "--device cpu")
    assert "kept" in out.stderr or "nothing was changed" in out.stderr
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]
