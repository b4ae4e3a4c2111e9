"""Running the command line as a user does, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys


def cli(*args, check_rc: int | None = 0, cwd=None) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "fewshot_studio", *map(str, args)], capture_output=True,
                         text=True, env=os.environ.copy(), cwd=cwd, timeout=600)
    if check_rc is not None:
        assert out.returncode == check_rc, f"rc={out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    return out


def assert_one_line_error(out, *phrases):
    assert out.returncode == 2
    errors = [line for line in out.stderr.strip().splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("fewshot-studio: error: "), out.stderr
    assert out.stderr.strip().splitlines()[-1] == errors[0]
    assert "Traceback" not in out.stderr
    for phrase in phrases:
        assert phrase in errors[0]


