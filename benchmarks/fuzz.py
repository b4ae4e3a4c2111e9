"""A longer fuzzing run of the loaders of files from elsewhere (not run by CI; CI runs the bounded hypothesis
version, tests/core/test_fuzz_loaders.py).

Each target (image, model, project, support_json: see tests/fuzzing.py) starts from real files of its kind
and mutates them at random (seeded): bit flips, byte runs, truncation, splices, and edits of the JSON inside
(safetensors metadata, project.json, the support-set file). A crash is any exception other than the loader's
own error, or a wrong result; its input is saved to benchmarks/out/fuzz/<target>-<n>.bin with the traceback.

    python benchmarks/fuzz.py --inputs 2000 --seconds 60          # each target: whichever comes first
    python benchmarks/fuzz.py --target project --seconds 300
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
OUT = REPO / "benchmarks" / "out" / "fuzz"


def fuzz(target, inputs: int, seconds: float, seed: int) -> dict:
    rng = random.Random(seed)
    seeds = target.seeds()
    corpus = list(seeds)
    counts = {"tried": 0, "refused": 0, "loaded": 0, "crashes": 0}
    kinds: dict[str, int] = {}
    start = time.monotonic()
    while counts["tried"] < inputs and time.monotonic() - start < seconds:
        data = target.mutate(rng.choice(corpus), rng)
        if rng.random() < 0.2:  # stack mutations now and then
            data = target.mutate(data, rng)
        counts["tried"] += 1
        try:
            outcome = target.check(data)
        except Exception as exc:  # noqa: BLE001 - a crash is what we are looking for
            counts["crashes"] += 1
            kind = f"{type(exc).__name__}: {str(exc)[:100]}"
            kinds[kind] = kinds.get(kind, 0) + 1
            if kinds[kind] <= 3:
                OUT.mkdir(parents=True, exist_ok=True)
                stem = OUT / f"{target.name}-{counts['crashes']}"
                stem.with_suffix(".bin").write_bytes(data)
                stem.with_suffix(".txt").write_text(traceback.format_exc())
            continue
        counts[outcome] += 1
        if outcome == "loaded" and len(corpus) < 64 and rng.random() < 0.3:
            corpus.append(data)  # a mutated input that still loads is a good place to mutate from
    counts["seconds"] = round(time.monotonic() - start, 1)
    counts["kinds"] = kinds
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", choices=["image", "model", "project", "support_json"])
    parser.add_argument("--inputs", type=int, default=2000, help="inputs per target (at most)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per target (at most)")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    os.environ.setdefault("FEWSHOT_STUDIO_HOME", tempfile.mkdtemp(prefix="fewshot-fuzz-home-"))
    os.environ.setdefault("FEWSHOT_STUDIO_OFFLINE", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    import warnings

    from fuzzing import TARGETS

    warnings.simplefilter("ignore")  # PIL warns about odd files; the loaders' answers are what count
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"{'target':<13} {'tried':>7} {'refused':>8} {'loaded':>7} {'crashes':>8} {'seconds':>8}")
    total_crashes = 0
    for name in args.target or list(TARGETS):
        r = fuzz(TARGETS[name], args.inputs, args.seconds, args.seed)
        total_crashes += r["crashes"]
        print(f"{name:<13} {r['tried']:>7} {r['refused']:>8} {r['loaded']:>7} {r['crashes']:>8} {r['seconds']:>8}",
              flush=True)
        for kind, n in sorted(r["kinds"].items(), key=lambda kv: -kv[1]):
            print(f"    {n:5d} x {kind}")
    if total_crashes:
        print(f"crashing inputs saved under {OUT}")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
