"""Episodic evaluation: mean accuracy with a 95% confidence interval, and Lake et al.'s one-shot runs."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from .adaptation import AdaptationContext, check_stages, make_stages
from .algorithms import FitTask, MetaLearner, get_method, is_meta_learner, transductive_logits
from .backbones import checkpoint_spec
from .backbones.cache import (cached_features, load_backbone, remember_features, shared_key, tensor_ids,
                              variant_of)
from .checkpoints import Checkpoint
from .classifier import load_classifier
from .devices import Precision, inference_batch, resolve_device
from .episodes import DatasetError, Episode, EpisodeSampler
from .errors import ModelFileError, ParameterError

MSG_EPISODES = "--episodes must be at least 1 (it is {n}): an accuracy needs at least one episode"

# predict(episode) -> predicted query labels (n_query,)
Predictor = Callable[[Episode], torch.Tensor]


def mean_ci95(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval (normal approximation, 1.96 standard errors)."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    mean = sum(values) / n
    if n == 1:
        return mean, float("nan")
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 1.96 * math.sqrt(var / n)


@dataclass
class EvalResult:
    mean: float  # accuracy, 0..1
    ci95: float  # half-width of the 95% interval
    episodes: int
    ways: int
    shots: int

    def __str__(self) -> str:
        if not math.isfinite(self.ci95):  # one episode: no interval
            return f"{self.ways}-way {self.shots}-shot: {100 * self.mean:.2f}% (1 episode, no confidence interval)"
        return (f"{self.ways}-way {self.shots}-shot: {100 * self.mean:.2f}% ± {100 * self.ci95:.2f}% "
                f"(95% CI, {self.episodes} episodes)")


def evaluate_episodes(predict: Predictor, sampler: EpisodeSampler, episodes: int, *, start: int = 0,
                      on_episode: Callable[[int, float], None] | None = None) -> EvalResult:
    """Accuracy of ``predict`` over episodes ``start`` .. ``start + episodes - 1`` of ``sampler``."""
    if episodes < 1:
        raise ParameterError(MSG_EPISODES.format(n=episodes))
    accs = []
    for i in range(start, start + episodes):
        ep = sampler.episode(i)
        pred = predict(ep).cpu()
        accs.append((pred == ep.query_labels).float().mean().item())
        if on_episode:
            on_episode(i - start + 1, accs[-1])
    mean, ci = mean_ci95(accs)
    return EvalResult(mean, ci, episodes, sampler.ways, sampler.shots)


# --- Lake et al.'s one-shot classification runs ---------------------------------------------------------------
@dataclass
class LakeRun:
    """One 20-way one-shot run: training images (one per class), test images, and each test's class index."""

    name: str
    training: list[Path]
    test: list[Path]
    answers: list[int]


_LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s*$")


def read_lake_runs(root: str | os.PathLike) -> list[LakeRun]:
    """``runNN/class_labels.txt`` lines read ``runNN/test/itemNN.png runNN/training/classMM.png``."""
    root = Path(root)
    runs = []
    for labels in sorted(root.glob("run*/class_labels.txt")):
        pairs = [m.groups() for m in map(_LINE.match, labels.read_text().splitlines()) if m]
        training = sorted({root / t for _, t in pairs} | set((labels.parent / "training").glob("*.png")))
        index = {p: i for i, p in enumerate(training)}
        try:
            answers = [index[root / t] for _, t in pairs]
        except KeyError as exc:
            raise DatasetError(f"{labels}: names a training image that is not there ({exc})") from None
        runs.append(LakeRun(labels.parent.name, training, [root / q for q, _ in pairs], answers))
    if not runs:
        raise DatasetError(f"{root}: no runNN/class_labels.txt found; expected Lake et al.'s one-shot run layout")
    return runs


def lake_error_rate(predict: Predictor, runs: list[LakeRun], load: Callable[[list[Path]], torch.Tensor]) -> float:
    """Error rate over all test images of all runs; ``load`` turns image paths into base tensors."""
    wrong = total = 0
    for ep in iter_lake_episodes(runs, load):
        pred = predict(ep).cpu()
        wrong += int((pred != ep.query_labels).sum())
        total += len(ep.query_labels)
    if not total:
        raise DatasetError("the one-shot runs list no test images; check their class_labels.txt files")
    return wrong / total


def iter_lake_episodes(runs: list[LakeRun], load) -> Iterator[Episode]:
    for run in runs:
        yield Episode(load(run.training), torch.arange(len(run.training)), load(run.test),
                      torch.tensor(run.answers), list(range(len(run.training))))


# --- predictors: how a saved model or a checkpoint answers an episode --------------------------------------------
def fit_predictor(method_factory, backbone, preprocess, device, *, seed: int = 0, domain_adaptation=(),
                  transductive: bool = False, notes: list[str] | None = None,
                  feature_key: tuple | None = None) -> Predictor:
    """Adapt a fresh method to each episode's support set exactly as for a user's, then classify its queries.

    The episode's ``unlabelled`` images are its pool: ``domain_adaptation`` stages (see :mod:`.adaptation`) and
    transductive methods use it. ``transductive`` classifies the queries jointly; when the guard keeps the
    inductive answer, its note is appended to ``notes``. With ``feature_key`` (the shared backbone's key from
    :func:`~.backbones.cache.load_backbone`) a backbone that stays frozen embeds each image once, across
    episodes, runs and processes (the feature cache, keyed by the image's pixels).
    """
    device = torch.device(device)

    def pooled(images: torch.Tensor, batch: int, precision=None) -> torch.Tensor:
        """Pooled features (n, D) of base images, from the feature cache where known."""
        ids = tensor_ids(images)
        variant = variant_of(device, precision)
        known = cached_features(feature_key, ids, variant)
        missing = [i for i, f in enumerate(known) if f is None]
        for start in range(0, len(missing), batch):
            chunk = missing[start:start + batch]
            x = preprocess.view(images[chunk].to(device))
            with torch.no_grad(), (precision.autocast() if precision is not None else contextlib.nullcontext()):
                out = backbone(x).float().cpu()
            remember_features(feature_key, [(ids[i], f) for i, f in zip(chunk, out)], variant)
            for i, f in zip(chunk, out):
                known[i] = f
        return torch.stack(known).to(device)

    def predict(ep: Episode) -> torch.Tensor:
        method = method_factory()
        stages = make_stages(domain_adaptation)
        n_pool = 0 if ep.unlabelled is None else ep.unlabelled.shape[0]
        check_stages(stages, method, n_pool)
        trains = method.trains_backbone()
        changed = trains or any(s.phase == "backbone" for s in stages)
        bb = copy.deepcopy(backbone).requires_grad_(trains) if changed else backbone
        images, labels = ep.support.to(device), ep.support_labels.to(device)
        task = FitTask(bb, preprocess, images, labels, ep.ways, device, Precision(device),
                       torch.Generator().manual_seed(seed), embed_batch=inference_batch(device))
        ctx = AdaptationContext(task, method, pool_images=None if n_pool == 0 else ep.unlabelled.to(device))
        for stage in (s for s in stages if s.phase == "backbone"):
            stage.apply(ctx)
        cache = feature_key is not None and not changed
        if not trains:
            if ctx.support_features is not None:
                task.features = ctx.support_features
            else:
                task.features = pooled(ep.support, task.embed_batch, task.precision) if cache else task.embed_all()
        if n_pool and (stages or method.transductive):
            ctx.pool_features = task.unlabelled_features = (
                pooled(ep.unlabelled, task.embed_batch) if cache else
                _embed(bb, preprocess, ctx.pool_images, task.embed_batch))
        for stage in (s for s in stages if s.phase == "features"):
            stage.apply(ctx)
        for _ in method.fit(task):
            pass
        if trains and n_pool:
            ctx.pool_features = _embed(bb, preprocess, ctx.pool_images, task.embed_batch)
        for stage in (s for s in stages if s.phase == "refine"):
            stage.apply(ctx)
        with torch.no_grad():
            if cache and method.feature_kind != "map":
                feats = pooled(ep.query, task.embed_batch)
            else:
                x = preprocess.view(ep.query.to(device))
                feats = (bb.feature_map(x) if method.feature_kind == "map" else bb(x)).float()
            if not transductive:
                return method.logits(feats).argmax(-1)
            logits, note = transductive_logits(method, feats)
            if note and notes is not None:
                notes.append(note)
            return logits.argmax(-1)

    return predict


@torch.no_grad()
def _embed(backbone, preprocess, images: torch.Tensor, batch: int) -> torch.Tensor:
    return torch.cat([backbone(preprocess.view(images[i:i + batch])).float() for i in range(0, images.shape[0], batch)])


def open_predictor(path, *, algorithm: str | None = None, params: dict | None = None, device: str = "auto",
                   **adapting):
    """(predict, preprocess, description) for a saved model (adapted classifier) or a meta-training checkpoint.

    A checkpoint evaluated with its own episodic method uses the meta-trained computation directly; any
    other method (``algorithm``), and any evaluation with ``adapting`` options (``domain_adaptation``,
    ``transductive``, ``notes``: see :func:`fit_predictor`), adapts to each episode like to a user's support set.
    """
    fit_options = {k: v for k, v in adapting.items() if v}
    dev = resolve_device(device)
    try:
        Checkpoint(path)
        is_checkpoint = True
    except ModelFileError:
        is_checkpoint = False
    if is_checkpoint:
        spec = checkpoint_spec(path)
        shared, key = load_backbone(spec, "pretrained")
        backbone = shared.to(dev).eval()
        name = algorithm or spec.meta["method"]["name"]
        values = dict(params or ({} if algorithm else spec.meta["method"]["params"]))
        cls = get_method(name)
        state = spec.method_state(name)
        if state is not None and is_meta_learner(cls) and not algorithm and not fit_options:
            method = cls(**values)
            backbone = method.prepare_backbone(copy.deepcopy(backbone))  # MAML family: batch norm as meta-trained
            method.load_meta_state(state)
            method.meta_modules().to(dev).eval()
            pre = spec.preprocess

            def predict(ep):
                xs, xq = pre.view(ep.support).to(dev), pre.view(ep.query).to(dev)
                return method.episode_predict(backbone, xs, ep.support_labels.to(dev), xq, ep.ways)

            return predict, pre, f"checkpoint {Path(path).name} ({name}, meta-trained computation)"

        def factory():
            m = cls.for_backbone(spec.kind, values)
            if state is not None and isinstance(m, MetaLearner):
                m.load_meta_state(state)
            return m

        return fit_predictor(factory, backbone, spec.preprocess, dev, feature_key=key, **adapting), spec.preprocess, \
            f"checkpoint {Path(path).name} + {name} adapted per episode"
    clf = load_classifier(path, device=str(dev))
    name = algorithm or clf.method.name
    values = dict(params or ({} if algorithm else clf.method.params_dict()))
    cls = get_method(name)
    key = None if clf.backbone_trained else shared_key(clf.backbone)  # a trained backbone is never cached
    return fit_predictor(lambda: cls.for_backbone(clf.spec.kind, values), clf.backbone, clf.preprocess, dev,
                         feature_key=key,
                         **adapting), clf.preprocess, \
        f"model {Path(path).name}: {clf.spec.name} + {name} adapted per episode"


def is_lake_runs(path) -> bool:
    return Path(path).is_dir() and any(Path(path).glob("run*/class_labels.txt"))


def write_lake_runs(pool, folder, *, runs: int = 20, ways: int = 20, seed: int = 0) -> Path:
    """Write one-shot runs in Lake et al.'s layout from a pool (to test that code path on held-out classes):
    ``runNN/training/classNN.png`` (one image per class), ``runNN/test/itemNN.png`` (one per class) and
    ``runNN/class_labels.txt``."""
    from PIL import Image

    folder = Path(folder)
    sampler = EpisodeSampler(pool, ways, 1, 1, seed=seed)
    for r in range(1, runs + 1):
        ep = sampler.episode(r)
        run = folder / f"run{r:02d}"
        (run / "training").mkdir(parents=True, exist_ok=True)
        (run / "test").mkdir(parents=True, exist_ok=True)
        order = torch.randperm(ways, generator=torch.Generator().manual_seed(seed + r))
        lines = []
        for i, img in enumerate(ep.support):
            Image.fromarray(img.permute(1, 2, 0).numpy()).save(run / "training" / f"class{i + 1:02d}.png")
        for j, k in enumerate(order.tolist()):
            Image.fromarray(ep.query[k].permute(1, 2, 0).numpy()).save(run / "test" / f"item{j + 1:02d}.png")
            lines.append(f"{run.name}/test/item{j + 1:02d}.png {run.name}/training/class{k + 1:02d}.png")
        (run / "class_labels.txt").write_text("\n".join(lines) + "\n")
    return folder
