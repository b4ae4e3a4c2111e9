"""Adaptation latency (start to ready) and prediction throughput, 5-way 5-shot Fashion-MNIST.

Run: .venv/bin/python benchmarks/adapt_latency.py [--device cpu] [--backbones efficientnet_lite0 resnet18]
Prints a markdown table for BENCHMARKS.md. When ImageNet weights for a torchvision backbone are not cached
(no network here), it imports random weights whose batch-norm statistics were set by a few forward passes,
so that speed is representative (eval-mode batch norm with untouched statistics lets activations blow up
into denormal numbers, which are many times slower on CPU). "cold" includes building the backbone and embedding the
support set; "warm" is the same run again in the same process (backbone and frozen features cached).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from common import fashion_task, git_rev, machine
from fewshot_studio.core import AdaptRun, SupportSet, get_backbone, import_weights
from fewshot_studio.core.backbones.cache import clear_caches

METHODS = [
    ("prototypical", {}),
    ("linear_probe", {"steps": 100}),
    ("prototypical", {"finetune_steps": 10}),
    ("finetune", {"steps": 10}),
]


def import_calibrated_random_weights(name: str) -> None:
    spec = get_backbone(name)
    model = spec.architecture().train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, spec.preprocess.input_size, spec.preprocess.input_size))
    path = Path(tempfile.mkdtemp()) / f"{name}.pth"
    torch.save(model.state_dict(), path)
    import_weights(name, path)


def timed_run(support, backbone, method, params, weights, device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    clf = AdaptRun(support, backbone, method, params, weights=weights, device=device).run()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return clf, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--backbones", nargs="+", default=["efficientnet_lite0", "resnet18"])
    ap.add_argument("--queries", type=int, default=20, help="query images per class (throughput)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    os.environ["FEWSHOT_STUDIO_HOME"] = str(tmp / "home")  # imported benchmark weights stay out of yours
    support_dir, queries = fashion_task(tmp, queries=args.queries)
    support, _ = SupportSet.from_folder(support_dir)
    print(f"machine: {machine()}; commit {git_rev()}; device {args.device}; {time.strftime('%Y-%m-%d')}")
    print("| backbone | method | cold adapt (s) | warm adapt (s) | per step (ms) | predict (img/s) | query acc |")
    print("|---|---|---|---|---|---|---|")
    for backbone in args.backbones:
        spec = get_backbone(backbone)
        note = ""
        if not spec.weights_status().available:
            import_calibrated_random_weights(backbone)
            note = " (random weights)"
        weights = "pretrained"
        for method, params in METHODS:
            clear_caches()
            _, cold = timed_run(support, backbone, method, params, weights, args.device)
            clf, warm = timed_run(support, backbone, method, params, weights, args.device)
            steps = clf.info["steps"]
            paths = [p for p, _ in queries]
            clf.predict(paths[:8])  # warm-up
            t = time.perf_counter()
            preds, _ = clf.predict(paths)
            rate = len(paths) / (time.perf_counter() - t)
            acc = sum(p.label == c for p, (_, c) in zip(preds, queries)) / len(preds)
            label = method + "".join(f" {k}={v}" for k, v in params.items())
            per_step = f"{1000 * warm / steps:.0f}" if steps > 1 else "-"
            print(f"| {backbone}{note} | {label} | {cold:.2f} | "
                  f"{warm:.2f} | {per_step} | {rate:.1f} | {acc:.0%} |", flush=True)


if __name__ == "__main__":
    main()
