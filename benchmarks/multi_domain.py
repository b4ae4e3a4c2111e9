"""Multi-domain meta-training (issue 13): Omniglot + Fashion-MNIST together against each alone, on each and on a third.

Three runs of one recipe (the ``protonet-5shot`` preset: ProtoNet, Conv-4, 28 px, l2 distance, 20-way 5-shot 5
queries, rotations by 90/180/270 degrees as new classes, Adam 1e-3; same steps, same seed), trained with the command
line's ``meta-train`` on

- Omniglot background alphabets 1-20 (characters 1-642 of images_background.npz);
- Fashion-MNIST classes 0-5 (t-shirt .. sandal; Debian's dataset-fashion-mnist, its training split);
- both, ``--dataset-weight uniform`` (each episode from one domain, half of them each).

No validation (``--val-every 0 --val-fraction 0``): each run trains on all of its classes and keeps its last step.
Each checkpoint is then scored, with the engine's evaluation (what ``fewshot-studio evaluate CHECKPOINT --dataset D``
does), on classes no run trained on:

- Omniglot background alphabets 21-30 (characters 643-964): 5-way;
- Fashion-MNIST classes 6-9 (shirt, sneaker, bag, ankle boot; its test split): 4-way, as only 4 classes are held out;
- a third domain no run trained on: handwritten digits 0-9 (scikit-learn's bundled ``load_digits``, 1,797 8x8 images
  from UCI, resized to 28 px): 5-way.

1-shot and 5-shot, 15 queries per class, the same episodes (same seed) for every checkpoint, so the differences
between checkpoints are paired. Images are dark on light in every domain (Omniglot's ink on paper; Fashion-MNIST and
the digits inverted). The data is written under a temporary folder, never into the repository.

    .venv/bin/python benchmarks/multi_domain.py --quick                     # about a minute: the code path
    .venv/bin/python benchmarks/multi_domain.py --steps 1500 --out /tmp/multi-domain.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common import FASHION, NAMES, git_rev, machine  # noqa: E402

NPZ = ROOT.parent / "shared" / "data" / "omniglot" / "images_background.npz"
TRAIN_ALPHABETS, FASHION_TRAIN, FASHION_HELD = 20, range(0, 6), range(6, 10)
PRESET = "protonet-5shot"
RUNS = {"omniglot": ["omniglot"], "fashion": ["fashion"], "both": ["omniglot", "fashion"]}
LABELS = {"omniglot": "Omniglot alone", "fashion": "Fashion-MNIST alone", "both": "both (uniform)"}
DOMAINS = {  # evaluation domain -> (label, ways)
    "omniglot": ("Omniglot alphabets 21-30", 5),
    "fashion": ("Fashion-MNIST classes 6-9", 4),
    "digits": ("digits (third domain)", 5),
}


# --- the data ------------------------------------------------------------------------------------------------------
def omniglot_split(npz: Path, root: Path) -> tuple[Path, Path, str]:
    """(train.npz of alphabets 1-20, held.npz of 21-30, a note), each with its alphabet table beside it."""
    table = json.loads(npz.with_name("background_alphabets.json").read_text())["alphabets"]
    cut = table[TRAIN_ALPHABETS - 1]["last_character"]  # 1-based id of the last training character
    with np.load(npz) as z:
        images = z["images"]
    out = []
    for name, rows, part in (("omniglot", slice(0, cut), table[:TRAIN_ALPHABETS]),
                             ("omniglot", slice(cut, None), table[TRAIN_ALPHABETS:])):
        folder = root / ("train" if rows.start == 0 else "held")
        folder.mkdir(parents=True, exist_ok=True)
        first = part[0]["first_character"] - 1
        shifted = [dict(e, first_character=e["first_character"] - first, last_character=e["last_character"] - first)
                   for e in part]
        (folder / f"{name}_alphabets.json").write_text(json.dumps({"alphabets": shifted}))
        np.savez(folder / f"{name}.npz", images=images[rows])
        out.append(folder / f"{name}.npz")
    note = (f"alphabets 1-{TRAIN_ALPHABETS} ({cut} characters, {table[0]['alphabet']} .. "
            f"{table[TRAIN_ALPHABETS - 1]['alphabet']}) / 21-30 ({images.shape[0] - cut} characters, "
            f"{table[TRAIN_ALPHABETS]['alphabet']} .. {table[-1]['alphabet']})")
    return out[0], out[1], note


def idx_images(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(folder / f"{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def fashion_folder(root: Path, source: Path, split: str, classes, per_class: int, seed: int = 0) -> Path:
    """Fashion-MNIST ``classes`` of one split as class folders, ``per_class`` images each, inverted."""
    images, labels = idx_images(source, split)
    rng = np.random.default_rng(seed)
    for c in classes:
        (root / NAMES[c]).mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(rng.choice(np.nonzero(labels == c)[0], per_class, replace=False)):
            Image.fromarray(255 - images[i]).save(root / NAMES[c] / f"{NAMES[c]}_{k:04d}.png")
    return root


def digits_folder(root: Path, per_class: int | None = None) -> Path:
    """scikit-learn's bundled 8x8 digits (0..16 ink) as 28 px class folders, dark ink on light."""
    from sklearn.datasets import load_digits

    d = load_digits()
    for c in range(10):
        (root / f"digit{c}").mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(np.nonzero(d.target == c)[0][:per_class]):
            ink = (d.images[i] * (255 / 16)).round().clip(0, 255).astype(np.uint8)
            img = Image.fromarray(255 - ink).resize((28, 28), Image.BICUBIC)
            img.save(root / f"digit{c}" / f"digit{c}_{k:03d}.png")
    return root


def wait_for_fashion(folder: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not (folder / "t10k-labels-idx1-ubyte.gz").exists():
        if time.monotonic() > deadline:
            sys.exit(f"{folder} is not there: install Debian's dataset-fashion-mnist")
        print(f"waiting for {folder} ...", flush=True)
        time.sleep(20)


# --- training and evaluation ------------------------------------------------------------------------------------
def train(name: str, datasets: list[Path], args, workdir: Path) -> dict:
    out = workdir / f"{name}.safetensors"
    cmd = [sys.executable, "-m", "fewshot_studio", "meta-train", *[a for d in datasets for a in ("--dataset", str(d))],
           "--preset", PRESET, "--steps", str(args.steps), "--val-every", "0", "--val-fraction", "0",
           "--seed", str(args.seed), "--device", "cpu", "--output", str(out), "--quiet"]
    if len(datasets) > 1:
        cmd += ["--dataset-weight", "uniform"]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               PYTHONPATH=str(ROOT))
    print(f"[{time.strftime('%H:%M:%S')}] training {LABELS[name]}: {args.steps} steps", flush=True)
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode:
        sys.exit(f"meta-train failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-3000:]}")
    print(f"  {seconds:.0f} s", flush=True)
    return {"checkpoint": out, "seconds": seconds}


def evaluate(checkpoint: Path, dataset: Path, ways: int, shots: int, args) -> list[float]:
    """Per-episode accuracies, as ``fewshot-studio evaluate CHECKPOINT --dataset D --ways W --shots K`` draws them."""
    from fewshot_studio.core.episodes import EpisodeSampler, open_pool
    from fewshot_studio.core.evaluation import evaluate_episodes, open_predictor

    predict, preprocess, _ = open_predictor(str(checkpoint), device="cpu")
    sampler = EpisodeSampler(open_pool(dataset, preprocess), ways, shots, args.queries, seed=args.eval_seed)
    accs: list[float] = []
    evaluate_episodes(predict, sampler, args.episodes, on_episode=lambda _, a: accs.append(a))
    return accs


def cell(accs: list[float]) -> str:
    from fewshot_studio.core.evaluation import mean_ci95

    m, ci = mean_ci95(accs)
    return f"{100 * m:.1f} ± {100 * ci:.1f}"


def paired(a: list[float], b: list[float]) -> str:
    from fewshot_studio.core.evaluation import mean_ci95

    m, ci = mean_ci95([x - y for x, y in zip(a, b)])
    mark = " **loss**" if m + ci < 0 else (" gain" if m - ci > 0 else "")
    return f"{100 * m:+.1f} ± {100 * ci:.1f}{mark}"


def tables(acc: dict, trained: dict, args) -> str:
    cols = [(d, k) for d in DOMAINS for k in (1, 5)]
    head = "| trained on | steps | training | " + " | ".join(
        f"{DOMAINS[d][0]} {DOMAINS[d][1]}-way {k}-shot" for d, k in cols) + " |"
    lines = [head, "|" + "---|" * (3 + len(cols))]
    for run in RUNS:
        lines.append(f"| {LABELS[run]} | {args.steps} | {trained[run]['seconds'] / 60:.1f} min | "
                     + " | ".join(cell(acc[run, d, k]) for d, k in cols) + " |")
    lines += ["", "Paired differences over the same episodes (points, mean ± 95% CI; **loss** / gain where the "
              "interval excludes 0):", "",
              "| comparison | " + " | ".join(f"{DOMAINS[d][0]} {k}-shot" for d, k in cols) + " |",
              "|" + "---|" * (1 + len(cols))]
    for other in ("omniglot", "fashion"):
        lines.append(f"| both − {LABELS[other]} | " + " | ".join(
            paired(acc["both", d, k], acc[other, d, k]) for d, k in cols) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--npz", type=Path, default=NPZ)
    ap.add_argument("--fashion", type=Path, default=FASHION, help="folder of the Fashion-MNIST idx .gz files")
    ap.add_argument("--steps", type=int, default=1500, help="meta-training steps of every run (default 1500)")
    ap.add_argument("--episodes", type=int, default=300, help="evaluation episodes per cell (default 300)")
    ap.add_argument("--queries", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0, help="training seed, the same for every run")
    ap.add_argument("--eval-seed", type=int, default=1, help="evaluation episodes' seed, the same for every run")
    ap.add_argument("--fashion-train", type=int, default=1000, help="training images per Fashion-MNIST class")
    ap.add_argument("--fashion-held", type=int, default=300, help="evaluation images per held-out class")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: steadier on a shared CPU)")
    ap.add_argument("--wait", type=float, default=1800, help="seconds to wait for Fashion-MNIST to be installed")
    ap.add_argument("--quick", action="store_true", help="tiny steps and episodes: check the code path")
    ap.add_argument("--out", type=Path, help="write the markdown table here (it is always printed)")
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.episodes, args.fashion_train, args.fashion_held = 10, 10, 40, 30
    import torch

    torch.set_num_threads(args.threads)
    started = time.time()
    wait_for_fashion(args.fashion, args.wait)
    workdir = Path(tempfile.mkdtemp(prefix="fewshot-multidomain-"))
    om_train, om_held, om_note = omniglot_split(args.npz, workdir / "omniglot")
    split = "train" if (args.fashion / "train-images-idx3-ubyte.gz").exists() else "t10k"
    fa_train = fashion_folder(workdir / "fashion-train" / "fashion", args.fashion, split, FASHION_TRAIN,
                              args.fashion_train)
    fa_held = fashion_folder(workdir / "fashion-held" / "fashion", args.fashion, "t10k", FASHION_HELD,
                             args.fashion_held, seed=1)
    digits = digits_folder(workdir / "digits")
    train_sets = {"omniglot": om_train, "fashion": fa_train}
    held = {"omniglot": om_held, "fashion": fa_held, "digits": digits}
    trained = {run: train(run, [train_sets[d] for d in ds], args, workdir) for run, ds in RUNS.items()}
    acc = {}
    for run in RUNS:
        for d, (_, ways) in DOMAINS.items():
            for k in (1, 5):
                t = time.monotonic()
                acc[run, d, k] = accs = evaluate(trained[run]["checkpoint"], held[d], ways, k, args)
                print(f"  {LABELS[run]} on {d} {ways}-way {k}-shot: {cell(accs)} ({time.monotonic() - t:.0f} s)",
                      flush=True)
    load = os.getloadavg()
    text = "\n".join([
        f"Recipe: preset `{PRESET}` (ProtoNet, Conv-4, 28 px, l2, 20-way 5-shot 5 queries, rotations as new classes, "
        f"Adam 1e-3), {args.steps} steps, seed {args.seed}, no validation (the last step is kept). Omniglot "
        f"{om_note}; Fashion-MNIST classes 0-5 for training ({args.fashion_train} images each, its {split} split), "
        f"6-9 held out ({args.fashion_held} each, test split; 4-way as only 4 classes are held out); third domain: "
        f"scikit-learn's 8x8 digits 0-9 resized to 28 px ({sum(1 for _ in digits.rglob('*.png'))} images), never "
        f"trained on. Evaluation: {args.episodes} episodes per cell, {args.queries} queries per class, seed "
        f"{args.eval_seed}, the same episodes for every checkpoint; accuracy % (mean ± 95% CI).",
        f"Command `{' '.join([Path(sys.executable).name, *sys.argv])}`; machine {machine()}; commit {git_rev()}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, took {(time.time() - started) / 60:.0f} min; "
        f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.", "",
        tables(acc, trained, args),
    ]) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
