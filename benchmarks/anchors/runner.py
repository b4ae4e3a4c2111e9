"""Benchmark worker: meta-trains and evaluates one method of one library on episodes drawn by our sampler.

It runs in our ``.venv`` (library ``ours``) or in ``benchmarks/.venv-anchors`` (``l2l``: learn2learn 0.2.0,
``easyfsl``: easyfsl 1.5.0), so that every library sees the very same episodes: the anchors import our
:class:`EpisodeSampler` and preprocessing, and only the learning code differs. Each job is one JSON object;
the answer is one line ``@@ {json}`` on stdout (anything else a library prints is ignored).

    runner.py serve          # one job per line on stdin, until EOF (run_all.py keeps one worker per venv)
    runner.py once JOB_JSON  # one job in a fresh process (speed and memory measurements)

Jobs: ``hello`` (versions), ``omniglot`` (meta-train, then N-way K-shot episodes and Lake runs),
``natural`` (EfficientNet-Lite0 features, methods that adapt a pretrained backbone), ``speed``
(meta-training steps per second and peak memory) and ``latency`` (adaptation latency, ours only).
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")  # gym and old learn2learn code warn on import

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from fewshot_studio.core.backbones import get_backbone  # noqa: E402
from fewshot_studio.core.episodes import ClassPool, EpisodeSampler, omniglot_pool, open_pool  # noqa: E402
from fewshot_studio.core.evaluation import iter_lake_episodes, mean_ci95, read_lake_runs  # noqa: E402
from fewshot_studio.core.preprocess import Preprocess  # noqa: E402

if os.environ.get("OMP_NUM_THREADS"):
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


# --- what every library shares: data, episodes, evaluation, memory --------------------------------------------
def omniglot_preprocess(size: int = 28) -> Preprocess:
    """The model input of a Conv-4 meta-training run at ``size`` px, exactly as MetaTrainRun builds it."""
    base = get_backbone("conv4").preprocess
    return Preprocess(size, size if size <= 32 else round(size * 8 / 7), base.mean, base.std)


_POOLS: dict = {}


def train_pool(spec: dict, pre: Preprocess) -> ClassPool:
    """MetaTrainRun's training pool: the dataset (rotations as new classes) less its held-out groups."""
    key = ("train", spec["dataset"], spec["rotations"], spec["val_fraction"], pre.resize_size)
    if key not in _POOLS:
        pool = open_pool(spec["dataset"], pre, rotations=spec["rotations"])
        _POOLS[key] = pool.split(spec["val_fraction"])[0]
    return _POOLS[key]


def eval_pool(spec: dict, size: int) -> ClassPool:
    key = ("eval", spec["npz"], tuple(spec.get("alphabets") or ()), size)
    if key not in _POOLS:
        _POOLS[key] = omniglot_pool(spec["npz"], size=size, alphabets=spec.get("alphabets") or None)
    return _POOLS[key]


def meta_batch(sampler: EpisodeSampler, step: int, mb: int, pre: Preprocess, device):
    """Tasks of meta-batch ``step`` as MetaTrainRun draws them: episodes step * mb .. step * mb + mb - 1."""
    out = []
    for i in range(step * mb, step * mb + mb):
        ep = sampler.episode(i)
        out.append((pre.view(ep.support).to(device), ep.support_labels.to(device),
                    pre.view(ep.query).to(device), ep.query_labels.to(device)))
    return out


def episode_accuracies(predict, sampler: EpisodeSampler, episodes: int) -> list[float]:
    """Accuracy of each episode 0 .. episodes-1 (as evaluate_episodes, kept per episode for paired tests)."""
    accs = []
    for i in range(episodes):
        ep = sampler.episode(i)
        accs.append((predict(ep).cpu() == ep.query_labels).float().mean().item())
    return accs


def lake_errors(predict, runs, pre: Preprocess) -> dict:
    """Error rate over all test images of all runs (lake_error_rate), and each run's, for paired comparisons."""
    wrong = total = 0
    per_run = []
    for ep in iter_lake_episodes(runs, pre.load):
        pred = predict(ep).cpu()
        w = int((pred != ep.query_labels).sum())
        wrong += w
        total += len(ep.query_labels)
        per_run.append(w / len(ep.query_labels))
    return {"error": wrong / total, "runs": len(runs), "tests": total, "per_run": per_run}


def past_budget(train: dict, start: float) -> bool:
    """Whether a wall-clock training budget (``train["seconds"]``, from the start of the loop) is spent."""
    return bool(train.get("seconds")) and time.perf_counter() - start >= train["seconds"]


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class Memory:
    """Peak memory of a training loop: CUDA's peak allocation, or the process's peak resident set above the
    resident set when :meth:`start` was called (Linux's VmHWM, reset through /proc/self/clear_refs)."""

    def __init__(self, device):
        self.cuda = torch.device(device).type == "cuda"
        self.base = 0.0

    @staticmethod
    def _status(key: str) -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def start(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated() / 2**20
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass
            self.base = self._status("VmRSS")

    def snap(self) -> None:
        """Record the peak so far (called after each training step, so that saving a checkpoint after the
        last step does not count)."""
        self.last = self.peak()

    def peak(self) -> dict:
        if self.cuda:
            peak = torch.cuda.max_memory_allocated() / 2**20
            return {"kind": "cuda max_memory_allocated", "peak_mb": peak, "delta_mb": peak - self.base}
        peak = self._status("VmHWM")
        return {"kind": "peak RSS", "peak_mb": peak, "delta_mb": peak - self.base}


class StepClock:
    """Wall time of each training step (synchronised on CUDA)."""

    def __init__(self, device, memory: Memory | None = None):
        self.device = device
        self.memory = memory
        self.times = [time.perf_counter()]

    def tick(self) -> None:
        sync(self.device)
        self.times.append(time.perf_counter())
        if self.memory is not None:
            self.memory.snap()

    def rate(self, warm: int) -> float:
        """Steps per second after ``warm`` warm-up steps."""
        t = self.times
        n = len(t) - 1 - warm
        return n / (t[-1] - t[warm]) if n > 0 else float("nan")


def textbook_conv4(device):
    """The anchors' body: our Conv-4 with the same initial weights, its blocks in the textbook order (conv, batch
    norm, ReLU, max-pool) and the default memory layout, as learn2learn's and easyfsl's own Conv-4s run. Ours
    pools before the ReLU and meta-trains channels-last on CPUs (same outputs, less work: builtin.conv_block)."""
    body = get_backbone("conv4").build("random")
    for block in body.trunk:
        pool, relu = block[2], block[3]
        assert isinstance(pool, nn.MaxPool2d) and isinstance(relu, nn.ReLU), "conv_block's order changed"
        block[2], block[3] = relu, pool
    return body.to(device)


# --- ours: the engine's own meta-training run and evaluation path -------------------------------------------------
class Ours:
    @staticmethod
    def train(job: dict, clock: StepClock | None = None, memory: Memory | None = None):
        from fewshot_studio.core.errors import RunCancelled
        from fewshot_studio.core.meta_train import MetaTrainConfig, MetaTrainRun
        from fewshot_studio.core.runs import Progress, Stage

        t = job["train"]
        stem = job.get("label", job["method"]).replace(" ", "_").replace("/", "_")
        out = Path(job["workdir"]) / f"{stem}.safetensors"
        fields = dict(
            datasets=[t["dataset"]], method=job["method"], params=job.get("params", {}), backbone="conv4",
            image_size=t["image_size"], ways=t["ways"], shots=t["shots"], queries=t["queries"],
            meta_batch=t["meta_batch"], steps=t["steps"], lr=t["lr"], optimizer="adam", val_every=0,
            val_fraction=t["val_fraction"], rotations=t["rotations"], seed=t["seed"], device=job["device"],
            output=str(out))
        fields.update(t.get("config", {}))  # "config": any other MetaTrainConfig fields (recipes.py, a preset's)
        config = MetaTrainConfig(**fields)
        run = MetaTrainRun(config)
        losses, seconds, start = [], t.get("seconds"), time.perf_counter()
        try:
            for event in run:
                if isinstance(event, Stage) and event.name == "building backbone":
                    start = time.perf_counter()
                    if memory:
                        memory.start()
                    if clock:
                        clock.times = [time.perf_counter()]
                elif isinstance(event, Progress):
                    losses.append(event.loss)
                    if clock:
                        clock.tick()  # the reported loss was already read (.item()): the step is finished
                    if seconds and time.perf_counter() - start >= seconds:
                        run.cancel()  # a wall-clock budget: the run stops after this step, saving its last state
        except RunCancelled:
            out = out.with_name(out.stem + ".last.safetensors")
        return out, losses

    MAML_FAMILY = ("maml", "fomaml", "anil", "reptile")

    @staticmethod
    def predictors(job: dict, checkpoint: Path) -> dict:
        """Evaluation conventions (those in ``job["conventions"]``; the first is the row's own):

        - ``engine``: what `fewshot-studio evaluate` does with the checkpoint (open_predictor);
        - ``support`` (MAML family): the meta-trained computation on the backbone prepared as during
          meta-training (batch-statistics norm), batch norm then frozen from the support set: the documented
          convention, and what MetaTrainRun's validation does;
        - ``transductive`` (MAML family): batch norm from the query batch's statistics, learn2learn's convention.
        """
        from fewshot_studio.core.evaluation import open_predictor

        predict, pre, _ = open_predictor(checkpoint, device=job["device"])
        out = {}
        for name in job.get("conventions") or {"engine": None}:
            if name == "engine":
                out[name] = predict
            elif name == "support":
                out[name] = Ours._support(job, checkpoint, pre)
            elif name == "transductive":
                out[name] = Ours._transductive(job, checkpoint, pre)
        return out

    @staticmethod
    def _support(job, checkpoint, pre):
        from fewshot_studio.core.algorithms import get_method
        from fewshot_studio.core.backbones import checkpoint_spec

        device = torch.device(job["device"])
        spec = checkpoint_spec(checkpoint)
        method = get_method(spec.meta["method"]["name"])(**spec.meta["method"]["params"])
        backbone = method.prepare_backbone(spec.build().to(device)).eval()

        def predict(ep):
            xs, xq = pre.view(ep.support).to(device), pre.view(ep.query).to(device)
            return method.episode_predict(backbone, xs, ep.support_labels.to(device), xq, ep.ways)

        return predict

    @staticmethod
    def _transductive(job, checkpoint, pre):
        from fewshot_studio.core.algorithms import get_method
        from fewshot_studio.core.algorithms.functional import to_batch_stat_norm
        from fewshot_studio.core.algorithms.maml import feature_dim
        from fewshot_studio.core.backbones import checkpoint_spec

        device = torch.device(job["device"])
        spec = checkpoint_spec(checkpoint)
        backbone = to_batch_stat_norm(spec.build().to(device)).eval()  # unfrozen: statistics of each batch
        method = get_method(spec.meta["method"]["name"])(**spec.meta["method"]["params"])

        def predict(ep):
            xs, xq = pre.view(ep.support).to(device), pre.view(ep.query).to(device)
            params = {k: v.detach() for k, v in backbone.named_parameters()}
            buffers = dict(backbone.named_buffers())
            with torch.enable_grad():
                fast, head = method.adapt(backbone, params, buffers, xs, ep.support_labels.to(device), ep.ways,
                                          method.params.adapt_steps, True, feature_dim(backbone, xs))
            with torch.no_grad():
                return method._logits(backbone, fast, buffers, head, xq).argmax(-1)

        return predict


# --- learn2learn 0.2.0: MAML (second or first order) and ANIL, as its Omniglot examples use them ---------------
class L2L:
    """learn2learn's idiom: ``maml.clone()``, ``learner.adapt(loss)`` for each inner step, the query loss of
    each task back-propagated in turn, a head with one output per way meta-learned with the body. The model
    stays in training mode, so batch norm uses the statistics of each batch, also at evaluation
    (transductive). The body is our Conv-4, built from the same seed as ours (same initial weights)."""

    @staticmethod
    def build(job: dict, device):
        import learn2learn as l2l

        t, p = job["train"], job.get("params", {})
        torch.manual_seed(t["seed"])
        body = textbook_conv4(device)
        dim = body(torch.zeros(1, 3, t["image_size"], t["image_size"], device=device)).shape[-1]
        head = nn.Linear(dim, t["ways"]).to(device)
        inner_lr, first_order = p.get("inner_lr", 0.4), p.get("first_order", False)
        if job["method"] == "anil":
            return {"body": body.train(), "head": l2l.algorithms.MAML(head, lr=inner_lr, first_order=first_order),
                    "anil": True, "dim": dim}
        model = nn.Sequential(body, head).train()
        return {"maml": l2l.algorithms.MAML(model, lr=inner_lr, first_order=first_order), "anil": False, "dim": dim}

    @staticmethod
    def parameters(m):
        return list(m["body"].parameters()) + list(m["head"].parameters()) if m["anil"] else \
            list(m["maml"].parameters())

    @staticmethod
    def task_loss(m, xs, ys, xq, yq, steps: int):
        if m["anil"]:  # learn2learn's ANIL example: features of the whole task at once, head adapted
            f = m["body"](torch.cat([xs, xq]))
            fs, fq = f[: len(xs)], f[len(xs):]
            learner = m["head"].clone()
            for _ in range(steps):
                learner.adapt(F.cross_entropy(learner(fs), ys))
            return F.cross_entropy(learner(fq), yq)
        learner = m["maml"].clone()
        for _ in range(steps):
            learner.adapt(F.cross_entropy(learner(xs), ys))
        return F.cross_entropy(learner(xq), yq)

    @staticmethod
    def train(job: dict, clock: StepClock | None = None, memory: Memory | None = None):
        t, device = job["train"], torch.device(job["device"])
        pre = omniglot_preprocess(t["image_size"])
        sampler = EpisodeSampler(train_pool(t, pre), t["ways"], t["shots"], t["queries"], seed=t["seed"])
        m = L2L.build(job, device)
        opt = torch.optim.Adam(L2L.parameters(m), lr=t["lr"])
        steps = job.get("params", {}).get("inner_steps", 2)
        if memory:
            memory.start()
        if clock:
            clock.times = [time.perf_counter()]
        losses, clock_start = [], time.perf_counter()
        for step in range(t["steps"]):
            if past_budget(t, clock_start):
                break
            tasks = meta_batch(sampler, step, t["meta_batch"], pre, device)
            opt.zero_grad()
            total = 0.0
            for xs, ys, xq, yq in tasks:
                loss = L2L.task_loss(m, xs, ys, xq, yq, steps) / len(tasks)
                loss.backward()
                total += loss.item()
            opt.step()
            losses.append(total)
            if clock:
                clock.tick()
        return m, losses

    @staticmethod
    def predictors(job: dict, m) -> dict:
        """Adapt a clone for ``adapt_steps`` (as many as ours), classify the queries in training mode. The
        meta-learned head has one output per training way: for another number of ways, a head of zeros."""
        import learn2learn as l2l

        p, device = job.get("params", {}), torch.device(job["device"])
        steps, ways, inner_lr = p.get("adapt_steps", 5), job["train"]["ways"], p.get("inner_lr", 0.4)
        pre = omniglot_preprocess(job["train"]["image_size"])

        def predict(ep):
            xs, xq = pre.view(ep.support).to(device), pre.view(ep.query).to(device)
            ys = ep.support_labels.to(device)
            with torch.enable_grad():
                if m["anil"]:
                    head = m["head"] if ep.ways == ways else l2l.algorithms.MAML(
                        nn.Linear(m["dim"], ep.ways).to(device).requires_grad_(True), lr=inner_lr)
                    if ep.ways != ways:
                        nn.init.zeros_(head.module.weight), nn.init.zeros_(head.module.bias)
                    f = m["body"](torch.cat([xs, xq])).detach()
                    fs, fq = f[: len(xs)], f[len(xs):]
                    learner = head.clone(first_order=True)
                    for _ in range(steps):
                        learner.adapt(F.cross_entropy(learner(fs), ys))
                    return learner(fq).argmax(-1).detach()
                maml = m["maml"]
                if ep.ways != ways:
                    body = copy.deepcopy(m["maml"].module[0])
                    head = nn.Linear(m["dim"], ep.ways).to(device)
                    nn.init.zeros_(head.weight), nn.init.zeros_(head.bias)
                    maml = l2l.algorithms.MAML(nn.Sequential(body, head).train(), lr=inner_lr)
                learner = maml.clone(first_order=True)
                for _ in range(steps):
                    learner.adapt(F.cross_entropy(learner(xs), ys))
                return learner(xq).argmax(-1).detach()

        return {"library": predict}


# --- easyfsl 1.5.0: Prototypical, Matching and Relation Networks, its classical episodic training --------------
class EasyFSL:
    """easyfsl's idiom: ``model.process_support_set(support, labels)`` then ``model(query)``; cross-entropy for
    Prototypical Networks, NLL for Matching Networks (they output log-probabilities), MSE on one-hot labels for
    Relation Networks; evaluation in eval mode. Same Conv-4 body and initial weights as ours."""

    CRITERIA = {"prototypical": "ce", "matching": "nll", "relation": "mse"}

    @staticmethod
    def build(job: dict, device):
        from easyfsl.methods import MatchingNetworks, PrototypicalNetworks, RelationNetworks

        t = job["train"]
        torch.manual_seed(t["seed"])
        body = textbook_conv4(device)
        dim = body(torch.zeros(1, 3, t["image_size"], t["image_size"], device=device)).shape[-1]
        if job["method"] == "prototypical":
            return PrototypicalNetworks(body).to(device)
        if job["method"] == "matching":
            return MatchingNetworks(body, feature_dimension=dim).to(device)
        maps = FeatureMaps(body)
        channels = maps(torch.zeros(1, 3, t["image_size"], t["image_size"], device=device)).shape[1]
        return RelationNetworks(maps, feature_dimension=channels).to(device)

    @staticmethod
    def task_loss(model, method, xs, ys, xq, yq):
        model.process_support_set(xs, ys)
        scores = model(xq)
        kind = EasyFSL.CRITERIA[method]
        if kind == "ce":
            return F.cross_entropy(scores, yq)
        if kind == "nll":
            return F.nll_loss(scores, yq)
        return F.mse_loss(scores, F.one_hot(yq, scores.shape[1]).float())

    @staticmethod
    def train(job: dict, clock: StepClock | None = None, memory: Memory | None = None):
        t, device = job["train"], torch.device(job["device"])
        pre = omniglot_preprocess(t["image_size"])
        sampler = EpisodeSampler(train_pool(t, pre), t["ways"], t["shots"], t["queries"], seed=t["seed"])
        model = EasyFSL.build(job, device).train()
        opt = torch.optim.Adam(model.parameters(), lr=t["lr"])
        if memory:
            memory.start()
        if clock:
            clock.times = [time.perf_counter()]
        losses, clock_start = [], time.perf_counter()
        for step in range(t["steps"]):
            if past_budget(t, clock_start):
                break
            tasks = meta_batch(sampler, step, t["meta_batch"], pre, device)
            opt.zero_grad()
            total = 0.0
            for xs, ys, xq, yq in tasks:
                loss = EasyFSL.task_loss(model, job["method"], xs, ys, xq, yq) / len(tasks)
                loss.backward()
                total += loss.item()
            opt.step()
            losses.append(total)
            if clock:
                clock.tick()
        return model.eval(), losses

    @staticmethod
    def predictors(job: dict, model) -> dict:
        device = torch.device(job["device"])
        pre = omniglot_preprocess(job["train"]["image_size"])

        @torch.no_grad()
        def predict(ep):
            model.process_support_set(pre.view(ep.support).to(device), ep.support_labels.to(device))
            return model(pre.view(ep.query).to(device)).argmax(-1)

        return {"library": predict}


class FeatureMaps(nn.Module):
    """Our Conv-4 giving feature maps (N, C, h, w), as easyfsl's Relation Networks need."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, x):
        return self.backbone.feature_map(x)


LIBRARIES = {"ours": Ours, "l2l": L2L, "easyfsl": EasyFSL}


# --- jobs ---------------------------------------------------------------------------------------------------
def job_hello(job: dict) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import numpy

    import fewshot_studio

    out = {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": numpy.__version__,
           "fewshot_studio": fewshot_studio.__version__, "threads": torch.get_num_threads(),
           "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    for name in ("torchvision", "learn2learn", "easyfsl"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def job_omniglot(job: dict) -> dict:
    lib = LIBRARIES[job["lib"]]
    size = job["train"]["image_size"]
    pre = omniglot_preprocess(size)
    t0 = time.perf_counter()
    model, losses = lib.train(job)
    train_s = time.perf_counter() - t0
    predictors = lib.predictors(job, model)
    out = {"train_seconds": train_s, "steps": len(losses),
           "final_loss": sum(losses[-10:]) / max(1, len(losses[-10:])), "eval": {}}
    e = job.get("eval")
    t0 = time.perf_counter()
    caps = job.get("conventions") or {}
    for name, predict in predictors.items():
        res = {}
        cap = caps.get(name) or {}
        if e and e.get("settings"):
            pool = eval_pool(e, size)
            for ways, shots, episodes in e["settings"]:
                episodes = min(episodes, cap.get(f"{ways}w{shots}s", episodes))
                queries = e["queries"][str(ways)]
                sampler = EpisodeSampler(pool, ways, shots, queries, seed=e["seed"])
                accs = episode_accuracies(predict, sampler, episodes)
                mean, ci = mean_ci95(accs)
                res[f"{ways}w{shots}s"] = {"mean": mean, "ci95": ci, "episodes": episodes, "queries": queries,
                                           "accs": accs}
        for key, folder in (job.get("lake") or {}).items():
            runs = read_lake_runs(folder)[: job.get("lake_runs") or None]
            res[f"lake:{key}"] = lake_errors(predict, runs, pre)
        out["eval"][name] = res
    out["eval_seconds"] = time.perf_counter() - t0
    return out


# --- natural images: EfficientNet-Lite0 features ------------------------------------------------------------------
class FeaturePool(ClassPool):
    """Cached features as a pool: ``images(c, index)`` gives features (n, D), so that an EpisodeSampler with the
    same seed and the same class sizes draws the same images as on the image pool."""

    def __init__(self, features: list[torch.Tensor], names: list[str]):
        self.features = features
        super().__init__(names, names, 0)

    def count(self, c: int) -> int:
        return self.features[c].shape[0]

    def images(self, c: int, index: torch.Tensor) -> torch.Tensor:
        return self.features[c][index]


def job_natural_ours(job: dict) -> dict:
    """Our methods on 5-way K-shot episodes of the novel classes of a folder dataset, EfficientNet-Lite0.

    Frozen-backbone methods adapt on features computed once per image (the app's feature cache does the same);
    methods that train the backbone go through the engine's fit_predictor on the images."""
    from fewshot_studio.core.algorithms import FitTask, get_method
    from fewshot_studio.core.devices import Precision
    from fewshot_studio.core.episodes import SubsetPool, folder_pool
    from fewshot_studio.core.evaluation import fit_predictor

    device = torch.device(job["device"])
    spec = get_backbone("efficientnet_lite0")
    pre = spec.preprocess
    t0 = time.perf_counter()
    full = folder_pool(job["dataset"], pre)
    novel = SubsetPool(full, [full.names.index(n) for n in job["novel"]])
    backbone = spec.build("pretrained").to(device).eval()
    if device.type == "cpu":
        backbone.use_channels_last()
    feats = []
    with torch.no_grad():
        for c in range(len(novel)):
            x = novel.images(c, torch.arange(novel.count(c)))
            feats.append(torch.cat([backbone(pre.view(x[i:i + 16]).to(device)).float().cpu()
                                    for i in range(0, len(x), 16)]))
    cache = Path(job["feature_cache"])
    torch.save({"features": feats, "names": list(novel.names)}, cache)
    out = {"feature_seconds": time.perf_counter() - t0, "images": sum(len(f) for f in feats), "rows": {}}
    fpool = FeaturePool(feats, list(novel.names))
    for row in job["rows"]:
        res = {}
        for shots, episodes in job["settings"]:
            if row.get("episodes_cap"):
                episodes = min(episodes, row["episodes_cap"])
            img_sampler = EpisodeSampler(novel, job["ways"], shots, job["queries"], seed=job["seed"])
            feat_sampler = EpisodeSampler(fpool, job["ways"], shots, job["queries"], seed=job["seed"])
            cls = get_method(row["method"])
            params = row.get("params", {})
            t1 = time.perf_counter()
            if row.get("trains_backbone"):
                predict = fit_predictor(lambda: cls(**params), backbone, pre, device, seed=job["seed"])
                accs = episode_accuracies(predict, img_sampler, episodes)
            else:
                accs = []
                for i in range(episodes):
                    ep, fe = img_sampler.episode(i), feat_sampler.episode(i)
                    method = cls(**params)
                    task = FitTask(backbone, pre, ep.support.to(device), ep.support_labels.to(device), ep.ways,
                                   device, Precision(device), torch.Generator().manual_seed(job["seed"]),
                                   features=fe.support.to(device))
                    for _ in method.fit(task):
                        pass
                    with torch.no_grad():
                        pred = method.logits(fe.query.to(device)).argmax(-1).cpu()
                    accs.append((pred == ep.query_labels).float().mean().item())
            mean, ci = mean_ci95(accs)
            res[f"{job['ways']}w{shots}s"] = {"mean": mean, "ci95": ci, "episodes": episodes, "accs": accs,
                                              "seconds_per_episode": (time.perf_counter() - t1) / max(1, episodes)}
        out["rows"][row["label"]] = res
    return out


def job_natural_easyfsl(job: dict) -> dict:
    """easyfsl's Prototypical Networks and Finetune on the same cached features and episodes (an identity
    backbone over precomputed features, as easyfsl's FeaturesDataset is meant to be used)."""
    from easyfsl.methods import Finetune, PrototypicalNetworks

    data = torch.load(job["feature_cache"])
    fpool = FeaturePool(data["features"], data["names"])
    out = {"rows": {}}
    for row in job["rows"]:
        res = {}
        for shots, episodes in job["settings"]:
            sampler = EpisodeSampler(fpool, job["ways"], shots, job["queries"], seed=job["seed"])
            t1 = time.perf_counter()
            accs = []
            for i in range(episodes):
                ep = sampler.episode(i)
                model = (PrototypicalNetworks(nn.Identity()) if row["method"] == "prototypical"
                         else Finetune(nn.Identity(), **row.get("params", {}))).eval()
                with torch.no_grad():
                    model.process_support_set(ep.support, ep.support_labels)
                    pred = model(ep.query).argmax(-1)
                accs.append((pred == ep.query_labels).float().mean().item())
            mean, ci = mean_ci95(accs)
            res[f"{job['ways']}w{shots}s"] = {"mean": mean, "ci95": ci, "episodes": episodes, "accs": accs,
                                              "seconds_per_episode": (time.perf_counter() - t1) / max(1, episodes)}
        out["rows"][row["label"]] = res
    return out


def job_natural(job: dict) -> dict:
    return job_natural_ours(job) if job["lib"] == "ours" else job_natural_easyfsl(job)


# --- speed and memory ---------------------------------------------------------------------------------------------
def job_speed(job: dict) -> dict:
    """Meta-training steps per second after ``warm`` steps, and the peak memory of the training loop."""
    if torch.device(job["device"]).type == "cuda":
        torch.backends.cudnn.benchmark = False
    lib = LIBRARIES[job["lib"]]
    # The first optimizer step of a process imports torch._dynamo (hundreds of modules, ~200 MB here): do it
    # before measuring, so that neither library's peak memory counts it.
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.zeros(1)
    torch.optim.Adam([p]).step()
    memory = Memory(job["device"])
    clock = StepClock(job["device"], memory)
    job = copy.deepcopy(job)
    job["train"]["steps"] = job["warm"] + job["measured"]
    lib.train(job, clock, memory)
    return {"steps_per_s": clock.rate(job["warm"]), "memory": memory.last,
            "step_seconds": [b - a for a, b in zip(clock.times, clock.times[1:])]}


def job_latency(job: dict) -> dict:
    """Adaptation latency (cold: backbone built and support embedded; warm: again in the same process) and
    prediction throughput, 5-way 5-shot Fashion-MNIST, EfficientNet-Lite0: adapt_latency.py's measurement."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from adapt_latency import import_calibrated_random_weights, timed_run
    from common import fashion_task

    from fewshot_studio.core import SupportSet
    from fewshot_studio.core.backbones.cache import clear_caches

    tmp = Path(tempfile.mkdtemp(dir=job.get("workdir")))
    support_dir, queries = fashion_task(tmp, queries=job["queries"])
    support, _ = SupportSet.from_folder(support_dir)
    name = "efficientnet_lite0"
    note = ""
    if not get_backbone(name).weights_status().available:
        import_calibrated_random_weights(name)
        note = "random weights"
    rows = []
    for label, method, params in job["methods"]:
        clear_caches()
        _, cold = timed_run(support, name, method, params, "pretrained", job["device"])
        clf, warm = timed_run(support, name, method, params, "pretrained", job["device"])
        paths = [p for p, _ in queries]
        clf.predict(paths[:8])
        sync(job["device"])
        t = time.perf_counter()
        preds, _ = clf.predict(paths)
        sync(job["device"])
        rate = len(paths) / (time.perf_counter() - t)
        acc = sum(p.label == c for p, (_, c) in zip(preds, queries)) / len(preds)
        rows.append({"label": label, "cold": cold, "warm": warm, "steps": clf.info["steps"], "img_per_s": rate,
                     "acc": acc})
    return {"rows": rows, "note": note}


JOBS = {"hello": job_hello, "omniglot": job_omniglot, "natural": job_natural, "speed": job_speed,
        "latency": job_latency}


def answer(job: dict) -> dict:
    try:
        if "workdir" in job:
            os.environ["FEWSHOT_STUDIO_HOME"] = str(Path(job["workdir"]) / "home")
        return {"ok": True, "result": JOBS[job["job"]](job)}
    except Exception as exc:  # the caller reports it in its table and goes on
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


def main() -> None:
    out = sys.stdout
    if sys.argv[1:2] == ["once"]:
        print("@@ " + json.dumps(answer(json.loads(sys.argv[2]))), file=out, flush=True)
        return
    for line in sys.stdin:
        if line.strip():
            result = answer(json.loads(line))
            print("@@ " + json.dumps(result, default=_jsonable), file=out, flush=True)


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


if __name__ == "__main__":
    main()
