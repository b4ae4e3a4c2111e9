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
from collections.abc import Iterator
from pathlib import Path

import torch

from .algorithms import DEFAULT_METHOD, FewShotMethod, FitTask, MetaLearner, get_method
from .backbones import DEFAULT_BACKBONE, get_backbone
from .backbones.cache import cached_features, load_backbone, remember_features
from .classifier import FewShotClassifier
from .devices import Precision, device_label, inference_batch, resolve_device
from .errors import DeviceError, DivergedError, WeightsUnavailableError
from .images import file_key
from .paths import offline
from .runs import Progress, Run, Stage
from .support import SupportSet

MSG_DIVERGED = ("the loss became {loss} at step {step}; the run stopped and the previous model is kept. "
                "Lower the learning rate (it was {lr:g}) or use fewer steps")
MSG_OOM = ("the GPU ran out of memory ({device}); the previous model is kept. Use a smaller backbone, a "
           "smaller batch size, or run on the CPU (--device cpu)")


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
                 mixed_precision: bool = True, embed_batch: int | None = None):
        super().__init__()
        support.validate()
        self.class_names = support.class_names
        self.samples = support.samples()
        self.summary = support.summary()
        self.spec = get_backbone(backbone)
        self.kind = self.spec.kind_for(weights)  # whose defaults the method gets: pretrained, meta-trained, random
        self.method = method if isinstance(method, FewShotMethod) else get_method(method).for_backbone(self.kind,
                                                                                                        params)
        meta_state = self.spec.method_state(self.method.name)
        if meta_state is not None and isinstance(self.method, MetaLearner):
            self.method.load_meta_state(meta_state)  # modules meta-trained with this checkpoint
        self.weights = weights
        if weights == "pretrained" and offline():
            status = self.spec.weights_status()
            if not status.available:
                raise WeightsUnavailableError(status.detail)
        self.device = resolve_device(device)
        self.seed = seed
        self.mixed_precision = mixed_precision
        self.embed_batch = embed_batch or inference_batch(self.device)

    def _events(self) -> Iterator[Stage | Progress]:
        """Cancelled runs raise :class:`RunCancelled` after their current step."""
        try:
            yield from self._run()
        except torch.cuda.OutOfMemoryError:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            raise DeviceError(MSG_OOM.format(device=device_label(self.device))) from None

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
        backbone = copy.deepcopy(shared).requires_grad_(True) if trains else shared
        backbone = backbone.to(self.device).eval()
        self._raise_if_cancelled(0, total_steps)

        pre = self.spec.preprocess
        images = []
        for i, path in enumerate(paths):
            yield Stage("loading images", i, len(paths))
            images.append(pre.load([path]))
            self._raise_if_cancelled(0, total_steps)
        images = torch.cat(images).to(self.device)
        task = FitTask(backbone, pre, images, labels, len(self.class_names), self.device,
                       Precision(self.device, self.mixed_precision), generator, embed_batch=self.embed_batch)

        features = None
        if not trains:
            features = yield from self._cached_features(task, key, paths)
            task.features = features

        step = 0
        for report in self.method.fit(task):
            step += 1
            if not math.isfinite(report.loss):
                raise DivergedError(MSG_DIVERGED.format(loss=report.loss, step=step, lr=report.lr))
            yield Progress(step, total_steps, report.loss, report.accuracy, report.lr,
                           time.perf_counter() - start, label)
            self._raise_if_cancelled(step, total_steps)

        if trains:
            features = task.embed_all()
            backbone = backbone.requires_grad_(False).eval()
        self.result = FewShotClassifier(
            spec=self.spec, backbone=backbone, method=self.method, class_names=self.class_names,
            weights=str(self.weights), backbone_trained=trains, support_paths=[str(p) for p in paths],
            support_labels=labels.cpu(), support_features=features.detach().float().cpu(),
            info={"seed": self.seed, "device": str(self.device), "steps": step,
                  "seconds": round(time.perf_counter() - start, 3), "support": self.summary})

    def _cached_features(self, task: FitTask, key: tuple, paths: list[Path]):
        """Pooled features of every support image; each image is embedded once per backbone and file."""
        keys = [(key, *file_key(p)) for p in paths]
        known = dict(enumerate(cached_features(keys)))
        missing = [i for i, f in known.items() if f is None]
        for start in range(0, len(missing), task.embed_batch):
            yield Stage("embedding support images", start, len(missing))
            chunk = missing[start:start + task.embed_batch]
            with torch.no_grad():
                out = task.embed(task.views(torch.tensor(chunk, device=task.device))).cpu()
            known.update(zip(chunk, out))
            remember_features([(keys[i], f) for i, f in zip(chunk, out)])
            self._raise_if_cancelled(0, self.method.total_steps())
        return torch.stack([known[i] for i in range(len(paths))]).to(task.device)


def adapt(support: SupportSet, backbone: str = DEFAULT_BACKBONE, method: str = DEFAULT_METHOD,
          params: dict | None = None, **options) -> FewShotClassifier:
    """Adapt and return the classifier, without progress reporting. See :class:`AdaptRun` for options."""
    return AdaptRun(support, backbone, method, params, **options).run()
