"""Multi-task training: one backbone learns several labelled datasets at once, a linear head for each.

The "P" of P>M>F on the user's own data: plain supervised training before (or instead of) meta-training.
Every step takes ``batch_size`` images from *every* dataset (a mixed batch, one forward pass through the
backbone, so batch norm sees all of them), each dataset's head classifies its own images, and the loss is the
sum of the heads' cross-entropies. ``val_fraction`` of each class's images are held out; every ``val_every``
steps each head's accuracy on its dataset's held-out images is measured, and the checkpoint with the best mean
accuracy is kept at ``output``. The checkpoint is offered as a backbone (:mod:`.backbones.checkpoint`); its
heads are kept in it (``nets.<i>.*``, dataset i's classes in the metadata) but adaptation does not use them.

>>> run = MultiTaskRun(MultiTaskConfig(["omniglot.npz", "fashion/"], image_size=28, steps=2000))
>>> for event in run: print(event)
>>> run.result  # the best checkpoint's path
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import get_backbone
from .checkpoints import MULTI_TASK, checkpoints_dir, save_checkpoint
from .devices import device_label, guard_out_of_memory, resolve_device
from .episodes import ClassPool, DatasetError, open_pool
from .errors import DivergedError, ParameterError, RunCancelled
from .meta_train import IMAGE_SIZES, MSG_IMAGE_SIZE, MSG_STEPS
from .params import check_seed
from .runs import Progress, Run, Stage
from .safe_write import OutputPathError, check_output

EVAL_METHOD = {"name": "prototypical", "params": {}}  # nearest centroid: how `evaluate` uses it by default
SCHEDULES = ("cosine", "constant")

MSG_NO_DATASET = "give at least one dataset: fewshot-studio multi-task --dataset A --dataset B"
MSG_TWICE = "{path} is given twice; give each dataset once"
MSG_NOT_FOUND = "{path}: dataset not found; give an Omniglot .npz/.zip or a folder of class folders"
MSG_ONE_CLASS = ("{path} has {n} class(es) with images; a dataset needs at least 2 classes to train its head "
                 "(a folder needs one sub-folder of images per class)")
MSG_BATCH = "--batch-size must be at least 1 (it is {n})"
MSG_FRACTION = "--val-fraction must be from 0 to less than 1 (it is {value})"
MSG_OPTIMIZER = "unknown optimizer {name!r}; choose one of: {choices}"
MSG_SCHEDULE = "unknown learning-rate schedule {name!r}; choose one of: {choices}"
MSG_UNWRITABLE = "cannot write in {folder}; give an --output in a folder you can write to"
MSG_DIVERGED = "the training loss became {loss} at step {step}; lower --lr (it was {lr:g})"
MSG_OOM = dict(during="while training", kept="the checkpoint saved before is kept",
               smaller="a smaller --batch-size or --image-size")


def _sgd(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)


OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": _sgd}  # sgd: with Nesterov momentum 0.9, as supervised training uses


@dataclass
class MultiTaskConfig:
    """Everything a multi-task run depends on (saved in its checkpoint)."""

    datasets: list[str] = field(default_factory=list)  # what open_pool reads: Omniglot .npz/.zip, class folders
    backbone: str = "conv4"
    weights: str = "pretrained"
    image_size: int | None = None  # model input side; default: the backbone's (28 is Omniglot's usual)
    steps: int = 1000
    batch_size: int = 64  # images from each dataset in every step
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "cosine"  # the learning rate over the steps: cosine (to 0 at the end) or constant
    augment: bool = False
    val_every: int = 100
    val_fraction: float = 0.1  # held-out share of each class's images (at least one image stays for training)
    seed: int = 0
    device: str = "auto"
    output: str | None = None

    def output_path(self) -> Path:
        if self.output:
            return Path(self.output)
        stems = [Path(d).stem or "dataset" for d in self.datasets]
        named = "+".join(stems) if len(stems) <= 3 else f"{stems[0]}+{len(stems) - 1}-more"
        return checkpoints_dir() / f"multitask-{Path(self.backbone).stem}-{named}.safetensors"


@dataclass(frozen=True)
class MultiTaskValidation:
    """Each head's accuracy on its dataset's held-out images (datasets without held-out images are left out)."""

    step: int
    accuracies: dict[str, float]  # dataset, as given -> accuracy 0..1
    mean: float
    best: bool  # the best mean so far (the checkpoint at ``output`` was updated)


def _writable(path: Path) -> None:
    folder = next((p for p in path.parents if p.exists()), Path("."))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(MSG_UNWRITABLE.format(folder=folder))


def check_config(config: MultiTaskConfig) -> None:
    """Refuse, before anything runs, a configuration that would train nothing or could not be saved."""
    if not config.datasets:
        raise ParameterError(MSG_NO_DATASET)
    seen: set[str] = set()
    for d in config.datasets:
        key = os.path.realpath(d)
        if key in seen:
            raise ParameterError(MSG_TWICE.format(path=d))
        seen.add(key)
        if not Path(d).exists():
            raise DatasetError(MSG_NOT_FOUND.format(path=d))
    if config.steps < 1:
        raise ParameterError(MSG_STEPS.format(steps=config.steps))
    if config.batch_size < 1:
        raise ParameterError(MSG_BATCH.format(n=config.batch_size))
    if not 0 <= config.val_fraction < 1:
        raise ParameterError(MSG_FRACTION.format(value=config.val_fraction))
    if config.optimizer not in OPTIMIZERS:
        raise ParameterError(MSG_OPTIMIZER.format(name=config.optimizer, choices=", ".join(OPTIMIZERS)))
    if config.schedule not in SCHEDULES:
        raise ParameterError(MSG_SCHEDULE.format(name=config.schedule, choices=", ".join(SCHEDULES)))
    low, high = IMAGE_SIZES
    if config.image_size is not None and not low <= config.image_size <= high:
        raise ParameterError(MSG_IMAGE_SIZE.format(low=low, high=high, size=config.image_size))
    check_seed(config.seed)
    if config.output is not None and not str(config.output).strip():
        check_output("")  # an empty --output: refused in words, not taken as "the default folder"
    out = check_output(config.output_path(), inputs=[("a dataset", d) for d in config.datasets],
                       suffix=".safetensors")
    _writable(out)


class _Task:
    """One dataset: its pool and its images split into training and held-out (class, index) pairs."""

    def __init__(self, path: str, pool: ClassPool, val_fraction: float, generator: torch.Generator):
        self.path, self.pool = path, pool
        counts = [pool.count(c) for c in range(len(pool))]
        if sum(n > 0 for n in counts) < 2:
            raise DatasetError(MSG_ONE_CLASS.format(path=path, n=sum(n > 0 for n in counts)))
        train, val = [], []
        for c, n in enumerate(counts):
            order = torch.randperm(n, generator=generator).tolist()
            k = min(n - 1, round(n * val_fraction)) if val_fraction > 0 and n > 1 else 0
            val += [(c, i) for i in order[:k]]
            train += [(c, i) for i in order[k:]]
        self.train = torch.tensor(train, dtype=torch.long).view(-1, 2)
        self.val = torch.tensor(val, dtype=torch.long).view(-1, 2)

    @property
    def classes(self) -> int:
        return len(self.pool)

    def images(self, pairs: torch.Tensor) -> torch.Tensor:
        """uint8 base images (len(pairs), 3, R, R) of (class, index) ``pairs``, in their order."""
        out = [torch.empty(0)] * len(pairs)
        for c in pairs[:, 0].unique().tolist():
            where = (pairs[:, 0] == c).nonzero().squeeze(1)
            for j, img in zip(where.tolist(), self.pool.images(c, pairs[where, 1])):
                out[j] = img
        return torch.stack(out)


class MultiTaskRun(Run[Path]):
    """Train ``config``'s backbone on all its datasets. Iterate for events; ``result`` is the best checkpoint."""

    def __init__(self, config: MultiTaskConfig):
        super().__init__()
        config = replace(config, datasets=[str(d) for d in config.datasets])
        check_config(config)
        self.config = config
        self.spec = get_backbone(config.backbone)
        self.preprocess = self.spec.preprocess.at_size(config.image_size)
        self.device = resolve_device(config.device)
        self.best: float | None = None
        self.history: list[dict] = []
        self.tasks: list[_Task] = []

    def _events(self):
        return guard_out_of_memory(self._train(), self.device, MSG_OOM)

    def _load(self, generator: torch.Generator):
        c = self.config
        for i, path in enumerate(c.datasets):
            yield Stage("loading datasets", i, len(c.datasets))
            self.tasks.append(_Task(path, open_pool(path, self.preprocess), c.val_fraction, generator))
            self._raise_if_cancelled(0, c.steps)

    def _batch(self, generator: torch.Generator) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(model input of every dataset's images, stacked; each dataset's labels)."""
        c = self.config
        xs, ys = [], []
        for task in self.tasks:
            pairs = task.train[torch.randperm(len(task.train), generator=generator)[:c.batch_size]]
            base = task.images(pairs)
            xs.append(self.preprocess.augment(base, generator) if c.augment else self.preprocess.view(base))
            ys.append(pairs[:, 0].to(self.device))
        return torch.cat(xs).to(self.device), ys

    @torch.no_grad()
    def _validate(self, backbone: nn.Module, heads: nn.ModuleList) -> dict[str, float]:
        backbone.eval()
        heads.eval()
        accuracies = {}
        for task, head in zip(self.tasks, heads):
            if not len(task.val):
                continue
            right = 0
            for start in range(0, len(task.val), 256):
                pairs = task.val[start:start + 256]
                x = self.preprocess.view(task.images(pairs)).to(self.device)
                right += (head(backbone(x)).argmax(-1).cpu() == pairs[:, 0]).sum().item()
            accuracies[task.path] = right / len(task.val)
        backbone.train()
        heads.train()
        return accuracies

    def _save(self, backbone: nn.Module, heads: nn.ModuleList, step: int) -> None:
        c = self.config
        spec = self.spec
        meta = {"backbone": spec.name if spec.family != "checkpoint" else spec.base.name,
                "preprocess": self.preprocess.to_dict(), "method": EVAL_METHOD, "training": MULTI_TASK,
                "heads": [{"dataset": t.path, "classes": list(t.pool.names)} for t in self.tasks],
                "config": asdict(c), "step": step, "history": self.history,
                "best": self.history[-1] if self.best is not None else None}
        save_checkpoint(c.output_path(), backbone=copy.deepcopy(backbone).eval(), nets=heads, feature_shape=None,
                        meta=meta, inputs=[("a dataset", d) for d in c.datasets])

    def _train(self):
        c = self.config
        started = time.perf_counter()
        label = device_label(self.device)
        torch.manual_seed(c.seed)
        generator = torch.Generator().manual_seed(c.seed)
        yield from self._load(generator)
        yield Stage("building backbone", 0, 1)
        backbone = self.spec.build(c.weights).to(self.device)
        with torch.no_grad():
            probe = self.preprocess.view(self.tasks[0].images(self.tasks[0].train[:1])).to(self.device)
            dim = backbone.eval()(probe).shape[-1]
        heads = nn.ModuleList(nn.Linear(dim, t.classes) for t in self.tasks).to(self.device)
        params = [p for p in [*backbone.parameters(), *heads.parameters()] if p.requires_grad]
        optimizer = OPTIMIZERS[c.optimizer](params, lr=c.lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, c.steps) if c.schedule == "cosine" else None
        validate = c.val_every > 0 and any(len(t.val) for t in self.tasks)
        backbone.train()
        heads.train()
        for step in range(c.steps):
            lr = optimizer.param_groups[0]["lr"]
            x, ys = self._batch(generator)
            features = backbone(x).split([len(y) for y in ys])
            logits = [head(f) for head, f in zip(heads, features)]
            loss = sum(F.cross_entropy(z, y) for z, y in zip(logits, ys))
            if not torch.isfinite(loss):
                raise DivergedError(MSG_DIVERGED.format(loss=loss.item(), step=step + 1, lr=c.lr))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            right = sum((z.argmax(-1) == y).sum().item() for z, y in zip(logits, ys))
            done = step + 1
            yield Progress(done, c.steps, loss.item(), right / sum(len(y) for y in ys), lr,
                           time.perf_counter() - started, label)
            if validate and (done % c.val_every == 0 or done == c.steps):
                accuracies = self._validate(backbone, heads)
                mean = sum(accuracies.values()) / len(accuracies)
                better = self.best is None or mean > self.best
                self.history.append({"step": done, "mean": mean, "accuracies": accuracies})
                if better:
                    self.best = mean
                    self._save(backbone, heads, done)
                yield MultiTaskValidation(done, accuracies, mean, better)
            elif not validate and done == c.steps:
                self._save(backbone, heads, done)
            if self._cancel.is_set():
                if not validate:  # stopped early: what was learnt so far is still a backbone
                    self._save(backbone, heads, done)
                raise RunCancelled(done, c.steps)
        self.result = c.output_path()
