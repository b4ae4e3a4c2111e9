"""Omniglot at the budgets users run: ours (its preset) against its anchor, the same wall-clock time or episodes.

Each pair trains one process at a time, ours and the anchor alternating, on the development protocol of run_all.py
(meta-trained on background alphabets 1-20, scored on 21-30 and on Lake-format runs written from those of them
that are in neither minimal split), then both are evaluated on the same episodes: 5-way 1-shot 600, 5-way 5-shot
300, 20-way 1-shot 200 and 20-way 5-shot 100 by default. Run it alone on a quiet machine: a wall-clock budget
measures the machine as much as the code.

    .venv/bin/python benchmarks/budget_bench.py --pairs protonet --seconds 600 --out /tmp/budget-600s.md
    .venv/bin/python benchmarks/budget_bench.py --pairs protonet --episodes-budget 5000 --out /tmp/budget-5000.md
    .venv/bin/python benchmarks/budget_bench.py --pairs protonet --seconds 3600 --ours-only --out /tmp/best.md

``--seconds``: both sides train for that long (counted from the start of the training loop; data loading and
evaluation excluded). ``--episodes-budget``: both see that many training tasks. Ours runs its preset (the values
of ``fewshot_studio.core.presets``, when that module has the preset; otherwise those given here); the anchor runs
its library's defaults on our episodes (benchmarks/anchors/runner.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run_all  # noqa: E402

# The anchors' episode shapes: learn2learn's Omniglot MAML/ANIL example, easyfsl's 5-way 5-shot
L2L_SHAPE = {"ways": 5, "shots": 1, "queries": 15, "meta_batch": 32}
L2L_PARAMS = {"inner_lr": 0.4, "inner_steps": 2, "adapt_steps": 5, "first_order": False}
EASYFSL_SHAPE = {"ways": 5, "shots": 5, "queries": 15, "meta_batch": 1}


def _pair(preset: str, method: str, title: str, lib: str, anchor_title: str) -> dict:
    """ours: the preset (MetaTrainConfig fields and method params); anchor: library, method, params and its own
    episode shape (learn2learn's Omniglot example, easyfsl's 5-way 5-shot)."""
    anchor = {"lib": lib, "method": method, "label": anchor_title,
              "shape": dict(L2L_SHAPE if lib == "l2l" else EASYFSL_SHAPE)}
    if lib == "l2l":
        anchor["params"] = dict(L2L_PARAMS)
    return {"ours": {"method": method, "preset": preset, "label": f"ours · {title} (preset {preset})"},
            "anchor": anchor}


PAIRS = {
    "protonet": _pair("protonet", "prototypical", "ProtoNet", "easyfsl", "easyfsl · Prototypical"),
    "maml": _pair("maml", "maml", "MAML", "l2l", "learn2learn · MAML"),
    "anil": _pair("anil", "anil", "ANIL", "l2l", "learn2learn · ANIL"),
    "matching": _pair("matching", "matching", "Matching", "easyfsl", "easyfsl · Matching"),
    "relation": _pair("relation", "relation", "Relation", "easyfsl", "easyfsl · Relation"),
}
FALLBACK = {  # the recipes, where core/presets.py does not have them
    "protonet": {"ways": 20, "shots": 5, "queries": 5, "meta_batch": 1, "params": {"distance": "l2"}},
    "maml": {"ways": 5, "shots": 1, "queries": 15, "meta_batch": 4, "params": {}},
    "anil": {"ways": 20, "shots": 1, "queries": 5, "meta_batch": 4, "params": {}},
    "matching": {"ways": 20, "shots": 1, "queries": 5, "meta_batch": 1, "params": {}},
    "relation": {"ways": 5, "shots": 5, "queries": 15, "meta_batch": 1, "params": {}},
}
SHAPE_KEYS = ("ways", "shots", "queries", "meta_batch")


def preset_values(name: str) -> dict:
    try:
        from fewshot_studio.core.presets import get_preset
    except ImportError:
        return dict(FALLBACK[name])
    preset = get_preset(name)
    return dict(preset.values)


def ours_job(pair: str, spec: dict, base: dict) -> dict:
    values = preset_values(spec["preset"]) if "preset" in spec else dict(spec["values"])
    params = values.pop("params", {})
    train = dict(base)
    for k in SHAPE_KEYS:
        if k in values:
            train[k] = values.pop(k)
    if "lr" in values:
        train["lr"] = values.pop("lr")
    values.pop("method", None)
    values.pop("steps", None)
    train["config"] = values  # everything else (lr_schedule, augment...) goes to MetaTrainConfig
    return {"job": "omniglot", "lib": "ours", "method": spec["method"], "params": params, "label": spec["label"],
            "train": train, "item": 1, "preset": spec.get("preset")}


def anchor_job(spec: dict, base: dict, pair_label: str) -> dict:
    train = dict(base, **spec["shape"])
    return {"job": "omniglot", "lib": spec["lib"], "method": spec["method"], "params": spec.get("params", {}),
            "label": spec["label"], "train": train, "item": 1, "pair": pair_label}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", nargs="+", choices=sorted(PAIRS), default=["protonet"])
    budget = ap.add_mutually_exclusive_group(required=True)
    budget.add_argument("--seconds", type=float, help="wall-clock training budget per row")
    budget.add_argument("--episodes-budget", type=int, help="training tasks per row (steps x meta-batch)")
    ap.add_argument("--episodes", default="600,300,200,100", help="evaluation episodes 5w1s,5w5s,20w1s,20w5s")
    ap.add_argument("--lake-count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--anchors-python", default=str(run_all.ANCHORS_PYTHON))
    ap.add_argument("--ours-only", action="store_true",
                    help="no anchor rows (the best-budget table: our recipes at a long budget)")
    ap.add_argument("--out", type=Path, help="write the markdown section here (it is always printed)")
    args = ap.parse_args(argv)
    eps = [int(x) for x in args.episodes.split(",")]
    b = run_all.Budget("budget", steps=0, meta_batch=0,
                       episodes={f"{w}w{k}s": n for (w, k), n in zip(run_all.SETTINGS, eps)})
    started = time.time()
    workdir = Path(tempfile.mkdtemp(prefix="fewshot-budget-"))
    ns = argparse.Namespace(omniglot_npz=str(run_all.DATA / "images_background.npz"), eval_npz=None, lake_runs=None,
                            lake_count=args.lake_count, val_fraction=1 / 3,
                            small1=str(run_all.DATA / "images_background_small1.zip"),
                            small2=str(run_all.DATA / "images_background_small2.zip"))
    data = run_all.prepare_omniglot(ns, workdir)
    settings = [[w, k, b.episodes[f"{w}w{k}s"]] for w, k in run_all.SETTINGS]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    jobs, answers = [], []
    for pair in args.pairs:
        spec = PAIRS[pair]
        base = dict(data["train"], rotations=True, image_size=28, lr=1e-3, seed=args.seed, steps=10**7)
        if args.seconds:
            base["seconds"] = args.seconds
        ours = ours_job(pair, spec["ours"], base)
        sides = (ours,) if args.ours_only else (ours, anchor_job(spec["anchor"], base, ours["label"]))
        for job in sides:
            t = job["train"]
            if args.episodes_budget:
                t["steps"] = max(1, args.episodes_budget // t["meta_batch"])
            job.update(eval=dict(data["eval"], settings=settings, queries=b.eval_queries, seed=args.seed + 1),
                       lake={"runs": data["lake"]}, device="cpu", workdir=str(workdir),
                       conventions=run_all.conventions(job, b, False))
        for job in sides:
            python = sys.executable if job["lib"] == "ours" else args.anchors_python
            print(f"[{time.strftime('%H:%M:%S')}] {job['label']}: training "
                  f"{'%gs' % args.seconds if args.seconds else '%d steps' % job['train']['steps']}", flush=True)
            ans = run_all.once(python, job, env, workdir / "workers.log")
            if ans["ok"]:
                r = ans["result"]
                print(f"  {r['steps']} steps in {r['train_seconds']:.0f} s; " + ", ".join(
                    f"{k} {100 * v['mean']:.1f}" for k, v in next(iter(r["eval"].values())).items()
                    if isinstance(v, dict) and "mean" in v), flush=True)
            else:
                print(f"  FAILED {ans['error']}", flush=True)
            jobs.append(job)
            answers.append(ans)
    for job in jobs:
        if job["lib"] == "ours":
            note = f"preset {job['preset']}" if job["preset"] else "no preset"
            run_all.NOTES[("ours", job["method"])] = note
    acc, h2h, losses = run_all.item1_tables(b, jobs, answers)
    from common import git_rev, machine

    what = f"{args.seconds:g} s of training per row" if args.seconds else f"{args.episodes_budget} training tasks per row"
    shapes = "; ".join(f"{j['label']}: {j['train']['ways']}-way {j['train']['shots']}-shot, {j['train']['queries']} "
                       f"queries, meta-batch {j['train']['meta_batch']}, "
                       f"{(a['result']['steps'] if a['ok'] else '?')} steps, params {json.dumps(j['params'])}"
                       + (f", config {json.dumps(j['train'].get('config', {}))}" if j["lib"] == "ours" else "")
                       for j, a in zip(jobs, answers))
    where = "Where we lose: " + ("; ".join(losses) if losses else "nowhere beyond the 95% intervals.")
    text = "\n".join([
        f"Budget: {what}; {data['protocol']}; {data['lake_note']}. Conv-4, 28 px, rotations as new classes, Adam lr "
        f"1e-3 (ours: its preset's schedule). Rows: {shapes}.",
        f"Command `{' '.join([Path(sys.executable).name, *sys.argv])}`; machine {machine()}; commit {git_rev()}; "
        f"{args.threads} torch thread(s); {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, took "
        f"{(time.time() - started) / 60:.0f} min; load average at the end {os.getloadavg()[0]:.2f}.", "",
        acc, *([] if args.ours_only else ["", h2h, "", where]),  # ours only: no anchor rows, nothing to pair
    ]) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
