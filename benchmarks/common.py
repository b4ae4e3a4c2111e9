"""Shared helpers for benchmarks: the machine line, a 5-way K-shot Fashion-MNIST task on disk."""

from __future__ import annotations

import gzip
import platform
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

FASHION = Path("/usr/share/datasets/fashion-mnist")
NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def machine() -> str:
    import torch

    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    import os

    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"{gpu}, Python {platform.python_version()}")


def git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def fashion_task(root: Path, ways: int = 5, shots: int = 5, queries: int = 20, seed: int = 0):
    """Write an N-way K-shot task as folders; returns (support_dir, list of (query path, class))."""
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    rng = np.random.default_rng(seed)
    classes = rng.choice(10, ways, replace=False)
    query = []
    for c in classes:
        idx = rng.choice(np.nonzero(labels == c)[0], shots + queries, replace=False)
        (root / "support" / NAMES[c]).mkdir(parents=True, exist_ok=True)
        (root / "query").mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(idx):
            path = root / ("support" if k < shots else "query") / (NAMES[c] if k < shots else "") / f"{NAMES[c]}_{k}.png"
            Image.fromarray(255 - images[i]).save(path)
            if k >= shots:
                query.append((path, NAMES[c]))
    return root / "support", query
