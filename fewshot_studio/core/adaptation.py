"""Domain adaptation: stages that use the support set's unlabelled target images, between "backbone built" and
"method fit".

The one way to adapt to a domain gap: ``AdaptRun(..., domain_adaptation=["adabn", "soft_kmeans"])`` (CLI:
``adapt --domain-adaptation adabn,soft_kmeans``), composable with any method that uses a pretrained backbone.
Each stage acts at one phase, and the phases run in this order whatever order the stages were given in:

- ``backbone`` (AdaBN, TENT): change the backbone, always a private copy (the cached pretrained one is never
  touched); the model file then includes its backbone;
- ``features`` (CORAL, pseudo-labels): change the support the method fits on: features aligned to the target,
  confidently pseudo-labelled target images added;
- ``refine`` (soft k-means): refine the fitted method's class prototypes over the pool.

A stage is a registered class with a ``Params`` dataclass of :func:`~.params.hparam` fields, like a method;
``name:key=value:key=value`` sets them from text. Every stage needs the unlabelled pool and refuses without one.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .algorithms import FewShotMethod, FitTask
from .algorithms.heads import prototype_logits, prototypes
from .errors import FewShotError
from .params import hparam, make_params, parse_assignments, validate
from .registry import Registry

PHASES = ("backbone", "features", "refine")

MSG_NO_POOL = ("domain adaptation ({names}) needs unlabelled images of the target domain; add some (the window's "
               "Unlabelled images tray, adapt --unlabelled DIR, or SupportSet.add_unlabelled_files) or leave domain "
               "adaptation out (untick it in the window, drop --domain-adaptation)")
MSG_NO_PROTOTYPES = ("soft_kmeans refines class prototypes and {method} has none; use it with a prototype method "
                     "(prototypical, pmf) or drop soft_kmeans")
MSG_FROZEN_ONLY = ("{stage} changes the support features and {method} re-embeds the images while training the "
                   "backbone; keep the backbone frozen (no fine-tuning) or drop {stage}")
MSG_NO_NORM = "{stage} adapts normalisation layers and the backbone {backbone} has none; drop {stage}"
MSG_TWICE = "domain adaptation {name!r} is given twice; give each stage once"


class AdaptationError(FewShotError):
    """A domain-adaptation stage that cannot run on this task; the message says what to do."""


@dataclass
class AdaptationContext:
    """What a stage works on. ``pool_images``: uint8 base tensors (M, 3, R, R) of the unlabelled images, on the
    task's device (loaded for the backbone phase); ``pool_features``: their pooled features (M, D) from the
    backbone as it is at that phase. ``task.features``/``labels``/``images`` are the support the method fits on."""

    task: FitTask
    method: FewShotMethod
    pool_images: torch.Tensor | None = None
    pool_features: torch.Tensor | None = None
    support_features: torch.Tensor | None = None  # set by the backbone phase: the support as its own domain sees it


class AdaptationStage(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    phase: ClassVar[str]
    Params: ClassVar[type]

    def __init__(self, params=None, **values):
        self.params = params if params is not None else make_params(self.Params, values)
        validate(self.params)

    def params_dict(self) -> dict:
        return asdict(self.params)

    def check(self, method: FewShotMethod) -> None:
        """Raise :class:`AdaptationError` when this stage cannot work with ``method``."""

    @abstractmethod
    def apply(self, ctx: AdaptationContext) -> None:
        """Adapt, in place: the backbone (``ctx.task.backbone``), the support or the fitted method."""


ADAPTATIONS: Registry = Registry("domain adaptation")


def register_adaptation(name: str):
    def decorate(cls):
        cls.name = name
        return ADAPTATIONS.add(name, cls)

    return decorate


def make_stages(spec: str | Sequence[str | AdaptationStage] | None) -> list[AdaptationStage]:
    """Stages from ``"adabn,tent:steps=5"`` or a list of names and stage objects, sorted by phase."""
    items = spec.split(",") if isinstance(spec, str) else list(spec or ())
    stages = []
    for item in items:
        if isinstance(item, str):
            name, *assignments = [part.strip() for part in item.strip().split(":")]
            if not name:
                continue
            item = ADAPTATIONS.get(name)(**parse_assignments(assignments))
        if item.name in {s.name for s in stages}:
            raise AdaptationError(MSG_TWICE.format(name=item.name))
        stages.append(item)
    return sorted(stages, key=lambda s: PHASES.index(s.phase))


def uses_pool(stages, method: FewShotMethod) -> bool:
    """Whether a model adapted with these stages (or their saved descriptions) and ``method`` depends on the
    unlabelled pool: editing the pool then puts the model out of date."""
    return bool(stages) or bool(getattr(method, "transductive", False))


def check_stages(stages: list[AdaptationStage], method: FewShotMethod, n_unlabelled: int) -> None:
    if stages and n_unlabelled == 0:
        raise AdaptationError(MSG_NO_POOL.format(names=", ".join(s.name for s in stages)))
    for stage in stages:
        stage.check(method)


# --- the backbone phase --------------------------------------------------------------------------------------
def _batches(n: int, size: int, device) -> list[torch.Tensor]:
    return list(torch.arange(n, device=device).split(size))


def _norm_layers(backbone: nn.Module, kinds=(nn.modules.batchnorm._BatchNorm,)) -> list[nn.Module]:
    return [m for m in backbone.modules() if isinstance(m, kinds)]


@torch.no_grad()
def reestimate_batch_norm(backbone: nn.Module, task: FitTask, images: torch.Tensor, stage: str,
                          prior: float = 0.0) -> None:
    """AdaBN: every batch-norm layer's running mean and variance recomputed on ``images`` (a cumulative average
    over batches), then blended with the pretrained ones: ``prior`` of the old statistics are kept (Schneider et
    al. 2020's remedy for small target sets); the rest of the network untouched; the backbone is left in eval
    mode."""
    layers = _norm_layers(backbone)
    if not layers:
        raise AdaptationError(MSG_NO_NORM.format(stage=stage, backbone=getattr(backbone, "name", "?")))
    saved = [(m, m.momentum) for m in layers]
    old = [(m.running_mean.clone(), m.running_var.clone()) for m in layers]
    backbone.eval()
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    try:
        for idx in _batches(images.shape[0], max(2, task.embed_batch), images.device):
            if len(idx) > 1 or images.shape[0] == 1:
                backbone(task.preprocess.view(images[idx]))
    finally:
        for m, momentum in saved:
            m.momentum = momentum
        backbone.eval()
    if prior > 0:
        for m, (mean, var) in zip(layers, old):
            m.running_mean.lerp_(mean, prior)
            m.running_var.lerp_(var, prior)


@dataclass
class AdaBNParams:
    source: str = hparam("support", "Batch-norm statistics the support images are embedded with: their own "
                         "(estimated on them), the pretrained ones, or the target's (labelled and unlabelled "
                         "images from one domain)", choices=("support", "pretrained", "target"))
    # 0.8: the most adaptation that never lost on Fashion-MNIST's training split (0, Li et al.'s AdaBN, lost 17
    # points there with Lite0: BENCHMARKS.md); the lower, the more the target's own statistics count
    prior: float = hparam(0.8, "Share of the pretrained batch-norm statistics kept in the re-estimated ones (0: "
                          "the target's alone, as in AdaBN; higher is safer with few target images)", low=0.0,
                          high=1.0)


@torch.no_grad()
def source_features(task: FitTask, stage: str, source: str, prior: float = 0.0) -> torch.Tensor:
    """The support's pooled features (N, D) before the backbone is adapted to the target: with batch-norm
    statistics estimated on the support images (``source="support"``, blended with the backbone's own by
    ``prior``) or the backbone's own (``"pretrained"``)."""
    if source == "pretrained" or task.images.shape[0] < 2:
        return task.embed_all()
    own = copy.copy(task)
    own.backbone = copy.deepcopy(task.backbone)
    reestimate_batch_norm(own.backbone, own, task.images, stage, prior)
    return own.embed_all()


class _BackboneStage(AdaptationStage):
    phase = "backbone"

    def keep_support(self, ctx, source: str = "support", prior: float = 0.0) -> None:
        """Embed the support now, before the backbone moves to the target ("target": after, like the queries)."""
        if source != "target" and ctx.support_features is None and not ctx.method.trains_backbone():
            ctx.support_features = source_features(ctx.task, self.name, source, prior)


@register_adaptation("adabn")
class AdaBN(_BackboneStage):
    title = "AdaBN"
    description = ("Batch-norm statistics re-estimated on the unlabelled target images; the support keeps its "
                   "own (Li et al. 2016)")
    Params = AdaBNParams

    def apply(self, ctx):
        p = self.params
        self.keep_support(ctx, p.source, p.prior)
        reestimate_batch_norm(ctx.task.backbone, ctx.task, ctx.pool_images, self.name, p.prior)


@dataclass
class TentParams(AdaBNParams):
    steps: int = hparam(5, "Entropy-minimisation steps", low=1, high=1000)
    lr: float = hparam(1e-3, "Adam learning rate of the normalisation layers' scales and shifts", low=1e-6,
                       high=1.0, log_scale=True)
    batch_size: int = hparam(16, "Unlabelled images per step", low=2, high=1024)
    scale: float = hparam(10.0, "Cosine temperature of the nearest-prototype predictions", low=0.1, high=100.0)


@register_adaptation("tent")
class Tent(_BackboneStage):
    title = "TENT"
    description = ("AdaBN, then the normalisation layers' scales and shifts trained to make the target images' "
                   "nearest-prototype predictions confident (entropy minimisation, Wang et al. 2021)")
    Params = TentParams

    def apply(self, ctx):
        p, task, images = self.params, ctx.task, ctx.pool_images
        backbone = task.backbone
        self.keep_support(ctx, p.source, p.prior)
        reestimate_batch_norm(backbone, task, images, self.name, p.prior)
        norms = _norm_layers(backbone, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm))
        affine = [q for m in norms for q in (m.weight, m.bias) if q is not None]
        grads = {q: q.requires_grad for q in backbone.parameters()}
        backbone.requires_grad_(False)
        for q in affine:
            q.requires_grad_(True)
        optimizer = torch.optim.Adam(affine, lr=p.lr)
        try:
            with torch.no_grad():  # the support's prototypes stay fixed: the target side moves to them
                support = ctx.support_features if ctx.support_features is not None else task.embed_all()
                protos = prototypes(support, task.labels, task.n_classes)
            for _ in range(p.steps):
                pick = torch.randperm(images.shape[0], generator=task.generator)[: p.batch_size].to(images.device)
                with torch.enable_grad():
                    probs = F.softmax(prototype_logits(task.embed(task.preprocess.view(images[pick])), protos,
                                                       "cosine", p.scale), dim=-1)
                    loss = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
        finally:
            for q, flag in grads.items():
                q.requires_grad_(flag)
        backbone.eval()


# --- the features phase --------------------------------------------------------------------------------------
def _sqrtm(cov: torch.Tensor, power: float) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(cov)
    return (vectors * values.clamp_min(1e-8).pow(power)) @ vectors.T


@dataclass
class CoralParams:
    mode: str = hparam("covariance", "Align the covariance (CORAL) or only each feature's mean and variance",
                       choices=("covariance", "moments"))
    shrinkage: float = hparam(1.0, "Added to the covariances' diagonals (CORAL's regulariser)", low=0.0, high=100.0)


class _SupportFeatureStage(AdaptationStage):
    phase = "features"

    def check(self, method):
        if method.trains_backbone() or method.feature_kind != "pooled":
            raise AdaptationError(MSG_FROZEN_ONLY.format(stage=self.name, method=method.name))


@register_adaptation("coral")
class Coral(_SupportFeatureStage):
    title = "CORAL"
    description = "Support features re-coloured to the target images' mean and covariance (Sun et al. 2016)"
    Params = CoralParams

    @torch.no_grad()
    def apply(self, ctx):
        s, t = ctx.task.features.float(), ctx.pool_features.float()
        mu_s, mu_t = s.mean(0), t.mean(0)
        if self.params.mode == "moments" or s.shape[0] < 2:
            sd_s = s.std(0, unbiased=False) + 1e-6 if s.shape[0] > 1 else torch.ones_like(mu_s)
            aligned = (s - mu_s) / sd_s * (t.std(0, unbiased=False) if t.shape[0] > 1 else 1.0) + mu_t
        else:
            eye = self.params.shrinkage * torch.eye(s.shape[1], device=s.device)
            cov_s = torch.cov(s.T, correction=0) + eye
            cov_t = (torch.cov(t.T, correction=0) if t.shape[0] > 1 else torch.zeros_like(eye)) + eye
            aligned = (s - mu_s) @ _sqrtm(cov_s, -0.5) @ _sqrtm(cov_t, 0.5) + mu_t
        ctx.task.features = aligned


@dataclass
class PseudoLabelParams:
    threshold: float = hparam(0.6, "Smallest probability for an unlabelled image to join the support with its "
                              "guessed class", low=0.0, high=1.0)
    scale: float = hparam(30.0, "Cosine temperature of the nearest-prototype guesses", low=0.1, high=1000.0)
    rounds: int = hparam(2, "Rounds of guessing (each with the prototypes the last round gave)", low=1, high=20)


@register_adaptation("pseudo_label")
class PseudoLabel(_SupportFeatureStage):
    title = "Pseudo-labels"
    description = "Unlabelled images the nearest-prototype classifier is confident about join the support set"
    Params = PseudoLabelParams

    @torch.no_grad()
    def apply(self, ctx):
        p, task, pool = self.params, ctx.task, ctx.pool_features.float()
        support, labels = task.features.float(), task.labels
        mean = torch.cat([support, pool]).mean(0)  # guesses in the task's centred space: the offset between domains
        support, pool = support - mean, pool - mean  # is common to every class
        chosen = torch.zeros(0, dtype=torch.long, device=pool.device)
        guesses = torch.zeros(0, dtype=torch.long, device=pool.device)
        for _ in range(p.rounds):
            protos = prototypes(torch.cat([support, pool[chosen]]), torch.cat([labels, guesses]), task.n_classes)
            probs = F.softmax(prototype_logits(pool, protos, "cosine", p.scale), dim=-1)
            confidence, guess = probs.max(-1)
            chosen = torch.nonzero(confidence >= p.threshold).flatten()
            guesses = guess[chosen]
        task.features = torch.cat([support, pool[chosen]]) + mean
        task.labels = torch.cat([labels, guesses])


# --- the refine phase ----------------------------------------------------------------------------------------
@dataclass
class SoftKMeansParams:
    steps: int = hparam(3, "Soft k-means refinements", low=1, high=100)
    # defaults chosen on Fashion-MNIST's training split (benchmarks/soft_kmeans_dev.py), never a loss there
    pool_weight: float = hparam(
        5.0, "The most the unlabelled images may weigh in a class's prototype, as a multiple of the class's "
        "labelled images (0: no limit, Ren et al.'s weighting: a large pool then outweighs the labelled examples)",
        low=0.0, high=1000.0)
    sharpness: float = hparam(2.0, "Multiplies the logits before the softmax that gives each unlabelled image's "
                              "class weights: higher gives harder assignments", low=0.1, high=100.0)


@register_adaptation("soft_kmeans")
class SoftKMeans(AdaptationStage):
    title = "Soft k-means prototypes"
    description = ("Class prototypes refined with the unlabelled images, each weighted by the classifier's "
                   "probabilities (semi-supervised prototypes, Ren et al. 2018)")
    phase = "refine"
    Params = SoftKMeansParams

    def check(self, method):
        if not hasattr(type(method), "class_prototypes"):
            raise AdaptationError(MSG_NO_PROTOTYPES.format(method=method.name))

    @torch.no_grad()
    def apply(self, ctx):
        method, task, pool = ctx.method, ctx.task, ctx.pool_features.float()
        p = self.params
        counts = torch.bincount(task.labels, minlength=task.n_classes).float()
        base = method.class_prototypes.float() * counts[:, None]  # sum of each class's support features
        for _ in range(p.steps):
            w = F.softmax(p.sharpness * method.logits(pool).float(), dim=-1)  # (M, C) soft assignments
            if p.pool_weight > 0:  # each class's pool mass at most pool_weight x its labelled images
                mass = w.sum(0)
                w = w * (p.pool_weight * counts / mass.clamp_min(1e-12)).clamp(max=1.0)
            method.class_prototypes = (base + w.T @ pool) / (counts + w.sum(0)).clamp_min(1e-12)[:, None]


def list_adaptations() -> list[type[AdaptationStage]]:
    return [cls for _, cls in ADAPTATIONS.items()]
