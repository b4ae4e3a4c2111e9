"""Recipe development for the meta-training presets: which choices win on Omniglot alphabets held out from training.

Development protocol: meta-train on the first 16 background alphabets, evaluate on alphabets 17-20. The headline
runs (run_all.py) train on alphabets 1-20 and report on 21-30, which no choice here ever sees.
Each variant runs in a fresh process through benchmarks/anchors/runner.py (the same training and evaluation
code as run_all.py), one at a time; answers go to a JSON-lines file so an interrupted sweep resumes.

    .venv/bin/python benchmarks/recipes.py --sweep protonet --out /tmp/recipes.jsonl
    .venv/bin/python benchmarks/recipes.py --sweep protonet --out /tmp/recipes.jsonl --report

A sweep's variants share one cost measure (images through the backbone per training run, ``--images``), so a
20-way episode counts four 5-way ones: the comparison is at equal compute, not equal episodes. Where the methods'
cost per image differs (first- against second-order MAML, the meta-batch's share of optimizer steps), ``--seconds``
gives every variant the same wall-clock training time instead: then run the sweep alone on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNNER = HERE / "anchors" / "runner.py"
NPZ = ROOT.parent / "shared" / "data" / "omniglot" / "images_background.npz"
TRAIN_ALPHABETS, DEV_ALPHABETS = 16, (16, 20)  # train on 1-16, choose on 17-20 (0-based slice 16:20)


def variant(name: str, method: str, *, ways=5, shots=5, queries=15, params=None, config=None, lr=1e-3,
            meta_batch=1) -> dict:
    return {"name": name, "method": method, "ways": ways, "shots": shots, "queries": queries,
            "params": params or {}, "config": config or {}, "lr": lr, "meta_batch": meta_batch}


SWEEPS = {
    # ProtoNet from scratch: the logits, then higher-way training at equal compute
    "protonet": [
        variant("cosine s10, 5w5s15q", "prototypical"),
        variant("l2, 5w5s15q", "prototypical", params={"distance": "l2"}),
        variant("squared euclidean, 5w5s15q", "prototypical", params={"distance": "euclidean"}),
        variant("l2, 20w5s5q", "prototypical", ways=20, queries=5, params={"distance": "l2"}),
        variant("l2, 60w5s5q", "prototypical", ways=60, queries=5, params={"distance": "l2"}),
        variant("l2, 20w1s5q", "prototypical", ways=20, shots=1, queries=5, params={"distance": "l2"}),
        variant("l2, 60w1s5q", "prototypical", ways=60, shots=1, queries=5, params={"distance": "l2"}),
    ],
    "protonet-schedule": [
        variant("l2, 20w5s5q, constant", "prototypical", ways=20, queries=5, params={"distance": "l2"}),
        variant("l2, 20w5s5q, cosine", "prototypical", ways=20, queries=5, params={"distance": "l2"},
                config={"lr_schedule": "cosine"}),
        variant("l2, 20w5s5q, augment", "prototypical", ways=20, queries=5, params={"distance": "l2"},
                config={"augment": True}),
    ],
    # CNP: the decoder's input (Garnelo et al.'s concatenation, or the encodings compared)
    "cnp": [
        variant("concat decoder, 5w5s15q", "cnp", params={"decoder": "concat"}),
        variant("compare decoder, 5w5s15q", "cnp", params={"decoder": "compare"}),
        variant("compare decoder, 20w5s5q", "cnp", ways=20, queries=5, params={"decoder": "compare"}),
    ],
    # MAML (the seed's 5w1s15q, meta-batch 32) and the MAML++ options, one at a time, then together
    "maml": [
        variant("seed (preset maml)", "maml", shots=1, meta_batch=32),
        variant("+ multi-step loss", "maml", shots=1, meta_batch=32, params={"multi_step_loss": True}),
        variant("+ learned per-step inner lr", "maml", shots=1, meta_batch=32, params={"learned_inner_lr": True}),
        variant("+ cosine outer lr", "maml", shots=1, meta_batch=32, config={"lr_schedule": "cosine"}),
        variant("+ all three", "maml", shots=1, meta_batch=32, params={"multi_step_loss": True,
                                                                          "learned_inner_lr": True},
                config={"lr_schedule": "cosine"}),
    ],
    # MAML at a wall-clock budget (--seconds): the meta-batch (more optimizer steps in the same time), first order,
    # Proto-MAML's head, and the MAML++ options on the best of those
    "maml-budget": [
        variant("maml, meta-batch 32 (Finn et al.'s)", "maml", shots=1, meta_batch=32),
        variant("maml, meta-batch 8", "maml", shots=1, meta_batch=8),
        variant("maml, meta-batch 4", "maml", shots=1, meta_batch=4),
        variant("maml, meta-batch 8, prototype head", "maml", shots=1, meta_batch=8,
                params={"head_init": "prototypes"}),
        variant("maml, meta-batch 8, msl + lslr", "maml", shots=1, meta_batch=8,
                params={"multi_step_loss": True, "learned_inner_lr": True}),
        variant("fomaml, meta-batch 8", "fomaml", shots=1, meta_batch=8),
    ],
    # The methods with an anchor but no preset yet, at a wall-clock budget (--seconds): the anchors' episode shape
    # against ProtoNet's winning shapes (higher way, one shot, 5 queries) and, for ANIL, MAML's meta-batch
    "matching-budget": [
        variant("matching, 5w5s15q (easyfsl's shape)", "matching"),
        variant("matching, 20w1s5q", "matching", ways=20, shots=1, queries=5),
        variant("matching, 60w1s5q", "matching", ways=60, shots=1, queries=5),
    ],
    "relation-budget": [
        variant("relation, 5w5s15q (easyfsl's shape)", "relation"),
        variant("relation, 20w1s5q", "relation", ways=20, shots=1, queries=5),
        variant("relation, 20w5s5q", "relation", ways=20, queries=5),
        variant("relation, 5w5s15q, cross-entropy", "relation", params={"loss": "ce"}),
    ],
    # First-order MAML and Reptile, at equal images (their steps cost alike within a sweep): MAML's winning
    # meta-batch against the seed's, and ProtoNet's higher-way one-shot shape
    "fomaml": [
        variant("fomaml, meta-batch 32 (the seed's)", "fomaml", shots=1, meta_batch=32),
        variant("fomaml, meta-batch 4", "fomaml", shots=1, meta_batch=4),
        variant("fomaml, meta-batch 4, 20w1s5q", "fomaml", ways=20, shots=1, queries=5, meta_batch=4),
    ],
    "reptile": [
        variant("reptile, meta-batch 5 (Nichol et al.'s)", "reptile", shots=1, meta_batch=5),
        variant("reptile, meta-batch 1", "reptile", shots=1, meta_batch=1),
        variant("reptile, meta-batch 1, 20w1s5q", "reptile", ways=20, shots=1, queries=5, meta_batch=1),
    ],
    "anil-budget": [
        variant("anil, meta-batch 32 (learn2learn's example)", "anil", shots=1, meta_batch=32),
        variant("anil, meta-batch 4", "anil", shots=1, meta_batch=4),
        variant("anil, meta-batch 4, 20w1s5q", "anil", ways=20, shots=1, queries=5, meta_batch=4),
    ],
}


def steps_for(v: dict, images: int) -> int:
    per_step = v["ways"] * (v["shots"] + v["queries"]) * v["meta_batch"]
    return max(1, images // per_step)


def job_for(v: dict, args, workdir: Path) -> dict:
    # val_fraction 14/30: MetaTrainRun's split keeps the first 16 alphabets for training
    train = {"dataset": str(args.npz), "val_fraction": (30 - TRAIN_ALPHABETS) / 30, "rotations": True,
             "image_size": 28, "ways": v["ways"], "shots": v["shots"], "queries": v["queries"],
             "meta_batch": v["meta_batch"], "steps": steps_for(v, args.images), "lr": v["lr"], "seed": args.seed,
             "config": v["config"]}
    if args.seconds:  # the runner stops after the step that crosses the budget
        train.update(steps=10**7, seconds=args.seconds)
    return {"job": "omniglot", "lib": "ours", "method": v["method"], "params": v["params"], "label": v["name"],
            "train": train, "device": "cpu", "workdir": str(workdir),
            "eval": {"npz": str(args.npz), "alphabets": args.dev_alphabets, "seed": args.seed + 1,
                     "settings": [[5, 1, args.episodes], [20, 1, args.episodes // 2]]
                     + ([[5, 5, args.episodes // 2]]
                        if args.sweep.startswith(("maml", "fomaml", "reptile")) or args.seconds else []),
                     "queries": {"5": 15, "20": 5}},
            "conventions": {"support": None} if v["method"] in ("maml", "fomaml", "anil", "reptile") else None}


def dev_alphabets(npz: Path) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from fewshot_studio.core.episodes import omniglot_pool

    groups = list(dict.fromkeys(omniglot_pool(npz, size=28).groups))
    return groups[DEV_ALPHABETS[0]:DEV_ALPHABETS[1]]


def run_once(job: dict) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.run([sys.executable, str(RUNNER), "once", json.dumps(job)], capture_output=True, text=True,
                          env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("@@ "):
            return json.loads(line[3:])
    return {"ok": False, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no answer"}


def report(rows: list[dict]) -> str:
    cols = ["5w1s", "20w1s"] + (["5w5s"] if any("5w5s" in next(iter(r["answer"]["result"]["eval"].values()))
                                                 for r in rows if r["answer"].get("ok")) else [])
    lines = ["| variant | steps | train s | " + " | ".join(cols) + " |", "|---" * (3 + len(cols)) + "|"]
    for r in rows:
        if not r["answer"].get("ok"):
            lines.append(f"| {r['name']} | - | - | failed: {r['answer'].get('error')} | |")
            continue
        res = r["answer"]["result"]
        ev = next(iter(res["eval"].values()))
        cells = [f"{100 * ev[k]['mean']:.1f} ± {100 * ev[k]['ci95']:.1f}" if k in ev else "-" for k in cols]
        lines.append(f"| {r['name']} | {res['steps']} | {res['train_seconds']:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", choices=sorted(SWEEPS), required=True)
    ap.add_argument("--only", nargs="*", help="variant names to run (default: all of the sweep)")
    ap.add_argument("--images", type=int, default=150_000, help="images through the backbone per training run")
    ap.add_argument("--seconds", type=float, help="wall-clock training time per run instead of --images (run alone)")
    ap.add_argument("--episodes", type=int, default=400, help="5-way dev episodes (20-way: half)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--npz", type=Path, default=NPZ)
    ap.add_argument("--out", type=Path, required=True, help="answers, one JSON line per variant (resumes)")
    ap.add_argument("--report", action="store_true", help="print the table of what --out holds and stop")
    args = ap.parse_args(argv)
    budget = f"{args.seconds:g}s" if args.seconds else args.images  # the key an answer is kept under
    done = {}
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            row = json.loads(line)
            done[(row["sweep"], row["name"], row.get("budget", row["images"]))] = row
    variants = [v for v in SWEEPS[args.sweep] if not args.only or v["name"] in args.only]
    if not args.report:
        args.dev_alphabets = dev_alphabets(args.npz)
        with tempfile.TemporaryDirectory() as tmp:
            for v in variants:
                key = (args.sweep, v["name"], budget)
                if key in done:
                    continue
                answer = run_once(job_for(v, args, Path(tmp)))
                row = {"sweep": args.sweep, "name": v["name"], "images": args.images, "budget": budget,
                       "answer": answer}
                if answer.get("ok"):
                    for conv in answer["result"]["eval"].values():
                        for cell in conv.values():
                            cell.pop("accs", None)
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                done[key] = row
                print(report([row]).splitlines()[-1], flush=True)
    rows = [done[(args.sweep, v["name"], budget)] for v in variants if (args.sweep, v["name"], budget) in done]
    per_run = f"{args.seconds:g} s of training" if args.seconds else f"{args.images} training images"
    print(f"sweep {args.sweep}, {per_run} per run, dev alphabets 17-20")
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
