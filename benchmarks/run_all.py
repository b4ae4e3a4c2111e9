"""Few-shot Studio against learn2learn 0.2.0 and easyfsl 1.5.0, side by side in one run (issue 5).

    bash benchmarks/anchors/setup.sh                        # once: benchmarks/.venv-anchors
    .venv/bin/python benchmarks/run_all.py --quick          # tiny budgets, < 15 min on 2 cores: not the headline
    .venv/bin/python benchmarks/run_all.py --out benchmarks/ANCHORS_RESULTS.md   # the recorded budgets

Items (the issue's numbering):
1. Omniglot: Conv-4 at 28 px, rotations as new classes for everyone, meta-trained on 5-way 1-shot episodes;
   5/20-way 1/5-shot episodes on held-out classes (mean, 95% CI) and the error rate on Lake-format runs.
2. The minimal-data challenge: the same rows meta-trained on images_background_small1.zip, and again on
   small2.zip, scored on the Lake-format runs.
3. Natural images, EfficientNet-Lite0 (ImageNet, offline): methods that adapt a pretrained backbone and
   easyfsl's Prototypical and Finetune, 5-way 1-shot and 5-shot, same backbone and episodes.
4. Meta-training steps/s and peak memory, ours against learn2learn's MAML (second and first order) and
   easyfsl's Prototypical Networks, same configuration, alternating in fresh processes; adaptation latency
   and prediction throughput of our methods with EfficientNet-Lite0 (adapt_latency.py's measurement).

Every library draws the very same episodes: the anchors run in their own virtual environment
(benchmarks/.venv-anchors, made by anchors/setup.sh; qpth pins numpy<2) through anchors/runner.py, which imports
our EpisodeSampler and preprocessing; ours runs through the same runner in this environment. With no
``--eval-npz``, the last 10 background alphabets are held out of training and evaluated on (development
protocol), and Lake-format runs are written from the held-out alphabets that are in neither minimal split.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNNER = HERE / "anchors" / "runner.py"
ANCHORS_PYTHON = HERE / ".venv-anchors" / "bin" / "python"
DATA = ROOT.parent / "shared" / "data" / "omniglot"
SETTINGS = [(5, 1), (5, 5), (20, 1), (20, 5)]


@dataclass
class Budget:
    """Everything the numbers depend on; recorded with every table."""

    mode: str
    steps: int  # meta-training steps, every Omniglot row
    meta_batch: int  # tasks per step
    queries: int = 15  # query images per class while meta-training
    lr: float = 1e-3  # Adam, every row
    episodes: dict = field(default_factory=dict)  # "5w1s" -> evaluation episodes
    eval_queries: dict = field(default_factory=lambda: {"5": 15, "20": 5})
    small_steps: int = 0  # item 2
    natural_per_class: int = 40  # item 3: images per class written from Fashion-MNIST
    natural_episodes: int = 100  # frozen-backbone methods
    natural_ft_episodes: int = 5  # methods that fine-tune the backbone (seconds per episode on a CPU)
    natural_ft_steps: int = 10
    natural_queries: int = 10
    speed_warm: int = 2
    speed_measured: int = 10
    speed_rounds: int = 3
    speed_tasks: int = 64  # at least this many tasks timed (more steps where the meta-batch is small)...
    speed_warm_tasks: int = 16  # ...after at least this many
    latency_ft_steps: int = 10
    lake_runs: int = 20  # Lake-format runs written when no --lake-runs is given
    # our MAML and ANIL are also scored as `fewshot-studio evaluate` does and with query-batch statistics
    # (learn2learn's convention), on at most this many episodes per setting
    extra_caps: dict = field(default_factory=dict)


QUICK = Budget("quick", steps=10, meta_batch=2, episodes={"5w1s": 10, "5w5s": 5, "20w1s": 3, "20w5s": 3},
               small_steps=5, natural_per_class=20, natural_episodes=10, natural_ft_episodes=1,
               natural_ft_steps=2, speed_warm=1, speed_measured=3, speed_rounds=2, speed_tasks=0, speed_warm_tasks=0,
               latency_ft_steps=2, lake_runs=5, extra_caps={"5w1s": 3, "5w5s": 3, "20w1s": 3, "20w5s": 3})
# Sized for about 45 minutes on 2 cores shared with other work (--jobs 2). A CPU cannot afford 600 episodes of
# every setting for the MAML family (20-way 5-shot adaptation alone is 1-4 s an episode here), nor long
# meta-training: gpu_bench.py does 600 episodes and 300 steps of 8 tasks.
FULL = Budget("full", steps=100, meta_batch=2, episodes={"5w1s": 150, "5w5s": 50, "20w1s": 20, "20w5s": 10},
              small_steps=30, natural_per_class=40, natural_episodes=100, natural_ft_episodes=2,
              natural_ft_steps=5, speed_warm=2, speed_measured=6, speed_rounds=3, latency_ft_steps=5,
              lake_runs=20, extra_caps={"5w1s": 50, "5w5s": 20, "20w1s": 10, "20w5s": 5})


# --- workers ------------------------------------------------------------------------------------------------------
class WorkerError(RuntimeError):
    pass


class Worker:
    """A ``runner.py serve`` process in one virtual environment: one JSON job in, one answer out."""

    def __init__(self, python: str, env: dict, log: Path):
        self.python = python
        self.log = open(log, "a")
        self.proc = subprocess.Popen([python, str(RUNNER), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=env, cwd=ROOT, bufsize=1)

    def ask(self, job: dict) -> dict:
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("@@ "):
                return json.loads(line[3:])
        raise WorkerError(f"worker {self.python} ended (exit {self.proc.wait()}); see {self.log.name}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def once(python: str, job: dict, env: dict, log: Path) -> dict:
    """One job in a fresh process (for clean peak-memory figures)."""
    with open(log, "a") as err:
        proc = subprocess.run([python, str(RUNNER), "once", json.dumps(job)], stdout=subprocess.PIPE, stderr=err,
                              text=True, env=env, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("@@ "):
            return json.loads(line[3:])
    return {"ok": False, "error": f"exit {proc.returncode}; see {log}"}


class Bench:
    """Runs jobs on workers of the two environments, in the order given (alternating ours and anchors);
    with ``jobs`` > 1, that many jobs at once (accuracy items only: speed runs alone)."""

    def __init__(self, args, workdir: Path):
        self.args, self.workdir = args, workdir
        self.env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
                        PYTHONUNBUFFERED="1", FEWSHOT_STUDIO_HOME=str(workdir / "home"),
                        PYTHONPATH=str(ROOT))
        self.pythons = {"ours": args.python, "anchors": args.anchors_python}
        self.log = workdir / "workers.log"
        self._local = threading.local()
        self._all: list[Worker] = []
        self._lock = threading.Lock()
        self.reused = 0
        self._done = {}  # a resumed run's finished answers, by job
        answers = workdir / "answers.jsonl"
        if answers.exists():
            for line in answers.read_text().splitlines():
                rec = json.loads(line)
                if rec["answer"].get("ok") and rec["job"].get("job") != "hello":
                    self._done[job_key(rec["job"])] = rec["answer"]

    def kind(self, lib: str) -> str:
        return "ours" if lib == "ours" else "anchors"

    def available(self, lib: str) -> bool:
        return bool(self.pythons[self.kind(lib)])

    def worker(self, lib: str) -> Worker:
        workers = getattr(self._local, "workers", None)
        if workers is None:
            workers = self._local.workers = {}
        k = self.kind(lib)
        if k not in workers or workers[k].proc.poll() is not None:
            workers[k] = Worker(self.pythons[k], self.env, self.log)
            with self._lock:
                self._all.append(workers[k])
        return workers[k]

    def _reuse(self, job: dict) -> dict | None:
        answer = self._done.get(job_key(job))
        if answer is not None:
            self.reused += 1
            print(f"  reused from the interrupted run: {job.get('label', job['job'])}", flush=True)
        return answer

    def _record(self, job: dict, answer: dict) -> None:
        with self._lock, open(self.workdir / "answers.jsonl", "a") as f:  # kept if the run is interrupted
            f.write(json.dumps({"job": job, "answer": answer}, default=str) + "\n")

    def run(self, job: dict) -> dict:
        job = dict(job, workdir=str(self.workdir), device=self.args.device)
        if not self.available(job["lib"]):
            return {"ok": False, "error": "anchors not installed: run bash benchmarks/anchors/setup.sh"}
        if (done := self._reuse(job)) is not None:
            return done
        t = time.perf_counter()
        try:
            answer = self.worker(job["lib"]).ask(job)
        except (WorkerError, BrokenPipeError, OSError) as exc:
            answer = {"ok": False, "error": str(exc)}
        answer["wall"] = time.perf_counter() - t
        self._record(job, answer)
        status = "ok" if answer["ok"] else f"FAILED: {answer['error']}"
        print(f"  [{time.strftime('%H:%M:%S')}] {job.get('label', job['job'])}: {answer['wall']:.0f} s, {status}",
              flush=True)
        return answer

    def run_many(self, jobs: list[dict]) -> list[dict]:
        if self.args.jobs <= 1:
            return [self.run(j) for j in jobs]
        results: list = [None] * len(jobs)
        todo: queue.Queue = queue.Queue()
        for i, j in enumerate(jobs):
            todo.put((i, j))

        def loop():
            while True:
                try:
                    i, j = todo.get_nowait()
                except queue.Empty:
                    return
                results[i] = self.run(j)

        threads = [threading.Thread(target=loop) for _ in range(self.args.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def once(self, job: dict, tag: str = "") -> dict:
        """``tag`` tells apart repeats of the same job (speed rounds) when a run is resumed."""
        job = dict(job, workdir=str(self.workdir), device=self.args.device)
        if not self.available(job["lib"]):
            return {"ok": False, "error": "anchors not installed"}
        key = dict(job, tag=tag)
        if (done := self._reuse(key)) is not None:
            return done
        answer = once(self.pythons[self.kind(job["lib"])], job, self.env, self.log)
        self._record(key, answer)
        return answer

    def close(self) -> None:
        for w in self._all:
            w.close()


def job_key(job: dict) -> str:
    return json.dumps(job, sort_keys=True, default=str)


# --- statistics and formatting --------------------------------------------------------------------------------------
def mean_ci(values: list[float]) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(values) / n
    if n == 1:
        return m, float("nan")
    return m, 1.96 * math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1) / n)


def pct(mean: float, ci: float | None = None) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    if ci is None or math.isnan(ci):
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} ± {100 * ci:.1f}"


T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 12: 2.18,
       15: 2.13, 20: 2.09, 30: 2.04, 60: 2.00, 120: 1.98}


def t95(df: int) -> float:
    """Student's t quantile for a two-sided 95% interval (small samples: quick mode, Lake runs)."""
    return next((v for k, v in sorted(T95.items()) if df <= k), 1.96)


def paired(ours: list[float], anchor: list[float]) -> tuple[float, float, str]:
    """Mean difference ours − anchor over the same episodes, its 95% CI (Student's t), and the verdict;
    fewer than 3 pairs give no verdict."""
    d = [a - b for a, b in zip(ours, anchor)]
    m, ci = mean_ci(d)
    if len(d) > 1:
        ci = ci / 1.96 * t95(len(d) - 1)
    if len(d) < 3 or math.isnan(ci) or abs(m) <= ci:
        verdict = "tie" if len(d) >= 3 else "too few"
    else:
        verdict = "win" if m > 0 else "LOSS"
    return m, ci, verdict


def diff_cell(m: float, ci: float, verdict: str, lower_is_better: bool = False) -> str:
    if math.isnan(m):
        return "—"
    sign = -1 if lower_is_better else 1
    return f"{100 * sign * m:+.1f} ± {100 * ci:.1f} {'**LOSS**' if verdict == 'LOSS' else verdict}"


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# --- data -----------------------------------------------------------------------------------------------------------
def zip_alphabets(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as zf:
        return {Path(n).parts[-3] for n in zf.namelist() if n.lower().endswith(".png")}


def prepare_omniglot(args, workdir: Path) -> dict:
    """Training and evaluation specs, and the Lake-format runs, per the development or the evaluation protocol."""
    from fewshot_studio.core.episodes import omniglot_pool
    from fewshot_studio.core.evaluation import write_lake_runs

    npz = Path(args.omniglot_npz)
    small = [Path(args.small1), Path(args.small2)]
    small_alphabets = set().union(*(zip_alphabets(p) for p in small if p.exists()))
    if args.eval_npz:
        train = {"dataset": str(npz), "val_fraction": 0.0}
        ev = {"npz": str(Path(args.eval_npz)), "alphabets": None}
        protocol = f"meta-trained on all of {npz.name}, evaluated on {Path(args.eval_npz).name}"
        lake_pool_args = {"npz": args.eval_npz}
    else:
        pool = omniglot_pool(npz, size=28)
        groups = list(dict.fromkeys(pool.groups))
        held = groups[len(groups) - round(len(groups) * args.val_fraction):]
        train = {"dataset": str(npz), "val_fraction": args.val_fraction}
        ev = {"npz": str(npz), "alphabets": held}
        lake_alphabets = [a for a in held if a not in small_alphabets]
        protocol = (f"development protocol: meta-trained on the first {len(groups) - len(held)} background "
                    f"alphabets of {npz.name}; episodes from the {len(held)} held-out ones ({', '.join(held)})")
        lake_pool_args = {"npz": str(npz), "alphabets": lake_alphabets}
    if args.lake_runs:
        lake = Path(args.lake_runs)
        lake_note = f"Lake-format runs from {lake}"
    else:
        lake = workdir / "lake-runs"
        pool = omniglot_pool(lake_pool_args["npz"], size=28, alphabets=lake_pool_args.get("alphabets"))
        write_lake_runs(pool, lake, runs=args.lake_count, ways=20, seed=0)
        alph = lake_pool_args.get("alphabets")
        lake_note = (f"{args.lake_count} Lake-format runs (20-way 1-shot, {20 * args.lake_count} test images) "
                     "written from "
                     + (f"the held-out alphabets in neither minimal split ({', '.join(alph)})" if alph
                        else Path(lake_pool_args["npz"]).name))
    return {"train": train, "eval": ev, "lake": str(lake), "protocol": protocol, "lake_note": lake_note,
            "small": [str(p) for p in small]}


def fashion_folder(root: Path, per_class: int, seed: int = 0) -> Path:
    """Fashion-MNIST (Debian's dataset-fashion-mnist, test split) as a folder of class folders."""
    import gzip

    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(HERE))
    from common import FASHION, NAMES

    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    rng = np.random.default_rng(seed)
    for c, name in enumerate(NAMES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(rng.choice(np.nonzero(labels == c)[0], per_class, replace=False)):
            Image.fromarray(255 - images[i]).save(root / name / f"{name}_{k:03d}.png")
    return root


# --- the rows -----------------------------------------------------------------------------------------------------
def omniglot_rows() -> list[dict]:
    """Ours and the anchors alternating; anchors get our methods' inner-loop settings."""
    from fewshot_studio.core.algorithms.maml import MAMLParams

    d = MAMLParams()
    inner = {"inner_lr": d.inner_lr, "inner_steps": d.inner_steps, "adapt_steps": d.adapt_steps}
    return [
        {"lib": "ours", "method": "maml", "label": "ours · MAML"},
        {"lib": "l2l", "method": "maml", "label": "learn2learn · MAML", "params": dict(inner, first_order=False),
         "pair": "ours · MAML"},
        {"lib": "ours", "method": "fomaml", "label": "ours · first-order MAML"},
        {"lib": "ours", "method": "anil", "label": "ours · ANIL"},
        {"lib": "l2l", "method": "anil", "label": "learn2learn · ANIL", "params": dict(inner, first_order=False),
         "pair": "ours · ANIL"},
        {"lib": "ours", "method": "reptile", "label": "ours · Reptile"},
        {"lib": "ours", "method": "prototypical", "label": "ours · ProtoNet"},
        {"lib": "easyfsl", "method": "prototypical", "label": "easyfsl · Prototypical", "pair": "ours · ProtoNet"},
        {"lib": "ours", "method": "matching", "label": "ours · Matching"},
        {"lib": "easyfsl", "method": "matching", "label": "easyfsl · Matching", "pair": "ours · Matching"},
        {"lib": "ours", "method": "relation", "label": "ours · Relation"},
        {"lib": "easyfsl", "method": "relation", "label": "easyfsl · Relation", "pair": "ours · Relation"},
        {"lib": "ours", "method": "cnp", "label": "ours · CNP"},
    ]


MAML_FAMILY = ("maml", "fomaml", "anil", "reptile")


def conventions(job: dict, b: Budget, extras: bool) -> dict:
    """Evaluation conventions of a row (the first is its own) and their episode caps."""
    if job["lib"] != "ours":
        return {"library": None}
    if job["method"] not in MAML_FAMILY:
        return {"engine": None}
    out = {"support": None}
    if extras and job["method"] in ("maml", "anil"):
        out.update(engine=b.extra_caps, transductive=b.extra_caps)
    return out


def train_spec(base: dict, b: Budget, steps: int, seed: int) -> dict:
    return dict(base, rotations=True, image_size=28, ways=5, shots=1, queries=b.queries, meta_batch=b.meta_batch,
                steps=steps, lr=b.lr, seed=seed)


# --- item 1 and 2 -----------------------------------------------------------------------------------------------------
def omniglot_jobs(b: Budget, data: dict, seed: int) -> list[dict]:
    jobs = []
    settings = [[w, k, b.episodes[f"{w}w{k}s"]] for w, k in SETTINGS]
    for row in omniglot_rows():
        jobs.append(dict(row, job="omniglot", item=1, train=train_spec(data["train"], b, b.steps, seed),
                         eval=dict(data["eval"], settings=settings, queries=b.eval_queries, seed=seed + 1),
                         lake={"runs": data["lake"]}, conventions=conventions(row, b, True)))
    for i, zpath in enumerate(data["small"], 1):
        for row in omniglot_rows():
            jobs.append(dict(row, job="omniglot", item=2, split=f"small{i}", label=f"{row['label']} [small{i}]",
                             train=train_spec({"dataset": zpath, "val_fraction": 0.0}, b, b.small_steps, seed),
                             eval=None, lake={"runs": data["lake"]}, conventions=conventions(row, b, False)))
    return jobs


def item1_tables(b: Budget, jobs: list[dict], answers: list[dict]) -> tuple[str, str, list[str]]:
    """The accuracy table, the head-to-head table, and the losses (one line each)."""
    rows, by_label = [], {}
    for job, ans in zip(jobs, answers):
        if job["item"] != 1:
            continue
        by_label[job["label"]] = (job, ans)
        if not ans["ok"]:
            rows.append([job["label"]] + ["failed"] * 5 + [ans["error"][:80]])
            continue
        r = ans["result"]
        for conv, res in r["eval"].items():
            name = job["label"] + suffix(job, conv)
            cells = []
            for w, k in SETTINGS:
                cell = res[f"{w}w{k}s"]
                cells.append(pct(cell["mean"], cell["ci95"]) + (f" (n={cell['episodes']})"
                                                                 if cell["episodes"] < b.episodes[f"{w}w{k}s"] else ""))
            lake = res.get("lake:runs")
            cells.append(f"{100 * lake['error']:.1f}" if lake else "—")
            note = NOTES.get((job["lib"], job["method"]), "")
            if conv == "transductive" or (conv == "engine" and job["method"] in MAML_FAMILY):
                note = CONV_NOTES[conv]
            rows.append([name] + cells + [f"{r['train_seconds']:.0f}", note])
    acc = table(["method", "5-way 1-shot", "5-way 5-shot", "20-way 1-shot", "20-way 5-shot", "Lake error %",
                 "train s", "notes"], rows)
    h2h, losses = head_to_head(jobs, answers, item=1)
    return acc, h2h, losses


def head_to_head(jobs, answers, item: int, split: str | None = None):
    by_label = {j["label"]: (j, a) for j, a in zip(jobs, answers) if j["item"] == item and j.get("split") == split}
    rows, losses = [], []
    for label, (job, ans) in by_label.items():
        pair = job.get("pair")
        if not pair:
            continue
        pair_label = pair if split is None else f"{pair} [{split}]"
        if pair_label not in by_label:
            continue
        ojob, oans = by_label[pair_label]
        if not (ans["ok"] and oans["ok"]):
            rows.append([f"{pair} vs {job['label']}", "failed", "", "", "", "", ""])
            continue
        a_res = ans["result"]["eval"]["library"]
        for conv in oans["result"]["eval"]:
            sfx = suffix(ojob, conv)
            o_res = oans["result"]["eval"][conv]
            cells, lost = [], []
            keys = [f"{w}w{k}s" for w, k in SETTINGS] if item == 1 else []
            for key in keys:
                m, ci, v = paired(o_res[key]["accs"], a_res[key]["accs"])
                cells.append(diff_cell(m, ci, v))
                if v == "LOSS":
                    lost.append(key)
            m, ci, v = paired(a_res["lake:runs"]["per_run"], o_res["lake:runs"]["per_run"])  # anchor − ours errors
            cells.append(diff_cell(m, ci, v))
            if v == "LOSS":
                lost.append("Lake")
            verdict = f"**we lose: {', '.join(lost)}**" if lost else "no loss"
            rows.append([f"{pair}{sfx} vs {job['label']}"] + cells + [verdict])
            if lost:
                where = "item 1" if item == 1 else f"item 2 ({split})"
                losses.append(f"{where}: {pair}{sfx} loses to {job['label']} on {', '.join(lost)}")
    header = ["ours vs anchor (paired, same episodes)"]
    if item == 1:
        header += ["5-way 1-shot", "5-way 5-shot", "20-way 1-shot", "20-way 5-shot"]
    header += ["Lake error (anchor − ours)", "verdict"]
    return table(header, rows), losses


def item2_tables(jobs, answers) -> tuple[str, str, list[str]]:
    rows = {}
    for job, ans in zip(jobs, answers):
        if job["item"] != 2:
            continue
        base = job["label"].split(" [")[0]
        cell = "failed" if not ans["ok"] else f"{100 * ans['result']['eval'][_conv(job)]['lake:runs']['error']:.1f}"
        rows.setdefault(base, {})[job["split"]] = cell
    acc = table(["method", "Lake error % (small1)", "Lake error % (small2)"],
                [[k, v.get("small1", "—"), v.get("small2", "—")] for k, v in rows.items()])
    parts, losses = [], []
    for split in ("small1", "small2"):
        t, lost = head_to_head(jobs, answers, item=2, split=split)
        parts.append(f"{split}:\n\n{t}")
        losses += lost
    return acc, "\n\n".join(parts), losses


def _conv(job):
    return next(iter(job["conventions"]))


def suffix(job: dict, conv: str) -> str:
    if conv == "transductive":
        return " (transductive BN)"
    if conv == "engine" and job["method"] in MAML_FAMILY and job["lib"] == "ours":
        return " via `fewshot-studio evaluate`"
    return ""


CONV_NOTES = {
    "transductive": "batch norm from the query batch, as learn2learn evaluates",
    "engine": "the checkpoint as `fewshot-studio evaluate` opens it (open_predictor): the engine's own path",
}


NOTES = {
    ("ours", "maml"): "BN statistics frozen from the support set (not transductive); head from zero per task (head_init default)",
    ("ours", "reptile"): "10 SGD steps at evaluation; BN frozen from the support set",
    ("ours", "fomaml"): "as ours · MAML, first order",
    ("ours", "anil"): "head from the support prototypes (head_init default), adapted on frozen features; BN frozen from the support set",
    ("ours", "prototypical"): "cosine, scale 10 (our default)",
    ("ours", "matching"): "cosine attention, no FCE (our default)",
    ("ours", "relation"): "class feature maps averaged (class_pool default; the paper sums them)",
    ("l2l", "maml"): "transductive BN (train mode); learned 5-way head; 20-way: a head of zeros at test",
    ("l2l", "anil"): "transductive BN; learned 5-way head; 20-way: a head of zeros at test",
    ("easyfsl", "prototypical"): "Euclidean (easyfsl's default)",
    ("easyfsl", "matching"): "full-context embeddings (always on in easyfsl)",
    ("easyfsl", "relation"): "easyfsl's relation module (adaptive pooling)",
}


# --- item 3 -----------------------------------------------------------------------------------------------------------
def natural_jobs(b: Budget, folder: Path, workdir: Path, seed: int) -> list[dict]:
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    common = {"job": "natural", "item": 3, "dataset": str(folder), "novel": names, "ways": 5,
              "queries": b.natural_queries, "seed": seed, "feature_cache": str(workdir / "natural-features.pt"),
              "settings": [[1, b.natural_episodes], [5, b.natural_episodes]]}
    ft = b.natural_ft_episodes
    ours = [
        {"label": "ours · nearest centroid (no adaptation)", "method": "prototypical",
         "params": {"distance": "euclidean"}},
        {"label": "ours · ProtoNet (cosine prototypes)", "method": "prototypical", "params": {}},
        {"label": f"ours · P>M>F (ProtoNet + {b.natural_ft_steps} fine-tuning steps)", "method": "pmf",
         "params": {"finetune_steps": b.natural_ft_steps}, "trains_backbone": True, "episodes_cap": ft},
        {"label": "ours · linear probe (100 steps)", "method": "linear_probe", "params": {}},
        {"label": f"ours · fine-tuning ({b.natural_ft_steps} steps)", "method": "finetune",
         "params": {"steps": b.natural_ft_steps}, "trains_backbone": True, "episodes_cap": ft},
        {"label": "ours · MAML-style head adaptation (ANIL, 5 steps)", "method": "anil", "params": {}},
    ]
    anchors = [
        {"label": "easyfsl · Prototypical", "method": "prototypical"},
        {"label": "easyfsl · Finetune (200 steps, lr 1e-4: its defaults)", "method": "finetune", "params": {}},
    ]
    return [dict(common, lib="ours", label="item 3: ours", rows=ours),
            dict(common, lib="easyfsl", label="item 3: easyfsl", rows=anchors)]


def item3_tables(b: Budget, jobs, answers) -> tuple[str, str, list[str]]:
    rows, accs = [], {}
    for job, ans in zip(jobs, answers):
        if not ans["ok"]:
            rows.append([job["label"], "failed", "failed", "", ans["error"][:80]])
            continue
        for label, res in ans["result"]["rows"].items():
            accs[label] = res
            cells = [pct(res[k]["mean"], res[k]["ci95"]) + f" ({res[k]['episodes']})" for k in ("5w1s", "5w5s")]
            speed = " / ".join(f"{res[k]['seconds_per_episode']:.2f}" for k in ("5w1s", "5w5s"))
            rows.append([label] + cells + [speed])
    acc = table(["method (EfficientNet-Lite0, ImageNet)", "5-way 1-shot (episodes)", "5-way 5-shot (episodes)",
                 "s per episode (1-shot / 5-shot)"], rows)
    pairs = [("ours · nearest centroid (no adaptation)", "easyfsl · Prototypical"),
             ("ours · ProtoNet (cosine prototypes)", "easyfsl · Prototypical"),
             ("ours · linear probe (100 steps)", "easyfsl · Finetune (200 steps, lr 1e-4: its defaults)"),
             ("ours · ProtoNet (cosine prototypes)", "easyfsl · Finetune (200 steps, lr 1e-4: its defaults)")]
    hrows, losses = [], []
    for o, a in pairs:
        if o not in accs or a not in accs:
            continue
        cells, lost = [], []
        for k in ("5w1s", "5w5s"):
            n = min(len(accs[o][k]["accs"]), len(accs[a][k]["accs"]))
            m, ci, v = paired(accs[o][k]["accs"][:n], accs[a][k]["accs"][:n])
            cells.append(diff_cell(m, ci, v))
            if v == "LOSS":
                lost.append(k)
        hrows.append([f"{o} vs {a}"] + cells + [f"**we lose: {', '.join(lost)}**" if lost else "no loss"])
        if lost:
            losses.append(f"item 3: {o} loses to {a} on {', '.join(lost)}")
    return acc, table(["ours vs anchor (paired)", "5-way 1-shot", "5-way 5-shot", "verdict"], hrows), losses


# --- item 4 -----------------------------------------------------------------------------------------------------------
def speed_pairs(b: Budget, data: dict, seed: int, meta_batches=None) -> list[tuple[str, dict, dict]]:
    """(name, ours, anchor) for each meta-batch: MAML second and first order at the seed's configuration (5-way
    1-shot, 15 queries), Prototypical Networks at its own (5-way 5-shot, 15 queries)."""
    from fewshot_studio.core.algorithms.maml import MAMLParams

    d = MAMLParams()
    inner = {"inner_lr": d.inner_lr, "inner_steps": d.inner_steps, "adapt_steps": d.adapt_steps}
    pairs = []
    for mb in meta_batches or [b.meta_batch]:
        t = dict(train_spec(data["train"], b, 0, seed), meta_batch=mb)
        # a floor of tasks, not only of steps: at meta-batch 1, 6 steps after 2 warm-up ones are under a second of a
        # process's first steps, too short to be its pace
        warm = max(b.speed_warm, math.ceil(b.speed_warm_tasks / mb))
        measured = max(b.speed_measured, math.ceil(b.speed_tasks / mb))
        base = {"job": "speed", "train": t, "warm": warm, "measured": measured}
        proto = dict(base, train=dict(t, shots=5))
        tag = f", meta-batch {mb}"
        pairs += [
            ("MAML, second order" + tag, dict(base, lib="ours", method="maml"),
             dict(base, lib="l2l", method="maml", params=dict(inner, first_order=False))),
            ("MAML, first order" + tag, dict(base, lib="ours", method="fomaml"),
             dict(base, lib="l2l", method="maml", params=dict(inner, first_order=True))),
            ("Prototypical Networks (5-shot)" + tag, dict(proto, lib="ours", method="prototypical"),
             dict(proto, lib="easyfsl", method="prototypical")),
        ]
    return pairs


def median(values):
    v = sorted(x for x in values if x is not None and not math.isnan(x))
    if not v:
        return float("nan")
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def item4_speed(bench: Bench, b: Budget, data: dict, seed: int, meta_batches=None) -> tuple[str, list[str], dict]:
    pairs = speed_pairs(b, data, seed, meta_batches)
    got = {name: {"ours": [], "anchor": []} for name, _, _ in pairs}
    for r in range(b.speed_rounds):
        for name, ours, anchor in pairs:
            first, second = (("ours", ours), ("anchor", anchor)) if r % 2 == 0 else (("anchor", anchor), ("ours", ours))
            for side, job in (first, second):
                ans = bench.once(job, tag=f"round {r}")
                got[name][side].append(ans)
                status = "ok" if ans["ok"] else f"FAILED {ans['error']}"
                rate = f"{ans['result']['steps_per_s']:.3f} steps/s" if ans["ok"] else ""
                print(f"  [{time.strftime('%H:%M:%S')}] speed round {r + 1} {name} {side}: {rate} {status}",
                      flush=True)
    rows, losses = [], []
    anchor_names = {name: ("learn2learn MAML (first_order)" if "first order" in name else "learn2learn MAML"
                           if "MAML" in name else "easyfsl PrototypicalNetworks") for name, _, _ in pairs}
    for name, _, _ in pairs:
        o = [a["result"] for a in got[name]["ours"] if a["ok"]]
        a = [x["result"] for x in got[name]["anchor"] if x["ok"]]
        if not o or not a:
            err = next((x["error"] for x in got[name]["ours"] + got[name]["anchor"] if not x["ok"]), "")
            rows.append([name, anchor_names[name], "failed", "failed", "", "", "", "", err[:80]])
            continue
        so, sa = median([x["steps_per_s"] for x in o]), median([x["steps_per_s"] for x in a])
        mo, ma = median([x["memory"]["delta_mb"] for x in o]), median([x["memory"]["delta_mb"] for x in a])
        ratio, mratio = so / sa, mo / ma if ma > 0 else float("nan")
        verdict = []
        if ratio < 0.95:
            verdict.append("**slower: we lose**")
        if mratio > 1.05:
            verdict.append("**more memory: we lose**")
        verdict = "; ".join(verdict) or ("faster" if ratio > 1.05 else "same speed")
        if "lose" in verdict:
            losses.append(f"item 4: {name}: ours {so:.3f} vs {sa:.3f} steps/s (×{ratio:.2f}), "
                          f"memory {mo:.0f} vs {ma:.0f} MB (×{mratio:.2f})")
        rows.append([name, anchor_names[name], f"{so:.3f}", f"{sa:.3f}", f"**×{ratio:.2f}**", f"{mo:.0f}",
                     f"{ma:.0f}", f"×{mratio:.2f}", verdict])
    kind = next((x["result"]["memory"]["kind"] for v in got.values() for x in v["ours"] if x["ok"]), "peak RSS")
    t = table(["meta-training", "anchor", "ours steps/s", "anchor steps/s", "ratio (ours/anchor)",
               f"ours peak MB ({kind} above start)", "anchor peak MB", "memory ratio", "verdict"], rows)
    return t, losses, got


def item4_latency(bench: Bench, b: Budget) -> str:
    s = b.latency_ft_steps
    methods = [["nearest centroid (prototypical)", "prototypical", {}],
               ["linear probe (100 steps)", "linear_probe", {"steps": 100}],
               ["MAML-style head adaptation (anil, 5 steps)", "anil", {}],
               [f"P>M>F (pmf, {s} steps)", "pmf", {"finetune_steps": s}],
               [f"fine-tuning ({s} steps)", "finetune", {"steps": s}]]
    ans = bench.once({"job": "latency", "lib": "ours", "methods": methods, "queries": 20})
    if not ans["ok"]:
        return f"latency failed: {ans['error']}"
    rows = [[r["label"], f"{r['cold']:.2f}", f"{r['warm']:.2f}", f"{r['img_per_s']:.1f}", f"{r['acc']:.0%}"]
            for r in ans["result"]["rows"]]
    note = f" ({ans['result']['note']})" if ans["result"]["note"] else ""
    return table([f"method, EfficientNet-Lite0{note}", "cold adapt s", "warm adapt s", "predict img/s",
                  "query acc (1 task)"], rows)


# --- main ---------------------------------------------------------------------------------------------------------------
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny budgets (< 15 min on 2 cores): not the headline")
    ap.add_argument("--omniglot-npz", default=str(DATA / "images_background.npz"))
    ap.add_argument("--eval-npz", help="held-out evaluation set (.npz); default: hold out background alphabets")
    ap.add_argument("--lake-runs", help="a directory of Lake et al.'s runs; default: written from held-out alphabets")
    ap.add_argument("--lake-count", type=int, help="runs to write when no --lake-runs is given (quick 10, full 20)")
    ap.add_argument("--small1", default=str(DATA / "images_background_small1.zip"))
    ap.add_argument("--small2", default=str(DATA / "images_background_small2.zip"))
    ap.add_argument("--natural", help="folder of class folders for item 3; default: Fashion-MNIST written to a temp dir")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--out", help="write the markdown section here (it is always printed)")
    ap.add_argument("--json", help="raw results (default: benchmarks/out/anchors-MODE.json)")
    ap.add_argument("--items", default="1,2,3,4", help="comma-separated subset of 1,2,3,4")
    ap.add_argument("--steps", type=int, help="override the meta-training steps of items 1 and 2")
    ap.add_argument("--episodes", type=int, help="override every evaluation episode count of item 1")
    ap.add_argument("--val-fraction", type=float, default=1 / 3, help="held-out share of background alphabets")
    ap.add_argument("--speed-meta-batch", help="item 4's meta-batches, comma-separated (e.g. 32,1; default: the "
                    "budget's)")
    ap.add_argument("--skip-latency", action="store_true", help="item 4 without the adaptation latency")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per worker (default 1)")
    ap.add_argument("--jobs", type=int, default=1, help="accuracy jobs at once (speed always runs alone)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for our rows")
    ap.add_argument("--anchors-python", default=str(ANCHORS_PYTHON) if ANCHORS_PYTHON.exists() else "",
                    help="interpreter with learn2learn and easyfsl (default: benchmarks/.venv-anchors)")
    ap.add_argument("--resume", metavar="WORKDIR", help="the work folder of an interrupted run (printed at its "
                    "start): its finished jobs are reused, the rest run; same options as that run")
    ap.add_argument("--title", default="Benchmarks against learn2learn and easyfsl")
    return ap.parse_args(argv)


def budget_for(args, base: Budget | None = None) -> Budget:
    b = Budget(**asdict(base or (QUICK if args.quick else FULL)))
    if args.steps:
        b.steps = b.small_steps = args.steps
    if args.episodes:
        b.episodes = {k: args.episodes for k in b.episodes}
        b.extra_caps = {k: min(v, args.episodes) for k, v in b.extra_caps.items()}
    args.lake_count = args.lake_count or b.lake_runs
    return b


def header(args, b: Budget, versions: dict, started: float) -> str:
    sys.path.insert(0, str(HERE))
    from common import git_rev, machine

    ours, anch = versions.get("ours", {}), versions.get("anchors", {})
    cmd = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
    lines = [
        f"- command: `{cmd}`",
        f"- machine: {machine()}; workers use {args.threads} torch thread(s) each, {args.jobs} job(s) at once; "
        f"device {args.device}" + (f" ({ours.get('cuda')})" if ours.get("cuda") else ""),
        f"- versions: ours fewshot-studio {ours.get('fewshot_studio')} (commit {git_rev()}), torch {ours.get('torch')}, "
        f"torchvision {ours.get('torchvision')}, numpy {ours.get('numpy')}; anchors venv: learn2learn "
        f"{anch.get('learn2learn')}, easyfsl {anch.get('easyfsl')}, torch {anch.get('torch')}, numpy {anch.get('numpy')}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, took {{took}}",
        f"- budget ({b.mode}): Omniglot meta-training {b.steps} steps × {b.meta_batch} tasks (5-way 1-shot, "
        f"{b.queries} queries, Adam lr {b.lr:g}, seed {args.seed}) for every row; minimal splits {b.small_steps} "
        f"steps; evaluation episodes {', '.join(f'{k} {v}' for k, v in b.episodes.items())} with "
        f"{b.eval_queries['5']} queries per class at 5-way and {b.eval_queries['20']} at 20-way",
    ]
    if b.mode in ("quick", "tiny"):
        lines.insert(0, "> **QUICK MODE: tiny budgets that prove the pipeline runs end to end. These numbers are "
                        "not the headline; see the full run.**\n")
    return "\n".join(lines)


def main(argv=None, budget: Budget | None = None) -> int:
    """Run the items; ``budget`` replaces the quick/full budgets (gpu_bench.py passes its own)."""
    args = parse_args(argv)
    b = budget_for(args, budget)
    items = {int(x) for x in args.items.split(",") if x.strip()}
    started = time.time()
    workdir = Path(args.resume) if args.resume else Path(tempfile.mkdtemp(prefix="fewshot-anchors-"))
    print(f"run_all ({b.mode}): work folder {workdir}; worker log {workdir / 'workers.log'}", flush=True)
    sys.path.insert(0, str(ROOT))
    bench = Bench(args, workdir)
    sections, losses, raw = [], [], {"budget": asdict(b), "args": vars(args)}
    try:
        versions = {"ours": bench.run({"job": "hello", "lib": "ours", "label": "hello ours"}).get("result", {})}
        if args.anchors_python:
            versions["anchors"] = bench.run({"job": "hello", "lib": "l2l", "label": "hello anchors"}).get("result", {})
        else:
            print("anchors venv not found: anchor rows will say so (run bash benchmarks/anchors/setup.sh)")
        raw["versions"] = versions
        data = prepare_omniglot(args, workdir)
        raw["data"] = data

        if 4 in items:
            print("== item 4: meta-training speed and memory (alternating, fresh processes)", flush=True)
            mbs = [int(x) for x in args.speed_meta_batch.split(",")] if args.speed_meta_batch else None
            speed, lost, got = item4_speed(bench, b, data, args.seed, mbs)
            raw["speed"] = got
            losses += lost
            print("== item 4: adaptation latency", flush=True)
            latency = "(not measured: --skip-latency)" if args.skip_latency else item4_latency(bench, b)
            sections.append(("4. Speed and memory", [
                f"Meta-training, Conv-4 at 28 px, 5-way 1-shot (Prototypical Networks: 5-shot), {b.queries} "
                f"queries, meta-batch {args.speed_meta_batch or b.meta_batch}, "
                f"MAML inner loop 2 steps at lr 0.4; each figure the median of {b.speed_rounds} fresh processes "
                f"(ours and the anchor alternating), {b.speed_measured} steps timed after {b.speed_warm} warm-up "
                f"steps, and at least {b.speed_tasks} tasks after {b.speed_warm_tasks} (more steps at small "
                "meta-batches). Ours is the engine's MetaTrainRun (episode sampling and preprocessing included; so "
                "are the anchors', from the same sampler). Peak memory: the training loop's peak above the "
                "process's memory when the loop started.", speed,
                "Adaptation latency (start to ready) and prediction throughput, 5-way 5-shot Fashion-MNIST, "
                "EfficientNet-Lite0 (benchmarks/adapt_latency.py's measurement; cold = backbone built and support "
                "embedded, warm = the same run again in the process).", latency]))

        jobs = []
        if 1 in items or 2 in items:
            jobs += [j for j in omniglot_jobs(b, data, args.seed) if j["item"] in items]
        if 3 in items:
            folder = Path(args.natural) if args.natural else fashion_folder(workdir / "fashion", b.natural_per_class)
            jobs += natural_jobs(b, folder, workdir, args.seed)
        if jobs:
            print(f"== items {sorted(items & {1, 2, 3})}: {len(jobs)} jobs", flush=True)
            # item 3's easyfsl job reads the features that ours writes: run item 3 last, ours first
            first = [j for j in jobs if j["item"] != 3]
            answers = bench.run_many(first)
            nat = [j for j in jobs if j["item"] == 3]
            answers += [bench.run(j) for j in nat]
            jobs = first + nat
            raw["jobs"] = [{"job": {k: v for k, v in j.items()}, "answer": a} for j, a in zip(jobs, answers)]
            if 1 in items:
                acc, h2h, lost = item1_tables(b, jobs, answers)
                losses += lost
                sections.insert(0, ("1. Omniglot accuracy", [
                    f"{data['protocol']}. {data['lake_note']}. Conv-4 (64 channels), 28 px, rotations by 90/180/270° "
                    "as new classes for every row; every row meta-trained with the same episodes (our EpisodeSampler, "
                    "same seed) and evaluated on the same episodes. Accuracy % (mean ± 95% CI).", acc,
                    "Head to head: accuracy difference ours − anchor in points over the same episodes (paired 95% "
                    "CI); **LOSS** where the anchor is better beyond the interval.", h2h]))
            if 2 in items:
                acc, h2h, lost = item2_tables(jobs, answers)
                losses += lost
                sections.append(("2. The minimal-data challenge", [
                    f"Meta-trained only on images_background_small1.zip, then separately on small2.zip (5 alphabets "
                    f"each), {b.small_steps} steps × {b.meta_batch} tasks, rotations as new classes; scored on the "
                    f"Lake-format runs of item 1 ({data['lake_note']}).", acc,
                    "Head to head on the Lake runs (error difference anchor − ours in points, paired over runs):",
                    h2h]))
            if 3 in items:
                acc, h2h, lost = item3_tables(b, [j for j in jobs if j["item"] == 3],
                                              [a for j, a in zip(jobs, answers) if j["item"] == 3])
                losses += lost
                sections.insert(2 if 1 in items else 0, ("3. Natural images, EfficientNet-Lite0", [
                    f"5-way episodes from {Path(args.natural).name if args.natural else 'Fashion-MNIST'} "
                    f"(all its classes; {b.natural_queries} queries per class), the same episodes for every "
                    "row. Frozen-backbone rows adapt on features computed once per image (the app's feature "
                    "cache does the same; easyfsl gets the same features through an identity backbone); rows that "
                    "fine-tune the backbone go through the engine's fit_predictor on the images, on fewer episodes "
                    "(each costs seconds on a CPU).", acc, h2h]))
    finally:
        bench.close()
    took = time.time() - started
    out = [f"## {args.title} ({b.mode})", "", header(args, b, raw.get("versions", {}), started).replace(
        "{took}", f"{took / 60:.1f} min" + (f" after resuming {args.resume} ({bench.reused} finished jobs of the "
                             "interrupted run reused)" if args.resume else "")), ""]
    for title, parts in sorted(sections):
        out += [f"### {title}", ""]
        for p in parts:
            out += [p, ""]
    out += ["### Where we lose", ""]
    out += [f"- {x}" for x in losses] or ["- nowhere beyond the 95% intervals in this run"]
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    raw_path = Path(args.json) if args.json else ROOT / "benchmarks" / "out" / f"anchors-{b.mode}.json"
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    raw_path.write_text(json.dumps(raw, default=str))
    print(f"raw results: {raw_path}; took {took / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
