"""Choosing soft_kmeans' weighting on features held out from the reported run (issue 13): Fashion-MNIST's training
split, not the test split that benchmarks/transductive.py reports.

    .venv/bin/python benchmarks/transductive.py --fashion-split train --features /tmp/tb-fashion-train.pt \
        --skip-easyfsl --episodes 1 --pools 0          # once: embeds 200 training images per class
    .venv/bin/python benchmarks/soft_kmeans_dev.py /tmp/tb-fashion-train.pt

Every variant of ``soft_kmeans`` (pool_weight x sharpness) against inductive nearest centroid, paired, on the same
300 episodes per cell (5-way, 15 queries; 1 and 5 shots; 10 and 100 unlabelled images per class).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from transductive import FeatureView, feature_pool, paired, signed  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("features")
    ap.add_argument("--episodes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=100)  # not the reported run's seeds (0, 1, 5)
    ap.add_argument("--pool-weights", default="0,1,2,5")
    ap.add_argument("--sharpness", default="1,2,4")
    args = ap.parse_args(argv)

    import torch
    from torch import nn

    from fewshot_studio.core.adaptation import SoftKMeans
    from fewshot_studio.core.algorithms import get_method
    from fewshot_studio.core.episodes import EpisodeSampler
    from fewshot_studio.core.evaluation import evaluate_episodes, fit_predictor

    torch.set_num_threads(1)
    data = torch.load(args.features)
    fpool = feature_pool(data["features"], data["names"])
    cls = get_method("prototypical")
    variants = [("nearest centroid", None)] + [
        (f"pool_weight {w:g}, sharpness {s:g}", (w, s))
        for w, s in itertools.product([float(x) for x in args.pool_weights.split(",")],
                                      [float(x) for x in args.sharpness.split(",")])]
    cells = [(1, 10), (1, 100), (5, 10), (5, 100)]
    acc = {}
    t0 = time.perf_counter()
    for label, v in variants:
        for shots, pool in cells:
            stages = [] if v is None else [SoftKMeans(pool_weight=v[0], sharpness=v[1])]
            sampler = EpisodeSampler(fpool, 5, shots, 15, seed=args.seed + shots, unlabelled=pool)
            predict = fit_predictor(lambda: cls.for_backbone("pretrained", {}), nn.Identity(), FeatureView(),
                                    torch.device("cpu"), seed=args.seed, domain_adaptation=stages)
            accs = []
            evaluate_episodes(predict, sampler, args.episodes, on_episode=lambda _, a: accs.append(a))
            acc[label, shots, pool] = accs
        print(f"[{time.perf_counter() - t0:5.0f} s] {label}", flush=True)
    head = "| variant | " + " | ".join(f"{s}s/{u}u" for s, u in cells) + " |"
    lines = [head, "|---" * (len(cells) + 1) + "|"]
    base = variants[0][0]
    for label, _ in variants:
        row = []
        for s, u in cells:
            a = acc[label, s, u]
            m = 100 * sum(a) / len(a)
            row.append(f"{m:.1f}" if label == base else f"{m:.1f} ({signed(*paired(a, acc[base, s, u]))})")
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
