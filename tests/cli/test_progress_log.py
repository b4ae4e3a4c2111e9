"""Long commands in a log (standard error is a pipe here): progress lines, and --log-json as strict JSON lines."""

from __future__ import annotations

import json
import math
import re

import pytest
from clihelp import cli
from imagegen import make_image_folder, make_queries

LINE = re.compile(r"^fewshot-studio: step (\d+)/20  loss \d+\.\d{4}  accuracy \d+\.\d%  elapsed \d+:\d\d  "
                  r"left \d+:\d\d$")


@pytest.fixture
def every_event(monkeypatch):
    monkeypatch.setenv("FEWSHOT_STUDIO_LOG_EVERY", "0")  # a line per event, not every few seconds


def test_adapt_writes_progress_lines_and_json_events(tmp_path, every_event):
    support = make_image_folder(tmp_path / "s", per_class=2, size=48)
    log = tmp_path / "events.jsonl"
    cli("adapt", support, "--algorithm", "linear_probe", "--steps", "20", "-o", tmp_path / "m.safetensors",
        "--log-json", log)
    out = cli("adapt", support, "--algorithm", "linear_probe", "--steps", "20", "-o", tmp_path / "m.safetensors")
    steps = [int(m.group(1)) for m in map(LINE.match, out.stderr.splitlines()) if m]
    assert steps == list(range(1, 21)), out.stderr
    events = [json.loads(line, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
              for line in log.read_text().splitlines()]
    progress = [e for e in events if e["event"] == "Progress"]
    assert [e["step"] for e in progress] == list(range(1, 21))
    assert all(e["command"] == "adapt" and e["total"] == 20 and math.isfinite(e["loss"]) for e in progress)
    assert events[0]["event"] == "Stage" and events[-1] == {**events[-1], "event": "End", "status": "done"}


def test_quiet_leaves_out_the_lines_and_default_throttles_them(tmp_path):
    support = make_image_folder(tmp_path / "s", per_class=2, size=48)
    quiet = cli("adapt", support, "--algorithm", "linear_probe", "--steps", "20", "--no-calibrate", "-o",
                tmp_path / "m.safetensors", "--quiet")
    assert not any(LINE.match(line) for line in quiet.stderr.splitlines())
    throttled = cli("adapt", support, "--algorithm", "linear_probe", "--steps", "20", "--no-calibrate", "-o",
                    tmp_path / "m.safetensors")
    lines = [line for line in throttled.stderr.splitlines() if "  elapsed " in line]
    steps = [int(m.group(1)) for m in map(LINE.match, lines) if m]
    # the first event at once (the preparation stage), then one line every 5 s, and the last state at the end
    assert lines[0].startswith("fewshot-studio: ") and LINE.match(lines[-1]).group(1) == "20"
    assert steps[-1] == 20 and len(steps) < 20


def test_evaluate_and_sort_log_json_to_stderr(tmp_path, every_event):
    support = make_image_folder(tmp_path / "s", per_class=6, size=48)
    model = tmp_path / "m.safetensors"
    cli("adapt", support, "-o", model, "--quiet")
    out = cli("evaluate", model, "--dataset", support, "--ways", "3", "--shots", "1", "--queries", "2",
              "--episodes", "4", "--log-json", "-")
    events = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert [e["step"] for e in events if e["event"] == "Progress"] == [1, 2, 3, 4]
    assert all(e["loss"] is None and 0 <= e["accuracy"] <= 1 for e in events if e["event"] == "Progress")
    assert "fewshot-studio: step 4/4  accuracy" in out.stderr
    make_queries(tmp_path / "in", per_class=1, size=48)
    sort = cli("sort", model, tmp_path / "in", tmp_path / "out", "--log-json", tmp_path / "sort.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "sort.jsonl").read_text().splitlines()]
    sorted_rows = [e for e in rows if e["event"] == "FileSorted"]
    assert [e["done"] for e in sorted_rows] == [1, 2, 3] and all(e["row"]["action"] == "copied" for e in sorted_rows)
    assert "fewshot-studio: FileSorted 3/3" not in sort.stderr and "fewshot-studio: sorted 3/3" in sort.stderr
