"""Property-based fuzzing of the four loaders of files from elsewhere (bounded for CI: a few seconds each).

Whatever the bytes, each loader either refuses them with its own error (one clear message) or gives a valid
result: an RGB image, a model, a project whose files stay in its cache, a support set. The targets live in
tests/fuzzing.py; benchmarks/fuzz.py runs them much longer. Inputs that once crashed a loader are kept at the
bottom as regression tests.
"""

from __future__ import annotations

import json

import pytest
from fuzzing import (check_image, check_model, check_project, check_support_json, image_seeds, json_paths,
                     model_seed, project_from_parts, project_parts, project_seed, replace_at, safetensors_header,
                     support_json_seed, with_safetensors_header)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
                    | st.sampled_from(["", "../../x", "/abs", "images/0/a.png", "images/0/..", "\x00"]),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4),
                    max_leaves=8)
EDIT = st.tuples(st.sampled_from(["flip", "set", "delete", "insert", "truncate"]), st.floats(0, 1),
                 st.integers(0, 255), st.integers(1, 64))


def apply_edits(data: bytes, edits) -> bytes:
    """Byte edits at relative positions (so they shrink well and fit any seed)."""
    buf = bytearray(data)
    for kind, where, value, n in edits:
        at = min(int(where * len(buf)), max(len(buf) - 1, 0))
        if kind == "truncate":
            del buf[at:]
        elif kind == "insert":
            buf[at:at] = bytes([value]) * n
        elif not buf:
            continue
        elif kind == "flip":
            buf[at] ^= 1 << (value % 8)
        elif kind == "set":
            buf[at] = value
        else:
            del buf[at:at + n]
    return bytes(buf)


@st.composite
def json_edit(draw, value):
    """``value`` with one item (anywhere in it) replaced by arbitrary JSON, or removed."""
    paths = json_paths(value)
    path = paths[draw(st.integers(0, len(paths) - 1))]
    return replace_at(value, path, draw(JSON))


SEEDS = image_seeds()


@FUZZ
@given(st.binary(max_size=4096))
def test_any_bytes_are_an_image_error_or_an_rgb_image(data):
    check_image(data)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(EDIT, min_size=1, max_size=6))
def test_damaged_png_jpeg_gif_bmp_webp_tiff_files_are_an_image_error_or_an_rgb_image(seed, edits):
    check_image(apply_edits(seed, edits))


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return model_seed()


def test_the_model_seed_loads(model_bytes):
    assert check_model(model_bytes) == "loaded"


@FUZZ
@given(data=st.data())
def test_a_model_file_with_an_edited_header_is_a_model_file_error_or_a_model(model_bytes, data):
    header, rest = safetensors_header(model_bytes)
    if data.draw(st.booleans()):  # the studio's own JSON, inside the safetensors metadata
        inner = json.loads(header["__metadata__"]["fewshot_studio"])
        header = replace_at(header, ("__metadata__", "fewshot_studio"), json.dumps(data.draw(json_edit(inner))))
    else:  # the safetensors header itself: dtypes, shapes, offsets
        header = data.draw(json_edit(header))
    blob = with_safetensors_header(header, rest) if isinstance(header, dict) else json.dumps(header).encode()
    check_model(blob)


@FUZZ
@given(st.lists(EDIT, min_size=1, max_size=6))
def test_a_model_file_with_damaged_bytes_is_a_model_file_error_or_a_model(model_bytes, edits):
    check_model(apply_edits(model_bytes, edits))


PROJECT = project_seed()


def test_the_project_seed_opens():
    assert check_project(PROJECT) == "loaded"


@FUZZ
@given(st.lists(EDIT, min_size=1, max_size=6))
def test_a_project_file_with_damaged_bytes_is_a_project_error_or_a_project(edits):
    check_project(apply_edits(PROJECT, edits))


@FUZZ
@given(data=st.data())
def test_a_project_with_an_edited_manifest_is_a_project_error_or_a_project(data):
    manifest, members = project_parts(PROJECT)
    check_project(project_from_parts(data.draw(json_edit(manifest)), members))


SUPPORT_JSON = support_json_seed()


@FUZZ
@given(data=st.data())
def test_an_edited_support_set_file_is_a_support_set_error_or_a_support_set(data):
    value = json.loads(SUPPORT_JSON)
    check_support_json(json.dumps(data.draw(json_edit(value))).encode())


@FUZZ
@given(st.binary(max_size=512) | st.lists(EDIT, min_size=1, max_size=6).map(lambda e: apply_edits(SUPPORT_JSON, e)))
def test_any_bytes_as_a_support_set_file_are_a_support_set_error_or_a_support_set(data):
    check_support_json(data)


# --- inputs that crashed a loader once (found by this fuzzing; kept so the fix stays) -------------------------
@pytest.mark.parametrize("version", [None, "x", [], 1e400, float("nan")])
def test_regression_a_support_set_file_with_a_version_that_is_not_a_number_is_damaged(version):
    value = json.loads(SUPPORT_JSON)
    value["version"] = version
    assert check_support_json(json.dumps(value).encode()) == "refused"


@pytest.mark.parametrize("name", [5, None, True, ["a"], {"a": 1}])
def test_regression_a_support_set_file_with_a_class_name_that_is_not_text_is_damaged(name):
    value = json.loads(SUPPORT_JSON)
    value["classes"][0]["name"] = name
    assert check_support_json(json.dumps(value).encode()) == "refused"
