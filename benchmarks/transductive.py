"""Transductive inference and domain adaptation against easyfsl 1.5.0, on the same episodes and features (issue 13).

    bash benchmarks/anchors/setup.sh                         # once: benchmarks/.venv-anchors (easyfsl's rows)
    .venv/bin/python benchmarks/transductive.py --quick      # under a minute: checks that every row runs
    .venv/bin/python benchmarks/transductive.py --out benchmarks/TRANSDUCTIVE_RESULTS.md

(not run by CI). A cross-domain task for an ImageNet backbone: EfficientNet-Lite0 (pretrained, offline) on
Fashion-MNIST's test split (Debian's dataset-fashion-mnist; or ``--dataset DIR``, a folder of class folders),
``--per-class`` images of each class embedded once and kept in memory. Then 5-way 1-shot and 5-shot episodes
of 15 queries per class, with 0, 10 and 100 unlabelled images per class (the episode's pool: the same
classes, disjoint from its support and queries; support and queries are the same whatever the pool's size).

Rows, all on those features:

- ours, through the engine's ``fit_predictor`` (what ``fewshot-studio evaluate --algorithm M [--transductive]
  [--unlabelled-per-class N] [--domain-adaptation S]`` runs for each episode), with an identity backbone over the
  cached features: prototypical (inductive nearest centroid, our cosine default; and Euclidean), prototypical
  with each feature-level adaptation stage (coral, pseudo_label, soft_kmeans: they need a pool), and the
  transductive methods pt_map, tim and laplacian_shot (they classify the queries jointly, with the pool);
- easyfsl 1.5.0's TIM, PTMAP, TransductiveFinetuning, LaplacianShot and BDCSPN, default hyperparameters,
  ``nn.Identity()`` as backbone over the same features, in benchmarks/.venv-anchors (``--easyfsl-worker``);
  their ``forward`` gets the queries followed by the pool, and the queries' rows are scored. PTMAP also once
  with the base class's ``feature_normalization=2`` (its default plan underflows on unnormalised features).

The slow rows (ours · tim and coral, easyfsl's TIM, PTMAPs, TransductiveFinetuning) run on the first
``--slow-episodes`` / ``--slowest-episodes`` episodes of each cell, and are compared on those.

AdaBN and TENT change the backbone, so each episode would run it over its support, queries and pool (up to 580
images, over a minute an episode on these CPUs): ``--backbone-episodes N`` adds them on the first N one-shot
episodes with a pool (0 by default).

Differences are paired (the same episodes): mean difference with its 95% interval (t), WIN / tie / LOSS.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANCHORS_PYTHON = HERE / ".venv-anchors" / "bin" / "python"
sys.path.insert(0, str(HERE))

POOLS = (0, 10, 100)
SHOTS = (1, 5)
OURS = [  # label, method, params, adaptation stages, transductive, cost ("slow", "slowest": fewer episodes)
    ("ours · nearest centroid (prototypical, cosine: inductive)", "prototypical", {}, "", False, ""),
    ("ours · nearest centroid (prototypical, Euclidean)", "prototypical", {"distance": "euclidean"}, "", False, ""),
    ("ours · prototypical + coral", "prototypical", {}, "coral", False, "slowest"),
    ("ours · prototypical + pseudo_label", "prototypical", {}, "pseudo_label", False, ""),
    ("ours · prototypical + soft_kmeans", "prototypical", {}, "soft_kmeans", False, ""),
    ("ours · pt_map (transductive)", "pt_map", {}, "", True, ""),
    ("ours · tim (transductive)", "tim", {}, "", True, "slow"),
    ("ours · laplacian_shot (transductive)", "laplacian_shot", {}, "", True, ""),
]
BASELINE = OURS[0][0]
EASYFSL = [  # label, easyfsl.methods' class, what we set (nothing else: their defaults), cost
    ("easyfsl · TIM", "TIM", {}, "slow"),
    ("easyfsl · PTMAP", "PTMAP", {}, "slowest"),  # 1,000 Sinkhorn iterations when its plan underflows
    ("easyfsl · PTMAP (feature_normalization=2)", "PTMAP", {"feature_normalization": 2}, "slow"),
    ("easyfsl · TransductiveFinetuning", "TransductiveFinetuning", {}, "slow"),
    ("easyfsl · LaplacianShot", "LaplacianShot", {}, ""),
    ("easyfsl · BDCSPN", "BDCSPN", {}, ""),
]
BACKBONE_STAGES = ["adabn", "tent"]
SAME_METHOD = [  # (ours, easyfsl's) for the like-for-like table
    ("ours · pt_map (transductive)", "easyfsl · PTMAP (feature_normalization=2)"),
    ("ours · tim (transductive)", "easyfsl · TIM"),
    ("ours · laplacian_shot (transductive)", "easyfsl · LaplacianShot"),
]


def cell(shots: int, pool: int) -> str:
    return f"{shots}s/{pool}u"


# --- data and features ----------------------------------------------------------------------------------------------
def fashion_pool(pre, per_class: int, seed: int, classes: int = 10, split: str = "t10k"):
    """Fashion-MNIST's test split (``split="train"``: its training split, to develop on), ``per_class`` random
    images of each class, as base tensors made like a PNG's (dark clothes on white, as benchmarks/common.py writes
    them)."""
    import gzip

    import numpy as np
    import torch
    from PIL import Image

    from common import FASHION, NAMES
    from fewshot_studio.core.episodes import TensorPool

    if not FASHION.is_dir():
        raise SystemExit(f"{FASHION} not found: apt-get install dataset-fashion-mnist, or give --dataset DIR")
    with gzip.open(FASHION / f"{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    rng = np.random.default_rng(seed)
    data = []
    for c in range(classes):
        pick = rng.choice(np.nonzero(labels == c)[0], per_class, replace=False)
        data.append(torch.stack([pre.base(Image.fromarray(255 - images[i]).convert("RGB")) for i in pick]))
    return TensorPool(data, NAMES[:classes], NAMES[:classes])


def folder_images(pre, root: str, per_class: int, seed: int):
    import torch

    from fewshot_studio.core.episodes import TensorPool, folder_pool

    full = folder_pool(root, pre)
    g = torch.Generator().manual_seed(seed)
    data = [full.images(c, torch.randperm(full.count(c), generator=g)[:per_class]) for c in range(len(full))]
    return TensorPool(data, list(full.names), list(full.names))


def extract(backbone, pre, pool, batch: int = 32) -> list:
    import torch

    feats = []
    with torch.no_grad():
        for c in range(len(pool)):
            x = pool.images(c, torch.arange(pool.count(c)))
            feats.append(torch.cat([backbone(pre.view(x[i:i + batch])).float() for i in range(0, len(x), batch)]))
    return feats


def feature_pool(features: list, names: list[str]):
    """Cached features as a pool: an EpisodeSampler with the same seed draws the same images as on the images."""
    from fewshot_studio.core.episodes import ClassPool

    class FeaturePool(ClassPool):
        def count(self, c):
            return features[c].shape[0]

        def images(self, c, index):
            return features[c][index]

    return FeaturePool(list(names), list(names), 0)


class FeatureView:
    """Stands in for a Preprocess when the 'images' are cached features: the view is the features themselves."""

    def view(self, x):
        return x.float()


# --- the rows -------------------------------------------------------------------------------------------------------
def run_ours(features, names, settings, seed: int, caps: dict, log) -> dict:
    """label -> cell -> per-episode accuracies (and seconds per episode), our rows."""
    import torch
    from torch import nn

    from fewshot_studio.core.algorithms import get_method
    from fewshot_studio.core.episodes import EpisodeSampler
    from fewshot_studio.core.evaluation import evaluate_episodes, fit_predictor

    fpool = feature_pool(features, names)
    out = {}
    for label, name, params, stages, transductive, cost in OURS:
        cls = get_method(name)
        out[label] = {}
        for shots, pool, episodes in settings:
            if stages and pool == 0:
                continue  # every stage needs the pool
            episodes = min(episodes, caps.get(cost, episodes))
            sampler = EpisodeSampler(fpool, 5, shots, 15, seed=seed + shots, unlabelled=pool)
            notes: list[str] = []
            predict = fit_predictor(lambda: cls.for_backbone("pretrained", params), nn.Identity(), FeatureView(),
                                    torch.device("cpu"), seed=seed, domain_adaptation=stages,
                                    transductive=transductive, notes=notes)
            accs: list[float] = []
            t0 = time.perf_counter()
            evaluate_episodes(predict, sampler, episodes, on_episode=lambda _, a: accs.append(a))
            out[label][cell(shots, pool)] = {"accs": accs, "s": (time.perf_counter() - t0) / episodes,
                                             "notes": len(notes)}
        log(f"{label}: {summary(out[label])}")
    return out


def run_backbone_stages(backbone, pre, images, settings, seed: int, episodes: int, log,
                        stages=tuple(BACKBONE_STAGES)) -> dict:
    """prototypical + adabn / tent on the images (the backbone runs per episode), first ``episodes`` episodes of
    the one-shot cells with a pool (compared with the baseline's first episodes: the same ones)."""
    import torch

    from fewshot_studio.core.algorithms import get_method
    from fewshot_studio.core.episodes import EpisodeSampler
    from fewshot_studio.core.evaluation import evaluate_episodes, fit_predictor

    cls = get_method("prototypical")
    out = {}
    for stage in stages:
        label = f"ours · prototypical + {stage} (backbone per episode)"
        out[label] = {}
        for shots, pool, _ in settings:
            if shots != 1 or pool == 0:
                continue
            sampler = EpisodeSampler(images, 5, shots, 15, seed=seed + shots, unlabelled=pool)
            predict = fit_predictor(lambda: cls.for_backbone("pretrained", {}), backbone, pre, torch.device("cpu"),
                                    seed=seed, domain_adaptation=stage)
            accs: list[float] = []
            t0 = time.perf_counter()
            evaluate_episodes(predict, sampler, episodes, on_episode=lambda _, a: accs.append(a))
            out[label][cell(shots, pool)] = {"accs": accs, "s": (time.perf_counter() - t0) / episodes, "notes": 0}
        log(f"{label}: {summary(out[label])}")
    return out


def easyfsl_worker(features_file: str, job_file: str, out_file: str) -> int:
    """In benchmarks/.venv-anchors: easyfsl's transductive methods on the same features and episodes."""
    import torch
    from torch import nn

    import easyfsl
    from easyfsl import methods

    from fewshot_studio.core.episodes import EpisodeSampler

    torch.set_num_threads(1)
    job = json.loads(Path(job_file).read_text())
    data = torch.load(features_file)
    fpool = feature_pool(data["features"], data["names"])
    out = {"easyfsl": easyfsl.__version__ if hasattr(easyfsl, "__version__") else "1.5.0", "rows": {}}
    for label, name, params, cost in EASYFSL:
        out["rows"][label] = {}
        for shots, pool, episodes in job["settings"]:
            episodes = min(episodes, job["caps"].get(cost, episodes))
            sampler = EpisodeSampler(fpool, 5, shots, 15, seed=job["seed"] + shots, unlabelled=pool)
            accs = []
            t0 = time.perf_counter()
            for i in range(episodes):
                ep = sampler.episode(i)
                torch.manual_seed(job["seed"] + i)
                model = getattr(methods, name)(nn.Identity(), **params).eval()
                joint = ep.query if ep.unlabelled is None else torch.cat([ep.query, ep.unlabelled])
                with torch.no_grad():
                    model.process_support_set(ep.support, ep.support_labels)
                    pred = model(joint)[: ep.query.shape[0]].argmax(-1)
                accs.append((pred == ep.query_labels).float().mean().item())
            out["rows"][label][cell(shots, pool)] = {"accs": accs, "s": (time.perf_counter() - t0) / episodes,
                                                     "notes": 0}
        print(f"{label}: {summary(out['rows'][label])}", flush=True)
    Path(out_file).write_text(json.dumps(out))
    return 0


# --- statistics and tables --------------------------------------------------------------------------------------------
def mean(xs) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def summary(res: dict) -> str:
    return " ".join(f"{c} {100 * mean(v['accs']):.1f}" for c, v in res.items())


def t95(df: int) -> float:
    table = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 15: 2.13,
             20: 2.09, 30: 2.04, 60: 2.00}
    for k in sorted(table):
        if df <= k:
            return table[k]
    return 1.96


def mean_ci(xs) -> tuple[float, float]:
    n = len(xs)
    m = mean(xs)
    if n < 2:
        return m, float("nan")
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, t95(n - 1) * sd / math.sqrt(n)


def paired(a, b) -> tuple[float, float, str]:
    """a - b episode by episode: mean, 95% half-width, WIN / tie / LOSS."""
    n = min(len(a), len(b))
    m, ci = mean_ci([x - y for x, y in zip(a[:n], b[:n])])
    verdict = "tie" if not math.isfinite(ci) or abs(m) <= ci else ("WIN" if m > 0 else "LOSS")
    return m, ci, verdict


def pct(m: float, ci: float) -> str:
    return f"{100 * m:.1f} ± {100 * ci:.1f}" if math.isfinite(ci) else f"{100 * m:.1f}"


def signed(m: float, ci: float, verdict: str) -> str:
    text = f"{100 * m:+.1f} ± {100 * ci:.1f}" if math.isfinite(ci) else f"{100 * m:+.1f}"
    return f"**{text} {verdict}**" if verdict == "LOSS" else f"{text} {verdict}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def report(results: dict, cells: list[str]) -> tuple[str, list[str]]:
    """The accuracy table, the paired tables, and the targets' verdicts (lines)."""
    acc_rows = []
    for label, res in results.items():
        row = [label]
        for c in cells:
            row.append(pct(*mean_ci(res[c]["accs"])) + f" ({len(res[c]['accs'])})" if c in res else "—")
        row.append(" / ".join(f"{1000 * res[c]['s']:.0f}" for c in cells if c in res))
        acc_rows.append(row)
    out = [table(["method (Lite0 features)", *[f"{c.split('/')[0].replace('s', '-shot')}, "
                                              f"{c.split('/')[1].replace('u', '')} unlabelled/class" for c in cells],
                  "ms per episode (by cell)"], acc_rows)]

    base = results[BASELINE]
    ours_td = [label for label in results if label.startswith("ours") and label != BASELINE and "Euclidean" not in label]
    vs_base = []
    for label in ours_td:
        vs_base.append([label] + [signed(*paired(results[label][c]["accs"], base[c]["accs"]))
                                  if c in results[label] else "—" for c in cells])
    out.append(table(["ours vs ours · nearest centroid (paired, points)", *cells], vs_base))

    easy = [label for label in results if label.startswith("easyfsl")]
    best_easy = {c: max(easy, key=lambda k: mean(results[k][c]["accs"])) for c in cells} if easy else {}
    verdicts = []
    if easy:
        rows = [["easyfsl's best (by mean)"] + [best_easy[c].replace("easyfsl · ", "") for c in cells]]
        for label in [k for k in ours_td if "transductive" in k] + [k for k in ours_td if "transductive" not in k]:
            rows.append([label] + [signed(*paired(results[label][c]["accs"], results[best_easy[c]][c]["accs"]))
                                   if c in results[label] else "—" for c in cells])
        for label in easy:
            rows.append([f"({label} vs ours · nearest centroid)"] +
                        [signed(*paired(results[label][c]["accs"], base[c]["accs"])) for c in cells])
        out.append(table(["ours vs easyfsl's best transductive method in each cell (paired, points)", *cells], rows))
        same = [(o, e) for o, e in SAME_METHOD if o in results and e in results]
        if same:
            out.append(table(["ours vs easyfsl's implementation of the same method (paired, points)", *cells],
                             [[f"{o} vs {e.replace('easyfsl · ', '')}"] +
                              [signed(*paired(results[o][c]["accs"], results[e][c]["accs"])) for c in cells]
                              for o, e in same]))

    # targets
    target_cell = cell(1, 100)
    if target_cell in cells:
        for label in ours_td:
            if target_cell in results[label]:
                m, ci, _ = paired(results[label][target_cell]["accs"], base[target_cell]["accs"])
                ok = "met" if m >= 0.10 else "NOT met"
                verdicts.append(f"target 1 (1-shot, 100 unlabelled/class, >= +10 points over inductive): {label}: "
                                f"{100 * m:+.1f} ± {100 * ci:.1f}: {ok}")
    for label in ours_td:
        losses = [c for c in cells if c in results[label] and paired(results[label][c]["accs"],
                                                                      base[c]["accs"])[2] == "LOSS"]
        verdicts.append(f"target 2 (never below inductive beyond the CI): {label}: "
                        + (f"LOSS in {', '.join(losses)}" if losses else "met"))
    if easy:
        for label in [k for k in ours_td if "transductive" in k]:
            losses = [c for c in cells if paired(results[label][c]["accs"], results[best_easy[c]][c]["accs"])[2]
                      == "LOSS"]
            verdicts.append(f"target 3 (at least tie easyfsl's best transductive method): {label}: "
                            + (f"LOSS in {', '.join(losses)}" if losses else "met"))
    return "\n\n".join(out), verdicts


# --- main -----------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few images and episodes (under a minute): checks the rows")
    ap.add_argument("--dataset", help="a folder of class folders (default: Fashion-MNIST's test split)")
    ap.add_argument("--fashion-split", choices=["t10k", "train"], default="t10k",
                    help="Fashion-MNIST's split: t10k (test, the reported runs) or train (to develop on)")
    ap.add_argument("--per-class", type=int, help="images embedded per class (default 200; --quick 25)")
    ap.add_argument("--episodes", type=int, help="episodes per cell (default 300; --quick 3)")
    ap.add_argument("--slow-episodes", type=int, help="episodes per cell of the slow rows (ours · tim; easyfsl · "
                    "TIM, PTMAP normalised, TransductiveFinetuning), the first ones of the others' (default 60)")
    ap.add_argument("--slowest-episodes", type=int, help="the same for ours · coral and easyfsl · PTMAP "
                    "(default 30)")
    ap.add_argument("--pools", default=None, help="unlabelled images per class, comma-separated (default 0,10,100; "
                    "--quick 0,5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--features", help="a .pt file: load the features from it when it exists, else save them there")
    ap.add_argument("--backbone-episodes", type=int, default=0, help="add adabn and tent (the backbone runs per "
                    "episode) on this many one-shot episodes of each pool size > 0")
    ap.add_argument("--backbone-stages", default=",".join(BACKBONE_STAGES),
                    help="those rows' stages, comma-separated, each with its options (adabn:source=target)")
    ap.add_argument("--anchors-python", default=str(ANCHORS_PYTHON), help="interpreter with easyfsl 1.5.0")
    ap.add_argument("--skip-easyfsl", action="store_true")
    ap.add_argument("--out", help="write the markdown here too")
    ap.add_argument("--easyfsl-worker", nargs=3, metavar=("FEATURES", "JOB", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.easyfsl_worker:
        return easyfsl_worker(*args.easyfsl_worker)

    import torch

    from common import git_rev, machine
    from fewshot_studio.core.backbones import get_backbone

    torch.set_num_threads(1)  # two processes side by side (ours, easyfsl) on a shared 2-core machine
    per_class = args.per_class or (25 if args.quick else 200)
    episodes = args.episodes or (3 if args.quick else 300)
    caps = {"slow": min(episodes, args.slow_episodes or 60), "slowest": min(episodes, args.slowest_episodes or 30)}
    pools = [int(p) for p in (args.pools or ("0,5" if args.quick else ",".join(map(str, POOLS)))).split(",")]
    settings = [(s, u, episodes) for s in SHOTS for u in pools]
    cells = [cell(s, u) for s, u, _ in settings]
    started, load0 = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()

    def log(msg):
        print(f"[{time.perf_counter() - t_start:6.1f} s] {msg}", flush=True)

    if not args.skip_easyfsl and not Path(args.anchors_python).exists():
        raise SystemExit(f"{args.anchors_python} not found: bash benchmarks/anchors/setup.sh (or --skip-easyfsl)")
    t_start = time.perf_counter()
    spec = get_backbone("efficientnet_lite0")
    pre = spec.preprocess
    backbone = spec.build("pretrained").use_channels_last().eval()
    images = None
    if args.features and Path(args.features).exists():
        data = torch.load(args.features)
        features, names, feature_s = data["features"], data["names"], data["seconds"]
        log(f"features from {args.features}")
    if not (args.features and Path(args.features).exists()) or args.backbone_episodes:
        images = (folder_images(pre, args.dataset, per_class, args.seed) if args.dataset
                  else fashion_pool(pre, per_class, args.seed, 6 if args.quick else 10, args.fashion_split))
        log(f"{sum(images.count(c) for c in range(len(images)))} images of {len(images)} classes loaded")
    if not (args.features and Path(args.features).exists()):
        t0 = time.perf_counter()
        features, names = extract(backbone, pre, images), list(images.names)
        feature_s = time.perf_counter() - t0
        log(f"features: {sum(len(f) for f in features)} images in {feature_s:.0f} s")
    tmp = Path(tempfile.mkdtemp(prefix="transductive-bench-"))
    features_file = Path(args.features) if args.features else tmp / "features.pt"
    if not features_file.exists():
        torch.save({"features": features, "names": names, "seconds": feature_s}, features_file)

    worker = None
    if not args.skip_easyfsl:
        job = tmp / "job.json"
        job.write_text(json.dumps({"settings": settings, "seed": args.seed, "caps": caps}))
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "OMP_NUM_THREADS": "1"}
        worker = subprocess.Popen([args.anchors_python, __file__, "--easyfsl-worker", str(features_file), str(job),
                                   str(tmp / "easyfsl.json")], env=env, stdout=subprocess.PIPE, text=True)
    results = run_ours(features, names, settings, args.seed, caps, log)
    if args.backbone_episodes:
        results.update(run_backbone_stages(backbone, pre, images, settings, args.seed, args.backbone_episodes, log,
                                           args.backbone_stages.split(",")))
    versions = ""
    if worker is not None:
        for line in worker.stdout:
            log(line.rstrip())
        if worker.wait() != 0:
            raise SystemExit("the easyfsl worker failed (its error is above)")
        answer = json.loads((tmp / "easyfsl.json").read_text())
        results.update(answer["rows"])
        versions = f", easyfsl {answer['easyfsl']}"
    total = time.perf_counter() - t_start

    backbone_rows = {k: v for k, v in results.items() if "backbone per episode" in k}
    main_rows = {k: v for k, v in results.items() if k not in backbone_rows}
    body, verdicts = report(main_rows, cells)
    dataset = args.dataset or (f"Fashion-MNIST {'test' if args.fashion_split == 't10k' else 'training'} split "
                               "(Debian's dataset-fashion-mnist)")
    load1 = os.getloadavg()
    text = [
        f"{'Quick check (not the headline). ' if args.quick else ''}Run {started}, commit {git_rev()}{versions}; "
        f"{machine()}.",
        f"Load average (1, 5, 15 min) at the start {' '.join(f'{x:.2f}' for x in load0)}, at the end "
        f"{' '.join(f'{x:.2f}' for x in load1)} (2 cores shared with other work: the times are upper bounds).",
        f"Data: {dataset}, {per_class} images per class embedded once with EfficientNet-Lite0 (ImageNet, 224 px) "
        f"in {feature_s:.0f} s; 5-way, 15 queries per class, {episodes} episodes per cell (the slow rows fewer, "
        f"the first episodes of the others: {caps['slow']} for ours · tim and easyfsl's TIM, PTMAP normalised "
        f"and TransductiveFinetuning, {caps['slowest']} for ours · coral and easyfsl's default PTMAP), seed {args.seed} "
        f"(one-shot seed {args.seed + 1}, five-shot {args.seed + 5}); the whole run {total / 60:.1f} min.",
        f"Command: `{' '.join(['.venv/bin/python', 'benchmarks/transductive.py', *(argv or sys.argv[1:])])}`",
        "", "Accuracy, % ± 95% interval (episodes):", "", body,
    ]
    if backbone_rows:
        sub, sub_verdicts = report({BASELINE: {c: main_rows[BASELINE][c] for c in main_rows[BASELINE]}}
                                   | backbone_rows, [c for c in cells if c in next(iter(backbone_rows.values()))])
        text += ["", f"AdaBN and TENT (the backbone runs per episode), first {args.backbone_episodes} episodes, "
                 "paired with nearest centroid on those same episodes:", "", "\n\n".join(sub.split("\n\n")[:2])]
        verdicts += sub_verdicts
    text += ["", "Targets:", ""] + [f"- {v}" for v in verdicts]
    notes = {k: sum(v[c]["notes"] for c in v) for k, v in results.items() if any(v[c]["notes"] for c in v)}
    if notes:
        text += ["", "Episodes where the guard kept the inductive answer: " +
                 ", ".join(f"{k}: {n}" for k, n in notes.items())]
    md = "\n".join(text)
    print("\n" + md)
    if args.out:
        Path(args.out).write_text(md + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
