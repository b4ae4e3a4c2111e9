"""The feature cache on disk (issue 15, item 2): what it saves from one start to the next.

Run: .venv/bin/python benchmarks/feature_cache.py [--photos DIR] [--episodes 200]
(not run by CI). Two measurements, each in fresh processes with a fresh studio folder (its own cache):

1. Reopening a 500-image project (Fashion-MNIST, 10 classes of 50) and adapting EfficientNet-Lite0 with
   prototypical networks: the first start (every image embedded) and the second (a new process: every
   feature from the cache on disk). "work" is open_project + AdaptRun, timed inside the process; "process"
   is the whole command, interpreter and torch import included.
2. ``fewshot-studio evaluate`` of a saved Lite0 + prototypical model on 1,000 photos (Fashion-MNIST, 10 classes
   of 100, or ``--photos DIR``: a folder of class folders), 200 five-way one-shot episodes of 15 queries: the
   first run (each photo embedded once) and a second run (features from the cache).

Prints the numbers with the load average: on a shared machine they are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REOPEN = textwrap.dedent("""
    import json, sys, time
    import torch
    from fewshot_studio.core.backbones import cache
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.project import open_project
    t0 = time.perf_counter()
    project = open_project(sys.argv[1])
    t1 = time.perf_counter()
    AdaptRun(project.support, "efficientnet_lite0", "prototypical", device="cpu").run()
    t2 = time.perf_counter()
    print(json.dumps({"open": t1 - t0, "adapt": t2 - t1, "work": t2 - t0, **cache.counters}))
""")


def fashion_folder(root: Path, per_class: int, seed: int = 0) -> Path:
    import gzip

    import numpy as np
    from PIL import Image

    from common import FASHION, NAMES

    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    rng = np.random.default_rng(seed)
    for c, name in enumerate(NAMES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(rng.choice(np.nonzero(labels == c)[0], per_class, replace=False)):
            Image.fromarray(255 - images[i]).save(root / name / f"{name}_{k:03d}.png")
    return root


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed:\n{out.stderr[-2000:]}")
    return time.perf_counter() - start, out.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", help="a folder of class folders for the evaluate measurement (default: 1,000 "
                    "Fashion-MNIST images)")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--skip-evaluate", action="store_true")
    args = ap.parse_args()
    from common import git_rev, machine

    tmp = Path(tempfile.mkdtemp(prefix="feature-cache-bench-"))
    env = {**os.environ, "FEWSHOT_STUDIO_HOME": str(tmp / "home"), "OMP_NUM_THREADS": os.environ.get(
        "OMP_NUM_THREADS", "1"), "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    os.environ.update(env)
    from fewshot_studio.core.project import save_project
    from fewshot_studio.core.support import SupportSet

    print(f"machine: {machine()}; commit {git_rev()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    support, _ = SupportSet.from_folder(fashion_folder(tmp / "project-images", 50))
    project = save_project(support, tmp / "fashion-500.fsproj")
    rows = []
    for start in ("first start", "second start"):
        wall, out = timed([sys.executable, "-c", REOPEN, str(project)], env)
        r = json.loads(out.strip().splitlines()[-1])
        rows.append((start, r, wall, os.getloadavg()[0]))
    print("\n| reopen 500 images + adapt (Lite0, prototypical, CPU) | open project | adapt | work | process | "
          "embedded | from disk | load avg |")
    print("|---|---|---|---|---|---|---|---|")
    for start, r, wall, load in rows:
        print(f"| {start} | {r['open']:.2f} s | {r['adapt']:.2f} s | {r['work']:.2f} s | {wall:.1f} s | "
              f"{r['embedded']} | {r['disk_hits']} | {load:.2f} |")
    if args.skip_evaluate:
        return 0

    photos = Path(args.photos) if args.photos else fashion_folder(tmp / "photos", 100, seed=1)
    n_photos = sum(1 for _ in photos.rglob("*.png")) + sum(1 for _ in photos.rglob("*.jpg"))
    model = tmp / "lite0-proto.safetensors"
    cli = [sys.executable, "-m", "fewshot_studio"]
    timed([*cli, "adapt", str(tmp / "project-images"), "--backbone", "efficientnet_lite0", "--algorithm",
           "prototypical", "--output", str(model), "--device", "cpu", "--quiet"], env)
    timed([*cli, "cache", "--clear"], env)  # the evaluate runs start with an empty cache
    evaluate = [*cli, "evaluate", "--model-or-checkpoint", str(model), "--dataset", str(photos), "--ways", "5",
                "--shots", "1", "--queries", "15", "--episodes", str(args.episodes), "--device", "cpu", "--json"]
    print(f"\n| evaluate, {n_photos} photos, {args.episodes} five-way one-shot episodes (15 queries) | time | "
          "accuracy | load avg |")
    print("|---|---|---|---|")
    for run in ("first run (empty cache)", "second run (a new process)"):
        wall, out = timed(evaluate, env)
        r = json.loads(out.strip().splitlines()[-1])
        print(f"| {run} | {wall:.1f} s | {100 * r['accuracy']:.1f}% ± {100 * r['ci95']:.1f} | "
              f"{os.getloadavg()[0]:.2f} |")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine: upper bounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
