"""Peak memory of the meta-training loop per method, per-chunk backward (now) against one whole-batch backward
(before issue 12), on Omniglot 28x28 with Conv-4 (5-way 1-shot 15-query unless said).

Run: /work/main/.venv/bin/python benchmarks/meta_step_memory.py [--steps 3] [--device cpu] [--profile maml]
Each measurement runs ``MetaTrainRun`` (the real loop, no validation) in a fresh subprocess, and reports the
peak resident set above the resident set after the dataset was loaded and the backbone built (CUDA: the peak
allocation), with ``Memory`` from benchmarks/anchors/runner.py. ``--profile METHOD`` adds torch.profiler's
top operators by memory for one meta-step of METHOD at meta-batch 32. Memory, unlike time, may be measured
beside other jobs. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's fewshot_studio, not an installed one
NPZ = "/work/shared/data/omniglot/images_background.npz"
METHODS = ["prototypical", "maml", "fomaml", "anil", "reptile", "matching", "relation", "cnp"]
CONFIGS = ([(m, 5, 1, 32) for m in METHODS] + [(m, 5, 1, 1) for m in METHODS]
           + [("prototypical", 5, 5, 1), ("prototypical", 5, 5, 32)])


def measure(job: dict) -> dict:
    """One measurement, in this process."""
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT / "benchmarks" / "anchors"))
    from runner import Memory

    from fewshot_studio.core.meta_train import MetaTrainConfig, MetaTrainRun
    from fewshot_studio.core.runs import Progress, Stage

    with tempfile.TemporaryDirectory() as tmp:
        config = MetaTrainConfig(datasets=[job["npz"]], method=job["method"], backbone="conv4", weights="random",
                                 image_size=28, ways=job["ways"], shots=job["shots"], queries=15,
                                 meta_batch=job["meta_batch"], steps=job["steps"], val_every=0,
                                 device=job["device"], output=str(Path(tmp) / "m.safetensors"))
        run = MetaTrainRun(config)
        if job["whole"]:  # the loop before issue 12: one graph and one backward over the whole meta-batch
            run.method.meta_chunk = lambda device: 1 << 30
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # the first optimizer imports torch._dynamo
        memory = Memory(job["device"])
        for event in run:
            if isinstance(event, Stage) and event.name == "building backbone":
                memory.start()  # the dataset is loaded; what follows is the backbone (0.1M weights) and the loop
            elif isinstance(event, Progress):
                memory.snap()
    return memory.last


def profile(method: str, npz: str, device: str, whole: bool) -> str:
    import torch
    from torch.profiler import ProfilerActivity, profile as torch_profile

    from fewshot_studio.core.meta_train import MetaTrainConfig, MetaTrainRun
    from fewshot_studio.core.runs import Progress

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        config = MetaTrainConfig(datasets=[npz], method=method, weights="random", image_size=28, meta_batch=32,
                                 steps=2, val_every=0, device=device, output=str(Path(tmp) / "m.safetensors"))
        run = MetaTrainRun(config)
        if whole:
            run.method.meta_chunk = lambda device: 1 << 30
        events = iter(run)
        for event in events:  # one step outside the profiler (first-call costs), then one inside
            if isinstance(event, Progress):
                break
        with torch_profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            next(e for e in events if isinstance(e, Progress))
    return prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=12)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--npz", default=NPZ)
    ap.add_argument("--only", help="comma-separated methods")
    ap.add_argument("--profile", metavar="METHOD", help="also torch.profiler's top operators by memory")
    ap.add_argument("--job", help=argparse.SUPPRESS)
    ap.add_argument("--profile-job", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        print("@@", json.dumps(measure(json.loads(args.job))))
        return 0
    if args.profile_job:
        job = json.loads(args.profile_job)
        print(profile(job["method"], job["npz"], job["device"], job["whole"]))
        return 0
    only = set(args.only.split(",")) if args.only else None
    print(f"| method | ways-shots | meta-batch | whole-batch backward (MB) | per-chunk backward (MB) | ratio |")
    print("|---|---|---|---|---|---|")
    for method, ways, shots, mb in CONFIGS:
        if only and method not in only:
            continue
        row = []
        for whole in (True, False):
            job = dict(method=method, ways=ways, shots=shots, meta_batch=mb, steps=args.steps, device=args.device,
                       npz=args.npz, whole=whole)
            out = subprocess.run([sys.executable, __file__, "--job", json.dumps(job)], capture_output=True,
                                 text=True, cwd=ROOT)
            line = next((x for x in out.stdout.splitlines() if x.startswith("@@ ")), None)
            if line is None:
                print(out.stderr[-2000:], file=sys.stderr)
                row.append(float("nan"))
                continue
            row.append(json.loads(line[3:])["delta_mb"])
        print(f"| {method} | {ways}-{shots} | {mb} | {row[0]:.0f} | {row[1]:.0f} | {row[0] / max(row[1], 1):.1f}x |",
              flush=True)
    if args.profile:
        for whole in (True, False):
            job = dict(method=args.profile, npz=args.npz, device=args.device, whole=whole)
            out = subprocess.run([sys.executable, __file__, "--profile-job", json.dumps(job)], capture_output=True,
                                 text=True, cwd=ROOT)
            print(f"\n{args.profile}, meta-batch 32, {'whole-batch' if whole else 'per-chunk'} backward, "
                  "top operators by memory:\n" + (out.stdout or out.stderr[-2000:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
