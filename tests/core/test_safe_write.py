"""Saving without losing anything (core/safe_write.py), strict JSON, and the checks that stop bad values early."""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import pytest
import torch

from fewshot_studio.core import strict_json
from fewshot_studio.core.errors import DeviceError, ParameterError
from fewshot_studio.core.params import check_seed, describe, make_params
from fewshot_studio.core.safe_write import (OutputPathError, atomic_write, check_output, file_mode, is_leftover,
                                            remove_leftovers)


def names(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit, OSError, RuntimeError])
def test_an_interrupted_save_leaves_the_old_file_and_no_temporary_one(tmp_path, interruption):
    target = tmp_path / "m.safetensors"
    target.write_bytes(b"the old model")

    def write(tmp):
        tmp.write_bytes(b"half of a new mod")
        raise interruption()

    with pytest.raises(interruption):
        atomic_write(target, write)
    assert target.read_bytes() == b"the old model" and names(tmp_path) == ["m.safetensors"]


def test_a_save_writes_through_a_unique_temporary_file_with_a_normal_mode(tmp_path):
    seen = []
    target = tmp_path / "m.safetensors"
    atomic_write(target, lambda tmp: (seen.append(tmp), tmp.write_bytes(b"one")))
    atomic_write(target, lambda tmp: (seen.append(tmp), tmp.write_bytes(b"two")))
    assert target.read_bytes() == b"two"
    assert seen[0] != seen[1] and all(is_leftover(p.name) and p.parent == tmp_path for p in seen)
    assert target.stat().st_mode & 0o777 == file_mode() == 0o666 & ~_umask()
    assert names(tmp_path) == ["m.safetensors"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_only_old_leftovers_of_our_own_pattern_are_removed(tmp_path):
    old = tmp_path / ".m.onnx.fsw-a1b2c3d4.tmp"
    young = tmp_path / ".m.onnx.fsw-zzzz_999.tmp"
    others = [tmp_path / n for n in ("m.onnx.part", ".m.onnx.part", ".m.onnx.fsw-short.tmp", "x.fsw-a1b2c3d4.tmp")]
    for p in [old, young, *others]:
        p.write_bytes(b"x")
        os.utime(p, (time.time() - 3600,) * 2)
    os.utime(young, None)
    assert remove_leftovers(tmp_path) == [old]
    assert names(tmp_path) == sorted(p.name for p in [young, *others])


def test_inputs_are_never_overwritten_also_through_a_link(tmp_path):
    image = tmp_path / "cat.png"
    image.write_bytes(b"a picture")
    link = tmp_path / "link.png"
    link.symlink_to(image)
    for target in (image, link):
        with pytest.raises(OutputPathError, match="a support image"):
            atomic_write(target, lambda tmp: tmp.write_bytes(b"model"), inputs=[("a support image", image)])
    assert image.read_bytes() == b"a picture"
    with pytest.raises(OutputPathError, match="empty"):
        check_output("")
    with pytest.raises(OutputPathError, match="cat.png is a file, not a folder"):
        check_output(image / "m.safetensors")


def test_strict_json_has_no_nan_or_infinity():
    text = strict_json.dumps({"a": float("nan"), "b": [1.5, float("inf"), (float("-inf"),)], "c": "NaN"})
    assert json.loads(text) == {"a": None, "b": [1.5, None, [None]], "c": "NaN"}
    assert "NaN" not in text.replace('"NaN"', "") and "Infinity" not in text


def test_non_finite_hyperparameters_and_seeds_out_of_range_are_refused():
    from fewshot_studio.core.algorithms.linear_probe import LinearProbe

    assert {"lr", "scale"} <= {s.name for s in describe(LinearProbe.Params)}
    for name in ("lr", "scale"):
        for value in ("nan", "inf", "-inf", float("nan")):
            with pytest.raises(ParameterError, match=f"^{name} must be a finite number"):
                make_params(LinearProbe.Params, {name: value})
    assert check_seed("7") == 7
    for bad in ("99999999999999999999999", -1, "1.5", "x", 2**32):
        with pytest.raises(ParameterError, match="seed"):
            check_seed(bad)


def test_an_onnx_check_on_nan_outputs_is_never_a_match():
    from fewshot_studio.core.export_onnx import _max_difference

    a = np.array([[0.5, 0.5]], dtype=np.float32)
    assert _max_difference(a, a) == 0.0
    assert math.isinf(_max_difference(a, np.full_like(a, np.nan)))
    assert math.isinf(_max_difference(np.full_like(a, np.inf), a))


def test_out_of_memory_in_cross_validation_keeps_the_model_and_says_what_to_do(tmp_path, monkeypatch):
    from imagegen import make_image_folder

    from fewshot_studio.core.algorithms import base
    from fewshot_studio.core.support import SupportSet
    from fewshot_studio.core.validation import CrossValidation

    support, _ = SupportSet.from_folder(make_image_folder(tmp_path / "s", per_class=3, size=32))

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(base.FitTask, "embed", oom)
    with pytest.raises(DeviceError, match="ran out of memory.*while cross-validating.*--device cpu"):
        CrossValidation(support, "conv4", "prototypical", {"finetune_steps": 0, "backbone_lr": 0.0},  # frozen
                        weights="random", device="cpu").run()
