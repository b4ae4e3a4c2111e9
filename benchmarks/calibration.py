"""Expected calibration error before and after the support-set temperature, on held-out episode queries.

For each N-way K-shot episode: the method is fitted on the support set, the temperature is fitted on the
support set alone (leave-one-out held-out logits for a frozen backbone, as Adapt does; 5-fold adaptations for a
method that trains the backbone), and ECE (10 bins) is measured on the episode's queries, pooled over episodes.
Frozen-backbone methods reuse features embedded once; ``maml`` runs whole adaptations (slow on a CPU: use fewer
episodes with --maml-episodes).

    python benchmarks/calibration.py --dataset fashion --episodes 100 --maml-episodes 10
    python benchmarks/calibration.py --dataset demo --episodes 100 --queries 3
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import FASHION, NAMES, machine  # noqa: E402

from fewshot_studio.core.algorithms import FitTask, get_method  # noqa: E402
from fewshot_studio.core.backbones import get_backbone  # noqa: E402
from fewshot_studio.core.backbones.cache import load_backbone  # noqa: E402
from fewshot_studio.core.calibration import (calibration_from_logits, expected_calibration_error,  # noqa: E402
                                             frozen_held_out, plan_folds)
from fewshot_studio.core.demo import demo_dir, true_label  # noqa: E402
from fewshot_studio.core.devices import Precision  # noqa: E402
from fewshot_studio.core.engine import AdaptRun  # noqa: E402
from fewshot_studio.core.support import SupportSet  # noqa: E402


def fashion_pool(root: Path, per_class: int, seed: int) -> dict[str, list[Path]]:
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    rng = np.random.default_rng(seed)
    pool = {}
    for c, name in enumerate(NAMES):
        (root / name).mkdir(parents=True, exist_ok=True)
        pool[name] = []
        for k, i in enumerate(rng.choice(np.nonzero(labels == c)[0], per_class, replace=False)):
            path = root / name / f"{name}_{k}.png"
            Image.fromarray(255 - images[i]).save(path)
            pool[name].append(path)
    return pool


def demo_pool() -> dict[str, list[Path]]:
    pool: dict[str, list[Path]] = {}
    for folder in sorted((demo_dir() / "support").iterdir()):
        pool[folder.name] = sorted(folder.glob("*.png"))
    for path in sorted((demo_dir() / "query").glob("*.png")):
        pool.setdefault(true_label(path), []).append(path)
    return pool


def embed(paths: list[Path], backbone_name: str):
    """(backbone, uint8 base tensors (N, 3, R, R), pooled features (N, D)) of every image, embedded once."""
    spec = get_backbone(backbone_name)
    backbone = load_backbone(spec, "pretrained")[0].eval()
    pre = spec.preprocess
    bases, out = [], []
    with torch.no_grad():
        for i in range(0, len(paths), 32):
            bases.append(torch.cat([pre.load([p]) for p in paths[i:i + 32]]))
            out.append(backbone(pre.view(bases[-1])).float())
            print(f"  embedded {min(i + 32, len(paths))}/{len(paths)}", file=sys.stderr, flush=True)
    return backbone, torch.cat(bases), torch.cat(out)


def episodes(pool, ways, shots, queries, count, seed):
    rng = np.random.default_rng(seed)
    names = [n for n, p in pool.items() if len(p) >= shots + queries]
    for _ in range(count):
        classes = rng.choice(len(names), ways, replace=False)
        support, query = [], []
        for k, c in enumerate(classes):
            chosen = rng.choice(len(pool[names[c]]), shots + queries, replace=False)
            support += [(names[c], int(j), k) for j in chosen[:shots]]
            query += [(names[c], int(j), k) for j in chosen[shots:]]
        yield support, query


def frozen_method(method_name, pool, embedded, index, ways, shots, queries, count, seed):
    """Pooled (query logits, query labels, temperatures) for a method on the frozen backbone's features."""
    spec = get_backbone("efficientnet_lite0")
    backbone, bases, feats = embedded
    all_logits, all_labels, temps = [], [], []
    for support, query in episodes(pool, ways, shots, queries, count, seed):
        s_idx = torch.tensor([index[(n, j)] for n, j, _ in support])
        q_idx = torch.tensor([index[(n, j)] for n, j, _ in query])
        s_y = torch.tensor([k for *_, k in support])
        q_y = torch.tensor([k for *_, k in query])
        task = FitTask(backbone, spec.preprocess, bases[s_idx], s_y, ways, torch.device("cpu"), Precision(torch.device("cpu")),
                       torch.Generator().manual_seed(seed), features=feats[s_idx])
        method = get_method(method_name)()
        for _ in method.fit(task):
            pass
        plan, _ = plan_folds(s_y.tolist(), "auto", True, seed)
        held = torch.zeros(len(s_idx), ways)
        for test, out in frozen_held_out(task, feats[s_idx], get_method(method_name), plan):
            held[test] = out
        cal = calibration_from_logits(held, s_y)
        with torch.no_grad():
            all_logits.append(method.logits(feats[q_idx]).float())
        all_labels.append(q_y)
        temps.append(cal.temperature)
    return torch.cat(all_logits), torch.cat(all_labels), temps


def maml_episodes(pool, ways, shots, queries, count, seed):
    all_logits, all_labels, temps = [], [], []
    for e, (support, query) in enumerate(episodes(pool, ways, shots, queries, count, seed)):
        names = sorted({n for n, _, _ in support}, key=[n for n, _, _ in support].index)
        s = SupportSet((n, [pool[n][j] for m, j, _ in support if m == n]) for n in names)
        clf = AdaptRun(s, "efficientnet_lite0", "maml", calibrate=True, seed=seed + e).run()
        base = torch.cat([clf.preprocess.load([pool[n][j]]) for n, j, _ in query])
        with torch.no_grad():
            f, _ = clf.features(clf.preprocess.view(base))
            all_logits.append(clf.method.logits(f.float()).float().cpu())
        all_labels.append(torch.tensor([clf.class_names.index(n) for n, _, _ in query]))
        temps.append(clf.calibration.temperature)
        print(f"  maml episode {e + 1}/{count}: T={temps[-1]:.3g}", file=sys.stderr, flush=True)
    return torch.cat(all_logits), torch.cat(all_labels), temps


def row(name, logits, labels, temps, episodes_run):
    t = torch.tensor(temps)
    # each episode's queries divided by that episode's own temperature
    per = torch.repeat_interleave(t, len(labels) // len(temps)).unsqueeze(1)
    before = expected_calibration_error(F.softmax(logits, dim=-1), labels)
    after = expected_calibration_error(F.softmax(logits / per, dim=-1), labels)
    acc = float((logits.argmax(-1) == labels).float().mean())
    return {"method": name, "episodes": episodes_run, "queries": len(labels), "accuracy": acc,
            "ece_before": before, "ece_after": after, "median_temperature": float(t.median())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=("fashion", "demo"), default="fashion")
    ap.add_argument("--ways", type=int, default=5)
    ap.add_argument("--shots", type=int, default=5)
    ap.add_argument("--queries", type=int, default=15)
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--maml-episodes", type=int, default=10)
    ap.add_argument("--methods", default="prototypical,linear_probe,anil,maml")
    ap.add_argument("--per-class", type=int, default=100, help="Fashion-MNIST images per class in the pool")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        pool = fashion_pool(Path(tmp), args.per_class, args.seed) if args.dataset == "fashion" else demo_pool()
        flat = [(n, j, p) for n, paths in pool.items() for j, p in enumerate(paths)]
        index = {(n, j): i for i, (n, j, _) in enumerate(flat)}
        embedded = None
        rows = []
        for name in args.methods.split(","):
            if name == "maml":
                if args.maml_episodes:
                    logits, labels, temps = maml_episodes(pool, args.ways, args.shots, args.queries,
                                                          args.maml_episodes, args.seed)
                    rows.append(row(name, logits, labels, temps, args.maml_episodes))
            else:
                if embedded is None:
                    embedded = embed([p for *_, p in flat], "efficientnet_lite0")
                logits, labels, temps = frozen_method(name, pool, embedded, index, args.ways, args.shots, args.queries,
                                                      args.episodes, args.seed)
                rows.append(row(name, logits, labels, temps, args.episodes))
            print(json.dumps(rows[-1]), flush=True)
    load = os.getloadavg()
    print(f"\n{args.dataset}, {args.ways}-way {args.shots}-shot, {args.queries} queries per class, EfficientNet-Lite0; "
          f"{machine()}; machine shared with other work (load average {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f})")
    print("| method | episodes | accuracy | ECE before | ECE after | median T |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['episodes']} | {r['accuracy']:.1%} | {r['ece_before']:.3f} | "
              f"{r['ece_after']:.3f} | {r['median_temperature']:.3g} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
