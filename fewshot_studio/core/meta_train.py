"""Episodic meta-training: many small tasks from a base dataset, periodic validation, checkpoints.

:class:`MetaTrainRun` is a :class:`.runs.Run` like :class:`.engine.AdaptRun`: :class:`.runs.Stage`,
:class:`.runs.Progress` per meta-step, and :class:`Validation` every ``val_every`` steps (mean accuracy on
held-out classes with a 95% confidence interval). The best checkpoint is kept at ``output``, the latest at
``<output stem>.last.safetensors`` for resuming. The outer learning rate follows ``lr_schedule``
(:mod:`.schedules`), and the method hears of each meta-step (:meth:`.algorithms.MetaLearner.on_meta_step`).
Under ``torchrun`` the same run uses DistributedDataParallel: each process takes its share of the meta-batch,
gradients are all-reduced.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .algorithms import MetaLearner, get_method
from .algorithms.episodic import EpisodicMethod
from .backbones import get_backbone
from .checkpoints import Checkpoint, checkpoints_dir, save_checkpoint
from .devices import MSG_OOM_META, device_label, guard_out_of_memory, resolve_device
from .domains import MSG_NO_DATASET, check_weighting, mean_over_domains, open_domains
from .episodes import EpisodeSampler
from .errors import DivergedError, ParameterError, RunCancelled
from .evaluation import EvalResult, evaluate_episodes
from .meta_step import meta_backward
from .params import check_seed
from .preprocess import Preprocess
from .runs import Progress, Run, Stage
from .safe_write import check_output
from .schedules import LR_SCHEDULES, scheduled_lr


OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


@dataclass
class MetaTrainConfig:
    """Everything a meta-training run depends on (saved in its checkpoints).

    ``datasets``: one or more base datasets (domains); each episode is drawn from one of them, chosen by
    ``dataset_weight`` (see :mod:`.domains`)."""

    datasets: list[str]
    dataset_weight: str = "uniform"  # uniform, or proportional to each domain's number of training classes
    method: str = "prototypical"
    params: dict = field(default_factory=dict)
    backbone: str = "conv4"
    weights: str = "pretrained"
    image_size: int | None = None  # model input side; default: the backbone's (28 is Omniglot's usual)
    ways: int = 5
    shots: int = 1
    queries: int = 15
    meta_batch: int = 4
    steps: int = 1000
    lr: float = 1e-3
    optimizer: str = "adam"  # the outer (meta) optimiser: adam or sgd
    lr_schedule: str = "constant"  # the outer learning rate over the steps: constant, or cosine (to ~0 at the end)
    val_every: int = 100
    val_episodes: int = 100
    val_fraction: float = 0.2  # held-out share of the classes' groups (Omniglot: alphabets)
    val_dataset: str | None = None
    val_ways: int | None = None
    val_shots: int | None = None
    rotations: bool = False
    augment: bool = False
    seed: int = 0
    device: str = "auto"
    output: str | None = None
    preset: str | None = None  # the recipe these values came from (core/presets.py), for the record

    def __post_init__(self):
        one = isinstance(self.datasets, (str, os.PathLike))
        self.datasets = [str(d) for d in ([self.datasets] if one else self.datasets)]

    @classmethod
    def from_dict(cls, saved: dict) -> MetaTrainConfig:
        """The config saved in a checkpoint, including those from before several domains (``dataset: str``)."""
        saved = dict(saved)
        if "dataset" in saved:
            saved["datasets"] = [saved.pop("dataset")]
        return cls(**saved)

    def output_path(self) -> Path:
        if self.output:
            return Path(self.output)
        stem = f"{self.method}-{Path(self.backbone).stem}-{'+'.join(Path(d).stem for d in self.datasets)}"
        return checkpoints_dir() / f"{stem}.safetensors"


@dataclass(frozen=True)
class Validation:
    step: int
    result: EvalResult  # the mean over the validated domains (the best checkpoint is chosen on it)
    best: bool  # this is the best so far (the checkpoint at ``output`` was updated)
    per_domain: dict[str, EvalResult] = field(default_factory=dict)  # domain name -> its own held-out result


def _plain_results(per_domain: dict[str, EvalResult]) -> dict[str, dict]:
    """Per-domain results as saved in a checkpoint's history and best."""
    return {name: {"mean": r.mean, "ci95": r.ci95} for name, r in per_domain.items()}


class MetaObjective(nn.Module):
    """The meta-batch loss as a module, so DistributedDataParallel can wrap it."""

    def __init__(self, method: MetaLearner, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.nets = method.meta_modules()
        self.method = [method]  # a list keeps it out of the module tree

    def forward(self, xs, ys, xq, yq, ways: int):
        return self.method[0].meta_objective(self.backbone, xs, ys, xq, yq, ways)


MSG_STEPS = "--steps must be at least 1 (it is {steps}): with no step, there is nothing to save"
MSG_STEPS_RESUMED = ("{resume} is at step {step} already; give --steps larger than {step} to train further "
                     "(--steps is the total, counting the steps done)")
MSG_IMAGE_SIZE = "--image-size must be from {low} to {high} pixels (Omniglot: 28), not {size}"
IMAGE_SIZES = (16, 1024)


def check_config(config: MetaTrainConfig, resume: Checkpoint | None = None) -> None:
    """Refuse, before anything runs, a configuration that would train nothing, or save over its own inputs."""
    if config.steps < 1:
        raise ParameterError(MSG_STEPS.format(steps=config.steps))
    if resume is not None and config.steps <= int(resume.meta.get("step", 0)):
        raise ParameterError(MSG_STEPS_RESUMED.format(resume=resume.path, step=int(resume.meta.get("step", 0))))
    low, high = IMAGE_SIZES
    if config.image_size is not None and not low <= config.image_size <= high:
        raise ParameterError(MSG_IMAGE_SIZE.format(low=low, high=high, size=config.image_size))
    check_seed(config.seed)
    if config.output is not None and not str(config.output).strip():
        check_output("")  # an empty --output: refused in words, not taken as "the default folder"
    if not config.datasets:
        raise ParameterError(MSG_NO_DATASET)
    check_weighting(config.dataset_weight)
    LR_SCHEDULES.get(config.lr_schedule)  # an unknown schedule is refused, listing the schedules
    inputs = [*(("the dataset", d) for d in config.datasets), ("the validation dataset", config.val_dataset)]
    out = check_output(config.output_path(), inputs=inputs, suffix=".safetensors")
    check_output(out.with_name(out.stem + ".last.safetensors"), inputs=inputs)


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), dist.get_world_size()) if world > 1 else (0, 1)


class MetaTrainRun(Run[Path]):
    """Meta-train ``config``. Iterate for events; ``result`` is the best checkpoint's path at the end."""

    def __init__(self, config: MetaTrainConfig, *, resume: str | os.PathLike | None = None):
        super().__init__()
        self.resume = Checkpoint(resume) if resume else None
        if self.resume is not None:
            saved = dict(self.resume.meta["config"])
            saved.update({k: v for k, v in asdict(config).items() if k in ("steps", "device", "output")
                          and v is not None})
            config = MetaTrainConfig.from_dict(saved)
        self.config = config
        if config.ways < 2 or config.shots < 1 or config.queries < 1 or config.meta_batch < 1:
            raise ParameterError("meta-training needs --ways >= 2, --shots >= 1, --queries >= 1, --meta-batch >= 1")
        check_config(config, self.resume)
        self.method = get_method(config.method)(**config.params)
        if not isinstance(self.method, MetaLearner):
            raise ParameterError(f"{config.method} cannot be meta-trained; choose one of the episodic methods "
                                 "(prototypical, pmf, maml, fomaml, anil, reptile, matching, relation, cnp)")
        self.spec = get_backbone(config.backbone)
        base = self.spec.preprocess
        size = config.image_size or base.input_size
        same = config.image_size is None
        self.preprocess = base if same else Preprocess(size, size if size <= 32 else round(size * 8 / 7),
                                                       base.mean, base.std)
        self.device = resolve_device(config.device)
        self.rank, self.world = _distributed()
        if config.meta_batch % self.world:
            raise ParameterError(f"--meta-batch {config.meta_batch} must be a multiple of the {self.world} processes")
        self.best: EvalResult | None = None
        self.best_per_domain: dict[str, EvalResult] = {}
        self.history: list[dict] = []

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def _batch(self, sampler: EpisodeSampler, step: int, generator: torch.Generator):
        """This process's share of meta-batch ``step``: (xs, ys, xq, yq) stacked over its episodes, and the view
        that makes a chunk of xs or xq model inputs (None where xs and xq are model inputs already)."""
        c = self.config
        first = step * c.meta_batch
        mine = [first + i for i in range(self.rank, c.meta_batch, self.world)]
        episodes = [sampler.episode(i) for i in mine]
        ys = torch.stack([e.support_labels for e in episodes]).to(self.device)
        yq = torch.stack([e.query_labels for e in episodes]).to(self.device)
        if c.augment:  # augmenting draws from a CPU generator, the whole batch in order: model inputs now
            def inputs(images):  # uint8 (B, n, 3, R, R) -> model inputs (B, n, 3, S, S), one augment call
                base = torch.stack(images)
                return self.preprocess.augment(base.flatten(0, 1), generator).unflatten(0, base.shape[:2]) \
                    .to(self.device)

            return inputs([e.support for e in episodes]), ys, inputs([e.query for e in episodes]), yq, None
        # uint8 on the device; each chunk becomes float inputs when meta_backward runs it
        xs = torch.stack([e.support for e in episodes]).to(self.device)
        xq = torch.stack([e.query for e in episodes]).to(self.device)
        return xs, ys, xq, yq, self._view

    def _view(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, n, 3, R, R) -> model inputs (B, n, 3, S, S)."""
        return self.preprocess.view(images.flatten(0, 1)).unflatten(0, images.shape[:2])

    def _predict(self, backbone):
        method, pre, device = self.method, self.preprocess, self.device

        def predict(ep):
            xs, xq = pre.view(ep.support).to(device), pre.view(ep.query).to(device)
            return method.episode_predict(backbone, xs, ep.support_labels.to(device), xq, ep.ways)

        return predict

    def _save(self, path: Path, objective: MetaObjective, optimizer, step: int, calibration) -> None:
        backbone = copy.deepcopy(objective.backbone)
        backbone = self.method.finish_backbone(backbone, calibration)
        meta = {"backbone": self.spec.name if self.spec.family != "checkpoint" else self.spec.base.name,
                "preprocess": self.preprocess.to_dict(),
                "method": {"name": self.method.name, "params": self.method.params_dict()},
                "config": asdict(self.config), "step": step, "history": self.history,
                "best": None if self.best is None else {"mean": self.best.mean, "ci95": self.best.ci95,
                                                        "per_domain": _plain_results(self.best_per_domain)}}
        save_checkpoint(path, backbone=backbone, nets=objective.nets,
                        feature_shape=self.method.feature_shape, meta=meta, optimizer=optimizer, inputs=self._inputs())

    def _inputs(self) -> list[tuple[str, str]]:
        """What this run reads, never to be saved over."""
        c = self.config
        return [*(("the dataset", d) for d in c.datasets), ("the validation dataset", c.val_dataset)]

    def _validate(self, backbone, val_samplers: dict[str, EpisodeSampler]):
        """(mean over domains, {domain: result}) on each domain's validation episodes."""
        per_domain = {name: evaluate_episodes(self._predict(backbone), s, self.config.val_episodes)
                      for name, s in val_samplers.items()}
        return mean_over_domains(per_domain), per_domain

    def _resume_best(self) -> None:
        c, best = self.config, self.resume.meta.get("best")
        self.best = EvalResult(best["mean"], best["ci95"], c.val_episodes, c.ways, c.shots) if best else None
        self.best_per_domain = {name: EvalResult(r["mean"], r["ci95"], c.val_episodes, c.ways, c.shots)
                                for name, r in (best or {}).get("per_domain", {}).items()}

    def _events(self):
        return guard_out_of_memory(self._meta_train(), self.device, MSG_OOM_META)

    def _meta_train(self):
        c = self.config
        start_time = time.perf_counter()
        label = device_label(self.device)
        torch.manual_seed(c.seed)
        yield Stage("loading dataset", 0, 1)
        sampler, val_samplers = open_domains(c, self.preprocess)
        val_sampler = val_samplers or None  # {domain: sampler}, or None: no validation
        yield Stage("building backbone", 0, 1)
        backbone = self.spec.build("random" if self.resume else c.weights).to(self.device)
        if self.resume is not None:
            backbone.load_state_dict(self.resume.part("backbone."))
        backbone = self.method.prepare_backbone(backbone)
        if self.device.type == "cpu" and not self.method.use_vmap(self.device):
            backbone.use_channels_last()  # faster convolutions and pooling on CPUs (builtin.conv_block)
        if isinstance(self.method, EpisodicMethod):
            with torch.no_grad():
                probe = self.method.features_of(backbone.eval(), self.preprocess.view(
                    sampler.samplers[sampler.names[0]].pool.images(0, torch.arange(1))).to(self.device))
            self.method.ensure_nets(tuple(probe.shape[1:]), self.device)
        if self.resume is not None:  # the method's own modules (episodic nets, MAML++'s inner learning rates)
            self.method.load_meta_state(self.resume.method_state())
            self.method.meta_modules().to(self.device)
        objective = MetaObjective(self.method, backbone).to(self.device)
        model = objective
        if self.world > 1:
            model = nn.parallel.DistributedDataParallel(
                objective, find_unused_parameters=self.spec.family in ("torchvision", "checkpoint"))
        params = [p for p in objective.parameters() if p.requires_grad]
        if c.optimizer not in OPTIMIZERS:
            raise ParameterError(f"unknown optimizer {c.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
        optimizer = OPTIMIZERS[c.optimizer](params, lr=c.lr)
        start = 0
        if self.resume is not None:
            optimizer.load_state_dict(self.resume.optimizer_state())
            start = int(self.resume.meta["step"])
            self.history = list(self.resume.meta.get("history", []))
            self._resume_best()
        generator = torch.Generator().manual_seed(c.seed + self.rank)
        out = c.output_path()
        last = out.with_name(out.stem + ".last.safetensors")
        calibration = None
        for step in range(start, c.steps):
            objective.train()
            xs, ys, xq, yq, view = self._batch(sampler, step, generator)
            calibration = [x.clone() for x in (xs[:2] if view is None else view(xs[:2]))]  # not a view of xs
            lr = scheduled_lr(c.lr_schedule, c.lr, step, c.steps)  # from the step alone: a resumed run follows
            for group in optimizer.param_groups:
                group["lr"] = lr
            self.method.on_meta_step(step, c.steps)
            optimizer.zero_grad(set_to_none=True)
            report, acc = meta_backward(model, self.method.meta_chunk(self.device), xs, ys, xq, yq, c.ways, view)
            if not math.isfinite(report):
                raise DivergedError(f"the meta-training loss became {report} at step {step + 1}; "
                                    f"lower --lr (it was {c.lr:g}) or the method's inner learning rate")
            del xs, ys, xq, yq  # before the next batch is built, not after
            optimizer.step()
            yield Progress(step + 1, c.steps, report, acc, lr, time.perf_counter() - start_time, label)
            done = step + 1
            if val_sampler is not None and (done % c.val_every == 0 or done == c.steps):
                objective.eval()
                result, per_domain = self._validate(objective.backbone, val_sampler)
                better = self.best is None or result.mean > self.best.mean
                if better:
                    self.best, self.best_per_domain = result, per_domain
                self.history.append({"step": done, "mean": result.mean, "ci95": result.ci95,
                                     "per_domain": _plain_results(per_domain)})
                if self.is_main:
                    if better:
                        self._save(out, objective, optimizer, done, calibration)
                    self._save(last, objective, optimizer, done, calibration)
                yield Validation(done, result, better, per_domain)
            elif self.is_main and done == c.steps:
                self._save(last, objective, optimizer, done, calibration)
                if self.best is None:
                    self._save(out, objective, optimizer, done, calibration)
            if self._cancel.is_set():
                if self.is_main:
                    self._save(last, objective, optimizer, done, calibration)
                raise RunCancelled(done, c.steps)
        self.result = out

