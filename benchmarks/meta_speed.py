"""Meta-training speed and peak memory of each method: Omniglot 28x28, Conv-4, 5-way 1-shot 15-query.

Run: .venv/bin/python benchmarks/meta_speed.py [--device cpu] [--meta-batch 32] [--steps 5] [--npz PATH]
Each method runs in its own subprocess so that its peak memory (max RSS on CPU, max allocated on CUDA)
is its own. Prints a markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

METHODS = [("prototypical", {}), ("matching", {}), ("relation", {}), ("cnp", {}), ("anil", {}),
           ("fomaml", {}), ("maml", {"batched": "loop"}), ("maml", {"batched": "vmap"}), ("reptile", {})]


def one(args) -> dict:
    import torch

    from fewshot_studio.core.algorithms import get_method
    from fewshot_studio.core.backbones import get_backbone
    from fewshot_studio.core.episodes import EpisodeSampler, omniglot_pool
    from fewshot_studio.core.meta_train import MetaObjective
    from fewshot_studio.core.preprocess import Preprocess

    torch.manual_seed(0)
    device = torch.device(args.device)
    pool = omniglot_pool(args.npz, size=28)
    sampler = EpisodeSampler(pool, 5, 1, 15, seed=0)
    pre = Preprocess(28, 28, (0.5,) * 3, (0.5,) * 3)
    method = get_method(args.method)(**json.loads(args.params))
    backbone = get_backbone("conv4").build("random").to(device)
    if hasattr(method, "prepare_backbone"):
        backbone = method.prepare_backbone(backbone)
    if hasattr(method, "ensure_nets"):
        with torch.no_grad():
            probe = method.features_of(backbone.eval(), pre.view(sampler.episode(0).support).to(device))
        method.ensure_nets(tuple(probe.shape[1:]), device)
    objective = MetaObjective(method, backbone).to(device).train()
    optimizer = torch.optim.Adam(objective.parameters(), lr=1e-3)

    def step(i):
        eps = [sampler.episode(i * args.meta_batch + j) for j in range(args.meta_batch)]
        xs = torch.stack([pre.view(e.support) for e in eps]).to(device)
        xq = torch.stack([pre.view(e.query) for e in eps]).to(device)
        ys = torch.stack([e.support_labels for e in eps]).to(device)
        yq = torch.stack([e.query_labels for e in eps]).to(device)
        loss, _, _ = objective(xs, ys, xq, yq, 5)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step(0)  # warm-up (first optimizer imports torch._dynamo)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for i in range(1, args.steps + 1):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - t) / args.steps
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"seconds_per_step": seconds, "peak_mb": peak}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--meta-batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--npz", default=str(Path(__file__).resolve().parents[2] / "shared/data/omniglot/images_background.npz"))
    ap.add_argument("--method")
    ap.add_argument("--params", default="{}")
    args = ap.parse_args()
    if args.method:
        print(json.dumps(one(args)))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from common import git_rev, machine

    print(f"machine: {machine()}; commit {git_rev()}; device {args.device}; meta-batch {args.meta_batch}; "
          f"{time.strftime('%Y-%m-%d')}")
    print("| method | meta-steps/s | s/step | tasks/s | peak memory (MB) |")
    print("|---|---|---|---|---|")
    for name, params in METHODS:
        out = subprocess.run([sys.executable, __file__, "--device", args.device, "--meta-batch", str(args.meta_batch),
                              "--steps", str(args.steps), "--npz", args.npz, "--method", name,
                              "--params", json.dumps(params)], capture_output=True, text=True)
        if out.returncode:
            print(f"| {name} {params} | failed: {out.stderr.strip().splitlines()[-1][:80]} | | | |", flush=True)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        label = name + (f" ({params['batched']})" if "batched" in params else "")
        print(f"| {label} | {1 / r['seconds_per_step']:.2f} | {r['seconds_per_step']:.3f} | "
              f"{args.meta_batch / r['seconds_per_step']:.1f} | {r['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
