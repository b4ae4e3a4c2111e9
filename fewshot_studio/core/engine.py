"""Adaptation runs: a support set, a backbone and a method in; progress events out; a classifier at the end.

A run is a plain generator of events, so the command line iterates it directly and the window wraps it
in a thread. ``cancel()`` is honoured between steps. Nothing the caller already had is changed: a
backbone that the method trains is a private copy, so a cancelled, diverged or failed run leaves the
previous classifier and the cached pretrained backbone as they were.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .adaptation import AdaptationContext, AdaptationStage, check_stages, make_stages, uses_pool
from .algorithms import DEFAULT_METHOD, FewShotMethod, FitTask, MetaLearner, get_method
from .backbones import DEFAULT_BACKBONE, get_backbone
from .backbones.cache import cached_features, file_ids, load_backbone, remember_features, variant_of
from .calibration import UNCALIBRATED, calibration_from_logits, frozen_held_out, plan_folds, scheme_method
from .classifier import FewShotClassifier
from .devices import MSG_OOM_ADAPT, Precision, device_label, inference_batch, out_of_memory, resolve_device
from .errors import DivergedError, WeightsUnavailableError
from .params import check_seed
from .paths import offline
from .runs import Progress, Run, Stage
from .support import SupportSet

MSG_DIVERGED = ("the loss became {loss} at step {step}; the run stopped and the previous model is kept. "
                "Lower the learning rate (it was {lr:g}) or use fewer steps")


class AdaptRun(Run[FewShotClassifier]):
    """Adapt ``method`` with ``backbone`` to a support set. Iterate it for events; ``result`` at the end.

    ``params`` are the hyperparameters set explicitly; the others take their defaults for the backbone's kind
    (``BackboneSpec.kind``), so MAML adapts a pretrained backbone gently and a meta-trained Conv-4 boldly.

    >>> run = AdaptRun(support, "efficientnet_lite0", "prototypical")
    >>> for event in run: print(event)
    >>> classifier = run.result
    """

    def __init__(self, support: SupportSet, backbone: str = DEFAULT_BACKBONE,
                 method: str | FewShotMethod = DEFAULT_METHOD, params: dict | None = None, *,
                 weights: str | os.PathLike = "pretrained", device: str = "auto", seed: int | None = 0,
                 mixed_precision: bool = True, embed_batch: int | None = None,
                 domain_adaptation: str | Sequence[str | AdaptationStage] = (), calibrate: bool | None = None):
        """``calibrate``: fit the confidence temperature on the support set (see :mod:`.calibration`). None (the
        default) calibrates when the backbone stays frozen (leave-one-out on the cached features: one refit of
        the head per image); True also when the method trains the backbone (one adaptation per fold, 5 folds:
        about five more adaptations); False never. Classes with a single image leave the model uncalibrated."""
        super().__init__()
        support.validate()
        self.class_names = support.class_names
        self.samples = support.samples()
        self.unlabelled = list(support.unlabelled)  # the target-domain pool: domain adaptation, transductive methods
        self.summary = support.summary()
        self.spec = get_backbone(backbone)
        self.kind = self.spec.kind_for(weights)  # whose defaults the method gets: pretrained, meta-trained, random
        self.method = method if isinstance(method, FewShotMethod) else get_method(method).for_backbone(self.kind,
                                                                                                        params)
        meta_state = self.spec.method_state(self.method.name)
        if meta_state is not None and isinstance(self.method, MetaLearner):
            self.method.load_meta_state(meta_state)  # modules meta-trained with this checkpoint
        self.stages = make_stages(domain_adaptation)
        check_stages(self.stages, self.method, len(self.unlabelled))
        self.weights = weights
        if weights == "pretrained" and offline():
            status = self.spec.weights_status()
            if not status.available:
                raise WeightsUnavailableError(status.detail)
        self.device = resolve_device(device)
        self.seed = check_seed(seed) if seed is not None else None
        self.mixed_precision = mixed_precision
        self.embed_batch = embed_batch or inference_batch(self.device)
        self.calibrate = calibrate

    @property
    def uses_unlabelled(self) -> bool:
        """Whether the model depends on the unlabelled pool (domain adaptation, a transductive method)."""
        return uses_pool(self.stages, self.method)

    def _events(self) -> Iterator[Stage | Progress]:
        """Cancelled runs raise :class:`RunCancelled` after their current step."""
        try:
            yield from self._run()
        except torch.cuda.OutOfMemoryError:  # whatever the device: an injected error, or a GPU tensor on a CPU run
            raise out_of_memory(self.device, MSG_OOM_ADAPT) from None

    def _run(self):
        start = time.perf_counter()
        label = device_label(self.device)
        generator = torch.Generator().manual_seed(self.seed if self.seed is not None else
                                                  int(torch.seed() % 2**63))
        if self.seed is not None:
            torch.manual_seed(self.seed)
        paths = [p for p, _ in self.samples]
        labels = torch.tensor([c for _, c in self.samples], device=self.device)
        total_steps = self.method.total_steps()

        yield Stage("building backbone", 0, 1)
        shared, key = load_backbone(self.spec, self.weights)
        trains = self.method.trains_backbone()
        by_phase = {phase: [s for s in self.stages if s.phase == phase] for phase in ("backbone", "features", "refine")}
        changed = trains or bool(by_phase["backbone"])  # a private copy: the cached backbone is never changed
        backbone = copy.deepcopy(shared).requires_grad_(trains) if changed else shared
        backbone = backbone.to(self.device).eval()
        self._raise_if_cancelled(0, total_steps)

        pre = self.spec.preprocess
        precision = Precision(self.device, self.mixed_precision)
        known = None
        if not changed and not self.stages:  # every support feature known: the images are loaded only if asked for
            known = cached_features(key, file_ids(paths), variant_of(self.device, precision))
            known = torch.stack(known).to(self.device) if all(f is not None for f in known) else None
        if known is not None:
            task = _LazyImagesTask(backbone, pre, None, labels, len(self.class_names), self.device, precision,
                                   generator, embed_batch=self.embed_batch,
                                   loader=lambda: self.spec.preprocess.load(paths).to(self.device))
        else:
            images = yield from self._load("loading images", paths, total_steps)
            task = FitTask(backbone, pre, images, labels, len(self.class_names), self.device, precision, generator,
                           embed_batch=self.embed_batch)
        context = AdaptationContext(task, self.method)
        if by_phase["backbone"]:
            context.pool_images = yield from self._load("loading unlabelled images", self.unlabelled, total_steps)
            for i, stage in enumerate(by_phase["backbone"]):
                yield Stage(f"domain adaptation: {stage.title}", i, len(by_phase["backbone"]))
                stage.apply(context)
                self._raise_if_cancelled(0, total_steps)

        features = known if known is not None else context.support_features  # (the backbone phase's own domain)
        if features is None and not changed:
            features = yield from self._cached_features(task, key, paths)
        elif features is None and not trains:
            features = task.embed_all()
        task.features = features
        if self.unlabelled and self.uses_unlabelled:
            context.pool_features = yield from self._pool_features(context, key, changed)
            task.unlabelled_features = context.pool_features
        for stage in by_phase["features"]:
            yield Stage(f"domain adaptation: {stage.title}", 0, 1)
            stage.apply(context)

        step = 0
        for report in self.method.fit(task):
            step += 1
            if not math.isfinite(report.loss):
                raise DivergedError(MSG_DIVERGED.format(loss=report.loss, step=step, lr=report.lr))
            yield Progress(step, total_steps, report.loss, report.accuracy, report.lr,
                           time.perf_counter() - start, label)
            self._raise_if_cancelled(step, total_steps)

        if trains:
            backbone = backbone.requires_grad_(False).eval()
            if by_phase["refine"]:  # the pool as the trained backbone sees it
                context.pool_features = yield from self._pool_features(context, key, True)
        for stage in by_phase["refine"]:
            yield Stage(f"domain adaptation: {stage.title}", 0, 1)
            stage.apply(context)
        n = len(paths)  # pseudo-labelled images may have joined the support the method fitted on
        features = task.embed_all()[:n] if trains else task.features[:n]
        info = {"seed": self.seed, "device": str(self.device), "steps": step,
                "seconds": round(time.perf_counter() - start, 3), "support": self.summary}
        if self.stages:
            info["domain_adaptation"] = [{"name": s.name, "params": s.params_dict()} for s in self.stages]
        clf = FewShotClassifier(
            spec=self.spec, backbone=backbone, method=self.method, class_names=self.class_names,
            weights=str(self.weights), backbone_trained=changed, support_paths=[str(p) for p in paths],
            support_labels=labels.cpu(), support_features=features.detach().float().cpu(), info=info)
        clf.calibration = yield from self._calibration(task, features.detach().float(), labels, changed)
        self.result = clf

    def _calibration(self, task: FitTask, pooled: torch.Tensor, labels: torch.Tensor, changed: bool):
        """The temperature fitted on held-out support predictions (UNCALIBRATED when not asked or impossible)."""
        wanted = self.calibrate if self.calibrate is not None else not changed
        counts = torch.bincount(labels.cpu(), minlength=len(self.class_names))
        if not wanted or len(self.class_names) < 2 or int(counts.min()) < 2:
            return UNCALIBRATED
        plan, scheme = plan_folds(labels.tolist(), "auto", not changed, self.seed or 0)
        if changed:
            logits = yield from self._held_out_by_adapting(plan)
        else:
            logits = torch.zeros(len(labels), len(self.class_names), device=self.device)
            feats = pooled.to(self.device)
            if self.method.feature_kind == "map":
                with torch.no_grad():
                    feats = torch.cat([task.backbone.feature_map(task.views(torch.arange(
                        i, min(len(labels), i + 16), device=self.device))).float() for i in range(0, len(labels), 16)])
            fold_task = FitTask(task.backbone, task.preprocess, task.images[:len(labels)], labels,
                                len(self.class_names), self.device, task.precision,
                                torch.Generator().manual_seed(self.seed or 0), features=pooled.to(self.device),
                                embed_batch=task.embed_batch)
            for i, (test, out) in enumerate(frozen_held_out(fold_task, feats, self._fresh_method, plan,
                                                            self._cancel.is_set)):
                if i % 8 == 0:
                    yield Stage("calibrating confidence", i, len(plan))
                logits[test] = out
        self._raise_if_cancelled(0, self.method.total_steps())
        return calibration_from_logits(logits.cpu(), labels.cpu(), scheme_method(scheme))

    def _held_out_by_adapting(self, plan: list[list[int]]):
        """Held-out logits (N, C): one adaptation of a fresh method per fold, without the held-out images."""
        logits = torch.zeros(len(self.samples), len(self.class_names))
        for f, test in enumerate(plan, 1):
            held = set(test)
            train = SupportSet((name, [p for i, (p, c) in enumerate(self.samples) if c == k and i not in held])
                               for k, name in enumerate(self.class_names))
            run = AdaptRun(train, self.spec.name, self._fresh_method(), weights=self.weights, device=str(self.device),
                           seed=self.seed, mixed_precision=self.mixed_precision, embed_batch=self.embed_batch,
                           calibrate=False)
            self._follow(run)
            for event in run:
                if isinstance(event, Progress):
                    yield Stage(f"calibrating confidence: fold {f} of {len(plan)}", event.step, event.total)
            self._follow(None)
            clf = run.result
            base = torch.cat([clf.preprocess.load([self.samples[i][0]]) for i in test])
            with torch.no_grad():
                feats, _ = clf.features(clf.preprocess.view(base.to(clf.device)))
                logits[torch.tensor(test)] = clf.method.logits(feats.float()).float().cpu()
        return logits

    def _fresh_method(self) -> FewShotMethod:
        """A new, unfitted copy of the run's method (with its meta-trained modules, as the run's own has)."""
        method = type(self.method)(self.method.params)
        state = self.spec.method_state(method.name)
        if state is not None and isinstance(method, MetaLearner):
            method.load_meta_state(state)
        return method

    def _load(self, what: str, paths: list[Path], total_steps: int):
        """uint8 base tensors (N, 3, R, R) of image files, on the run's device."""
        images = []
        for i, path in enumerate(paths):
            yield Stage(what, i, len(paths))
            images.append(self.spec.preprocess.load([path]))
            self._raise_if_cancelled(0, total_steps)
        return torch.cat(images).to(self.device)

    def _pool_features(self, context: AdaptationContext, key: tuple, changed: bool):
        """Pooled features (M, D) of the unlabelled images: cached per file for the shared backbone, embedded
        again for a changed one."""
        task = context.task
        if not changed:
            return (yield from self._cached_features(task, key, self.unlabelled, "embedding unlabelled images"))
        if context.pool_images is None:
            context.pool_images = yield from self._load("loading unlabelled images", self.unlabelled, 0)
        out = []
        with torch.no_grad():
            for start in range(0, context.pool_images.shape[0], task.embed_batch):
                yield Stage("embedding unlabelled images", start, context.pool_images.shape[0])
                out.append(task.embed(task.preprocess.view(context.pool_images[start:start + task.embed_batch])))
        return torch.cat(out)

    def _cached_features(self, task: FitTask, key: tuple, paths: list[Path], what: str = "embedding support images"):
        """Pooled features of the images (support images: ``task.images``; others are loaded as needed); each
        image is embedded once per backbone and file."""
        ids = file_ids(paths)
        variant = variant_of(task.device, task.precision)
        known = dict(enumerate(cached_features(key, ids, variant)))
        missing = [i for i, f in known.items() if f is None]
        support = paths == [p for p, _ in self.samples]
        for start in range(0, len(missing), task.embed_batch):
            yield Stage(what, start, len(missing))
            chunk = missing[start:start + task.embed_batch]
            with torch.no_grad():
                if support:
                    x = task.views(torch.tensor(chunk, device=task.device))
                else:
                    x = task.preprocess.view(torch.cat([self.spec.preprocess.load([paths[i]]) for i in chunk])
                                             .to(task.device))
                out = task.embed(x).cpu()
            known.update(zip(chunk, out))
            remember_features(key, [(ids[i], f) for i, f in zip(chunk, out)], variant)
            self._raise_if_cancelled(0, self.method.total_steps())
        return torch.stack([known[i] for i in range(len(paths))]).to(task.device)


@dataclass
class _LazyImagesTask(FitTask):
    """A task whose support features all came from the cache: its images are loaded the first time a method
    asks for them (most frozen-backbone methods never do)."""

    loader: Callable[[], torch.Tensor] | None = None

    @property
    def images(self) -> torch.Tensor:
        if self._images is None and self.loader is not None:
            self._images = self.loader()
        return self._images

    @images.setter
    def images(self, value) -> None:
        self._images = value


def adapt(support: SupportSet, backbone: str = DEFAULT_BACKBONE, method: str = DEFAULT_METHOD,
          params: dict | None = None, **options) -> FewShotClassifier:
    """Adapt and return the classifier, without progress reporting. See :class:`AdaptRun` for options."""
    return AdaptRun(support, backbone, method, params, **options).run()
