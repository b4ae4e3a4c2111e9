"""MAML (Finn et al. 2017), first-order MAML and ANIL (Raghu et al. 2020), with ``torch.func``.

The inner loop is functional: parameters are a dict, updated with ``torch.func.grad``, and the model is run
with ``torch.func.functional_call``; nothing is copied or mutated. A meta-batch is processed either by
``torch.func.vmap`` over its tasks or by a plain loop (the reference; faster on 2 CPU cores, see
KNOWN_TRAPS): ``batched="auto"`` picks vmap on GPUs and the loop on CPUs.

Choices, documented:
- Batch norm uses the statistics of the batch it sees, in the inner loop and on queries, as learn2learn
  and the original MAML do; it is computed from primitive ops (:mod:`.functional`) because vmap over
  ``nn.BatchNorm2d`` gives wrong second-order gradients. After adapting to a user's support set, the
  statistics of the support images are frozen into the model, so that a prediction for an image does not
  depend on which other images are classified with it.
- The classification head is not meta-learned, so one initialisation serves any number of classes and any
  order of labels. It starts each task at zero (``head_init="zero"``, as "unicorn-MAML", Ye & Chao 2022) or
  at the class prototypes of the support features (``"prototypes"``, Proto-MAML, Triantafillou et al. 2020:
  weights 2c_k, bias -|c_k|^2, i.e. a squared-Euclidean nearest-centroid classifier before the first step;
  gradients flow through it while meta-training). Measured on Omniglot (BENCHMARKS.md, head_init.py):
  prototypes lift ANIL everywhere (5-way 5-shot 77.5% -> 90.9%), so ANIL defaults to them; for MAML and
  first-order MAML, which adapt the whole network, they help 5-way 1-shot but collapse 20-way tasks
  (45% -> 22%), so those default to zero.
- On a pretrained backbone (``BackboneSpec.kind``) these meta-learning defaults destroy the features: batch
  norm from a few support images and SGD at 0.4 on the whole network. EfficientNet-Lite0, the demo's
  Fashion-MNIST images, one per class: first-order MAML 6/9 held-out right with 3 classes (6 answers "bag"),
  10/15 with 5. There the defaults are ``batch_norm="backbone"`` (the pretrained statistics), ``inner_lr``
  0.01 and 20 steps: 9/9 and 13/15, as Prototypical Networks (9/9, 13/15); 0.02 x 10 steps gave 10/15; the
  backbone's own statistics with SGD at 0.4 or 0.1 answered one class for every image (15/15 "dress").

MAML++ options (Antoniou et al. 2019, "How to train your MAML"), all off by default (today's MAML; saved models
and checkpoints read as before), on MAML, first-order MAML and ANIL:
- ``multi_step_loss`` (MSL): the query loss after every inner step, weighted, the weights moving from uniform to
  the last step alone over the first ``msl_anneal_steps`` meta-steps (:func:`.maml_plus.step_loss_weights`).
- ``learned_inner_lr`` (LSLR): an inner learning rate per adapted tensor and inner step, starting at
  ``inner_lr``, meta-learned with the initialisation; they are the method's meta-modules (checkpoint keys
  ``nets.inner_lr.*``) and whenever a method holds them (meta-trained, or from a checkpoint) they replace
  ``inner_lr``, also when adapting to a user's support set (steps past the learned ones use the last rate).
- ``first_order_steps`` (derivative-order annealing): first-order meta-gradients for the first N meta-steps,
  second order after (moot for first-order MAML).
The current meta-step comes from :meth:`on_meta_step`, which meta-training calls before each step (outside
meta-training the method stands at step 0). Left out: per-step batch-norm statistics and weights (BNRS/BNWB).
Batch norm here normalises with the statistics of the batch it sees and, for prediction, freezes the support
images' statistics; per-step running statistics would mean mutating buffers inside ``functional_call`` under
vmap, and per-step affine weights would take the batch-norm weights out of the inner loop (which adapts every
parameter, as MAML does) and would have to be folded back into one model after adapting.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from torch import nn

from ..params import hparam
from .base import FitTask, MetaLearner, StepReport
from .functional import calibrate, primitive_batch_norm, to_batch_stat_norm, to_standard_norm
from .heads import accuracy
from .maml_plus import RATES, build_rates, step_loss_weights, step_rates
from .registry import register_method

HEAD_W, HEAD_B = "head.weight", "head.bias"


# Adapting a whole pretrained network: the meta-learning defaults (SGD at 0.4, batch norm from the support
# images) turned EfficientNet-Lite0's features into one class for every image; these were measured instead
# (module docstring).
PRETRAINED_INNER_LR, PRETRAINED_ADAPT_STEPS = 0.01, 20
BATCH_NORM_HELP = ("Batch-norm statistics while adapting to your support set: the support images' (as "
                   "meta-training does) or the backbone's own (keeps a pretrained backbone's features intact)")


INNER_LR_HELP = "Inner-loop (adaptation) learning rate, plain SGD"
INNER_STEPS_HELP = "Inner-loop steps per task while meta-training"
ADAPT_STEPS_HELP = "Inner-loop steps when adapting to your support set or an evaluation task"
FIRST_ORDER_HELP = "Ignore second derivatives (first-order MAML): faster, less memory"
BATCHED_HELP = "Meta-batch by torch.func.vmap or a loop (auto: vmap on GPUs)"
MSL_HELP = ("MAML++ multi-step loss: the query loss after every inner step, annealed to the last step's over "
            "msl_anneal_steps meta-steps")
MSL_ANNEAL_HELP = "Meta-steps over which the multi-step loss moves to the last inner step's loss alone"
LSLR_HELP = ("MAML++: meta-learn an inner learning rate per layer and inner step (starting at inner_lr; saved in "
             "the checkpoint)")
FIRST_ORDER_STEPS_HELP = "MAML++ derivative-order annealing: first order for the first N meta-steps (0: never)"


@dataclass
class MAMLParams:
    inner_lr: float = hparam(0.4, INNER_LR_HELP, low=1e-6, high=10.0, log_scale=True, pretrained=PRETRAINED_INNER_LR)
    inner_steps: int = hparam(2, INNER_STEPS_HELP, low=1, high=100)
    adapt_steps: int = hparam(5, ADAPT_STEPS_HELP, low=1, high=1000, pretrained=PRETRAINED_ADAPT_STEPS)
    first_order: bool = hparam(False, FIRST_ORDER_HELP)
    head_init: str = hparam("zero", "How each task's classification head starts: at zero, or at the class "
                            "prototypes of the support features (Proto-MAML)", choices=("zero", "prototypes"))
    batched: str = hparam("auto", BATCHED_HELP, choices=("auto", "vmap", "loop"))
    batch_norm: str = hparam("support", BATCH_NORM_HELP, choices=("support", "backbone"), pretrained="backbone")
    multi_step_loss: bool = hparam(False, MSL_HELP)
    msl_anneal_steps: int = hparam(100, MSL_ANNEAL_HELP, low=0, high=10**7)
    learned_inner_lr: bool = hparam(False, LSLR_HELP)
    first_order_steps: int = hparam(0, FIRST_ORDER_STEPS_HELP, low=0, high=10**7)


class MAMLFamily(MetaLearner):
    """Shared by MAML, first-order MAML and ANIL; ``head_only`` selects ANIL's inner loop. Reptile derives from
    it without the MAML++ options (they are read with their off values where a Params lacks them)."""

    Params = MAMLParams
    head_only = False
    steps_param = "adapt_steps"

    def __init__(self, params=None, **values):
        super().__init__(params, **values)
        self.head: dict[str, torch.Tensor] | None = None
        self.nets = nn.ModuleDict()  # meta-learned besides the backbone: MAML++'s inner learning rates, if any
        self.meta_step = 0  # meta-steps done, from on_meta_step (MAML++'s annealing)

    # --- MAML++ (module docstring) ---------------------------------------------------------------------------
    def _option(self, name: str, off):
        return getattr(self.params, name, off)

    def meta_modules(self) -> nn.ModuleDict:
        return self.nets

    def on_meta_step(self, step: int, total: int) -> None:
        self.meta_step = step

    def first_order_now(self) -> bool:
        """First-order meta-gradients at this meta-step (``first_order``, or derivative-order annealing)."""
        return bool(self._option("first_order", False)) or self.meta_step < self._option("first_order_steps", 0)

    def step_weights(self) -> list[float]:
        """Weights of the query losses after each inner step while meta-training (MAML: the last step only)."""
        steps = self.params.inner_steps
        if not self._option("multi_step_loss", False):
            return [0.0] * (steps - 1) + [1.0]
        return step_loss_weights(steps, self.meta_step, self.params.msl_anneal_steps)

    def ensure_rates(self, backbone) -> None:
        """Build the learned inner learning rates (LSLR) for ``backbone``'s parameters and the head, if asked for
        and not there yet (a checkpoint's come with :meth:`load_meta_state`)."""
        if not self._option("learned_inner_lr", False) or RATES in self.nets:
            return
        names = [] if self.head_only else [n for n, _ in backbone.named_parameters()]
        like = next(backbone.parameters())
        self.nets[RATES] = build_rates([*names, HEAD_W, HEAD_B], self.params.inner_steps, self.params.inner_lr, like)

    def load_meta_state(self, state: dict[str, torch.Tensor]) -> None:
        """Take a checkpoint's learned inner learning rates (keys ``nets.inner_lr.*``), if it has them."""
        prefix = f"nets.{RATES}."
        rates = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if rates:
            self.nets[RATES] = nn.ParameterDict({k: nn.Parameter(v.detach().clone()) for k, v in rates.items()})

    def rates(self, names, step: int):
        """Inner learning rate(s) of inner step ``step``: ``inner_lr``, or {name: learned rate} (0-d tensors)."""
        if RATES not in self.nets:
            return self.params.inner_lr
        return step_rates(self.nets[RATES], names, step, self.params.inner_lr)

    def fixed_rates(self, names, step: int) -> tuple[dict[str, float], float]:
        """({name: rate as a float}, their mean) for adapting without meta-gradients."""
        rates = self.rates(names, step)
        if not isinstance(rates, dict):
            return {n: rates for n in names}, rates
        plain = {n: r if isinstance(r, float) else r.item() for n, r in rates.items()}
        return plain, sum(plain.values()) / len(plain)

    # --- functional core ---------------------------------------------------------------------------------
    @staticmethod
    def _logits(backbone, params, buffers, head, x):
        features = functional_call(backbone, (params, buffers), (x,))
        return features @ head[HEAD_W].T + head[HEAD_B]

    def adapt(self, backbone, params, buffers, xs, ys, ways: int, steps: int, first_order: bool, dim: int):
        """The inner loop: returns (fast backbone params, head) after ``steps`` SGD steps on (xs, ys).

        xs: (n, 3, S, S) support inputs, ys: (n,) labels; ``dim`` is the backbone's feature length.
        """
        for fast, head in self.inner_loop(backbone, params, buffers, xs, ys, ways, steps, first_order, dim):
            pass
        return fast, head

    def inner_loop(self, backbone, params, buffers, xs, ys, ways: int, steps: int, first_order: bool, dim: int):
        """Yields (fast backbone params, head) after each of ``steps`` SGD steps on (xs, ys) (as :meth:`adapt`)."""
        if self.head_only:
            features = functional_call(backbone, (params, buffers), (xs,))
            head = init_head(features, ys, ways, self.params.head_init)

            inner_features = features.detach() if first_order else features

            def head_loss(h):
                return F.cross_entropy(inner_features @ h[HEAD_W].T + h[HEAD_B], ys)

            for i in range(steps):
                head = sgd_step(head, head_loss, self.rates(head, i), first_order)
                yield params, head
            return
        if self.params.head_init == "zero":
            head = {HEAD_W: xs.new_zeros(ways, dim), HEAD_B: xs.new_zeros(ways)}
        else:
            head = init_head(functional_call(backbone, (params, buffers), (xs,)), ys, ways, self.params.head_init)
        fast = {**params, **head}

        def loss(f):
            return F.cross_entropy(self._logits(backbone, {k: f[k] for k in params}, buffers,
                                                {HEAD_W: f[HEAD_W], HEAD_B: f[HEAD_B]}, xs), ys)

        for i in range(steps):
            fast = sgd_step(fast, loss, self.rates(fast, i), first_order)
            yield {k: fast[k] for k in params}, {HEAD_W: fast[HEAD_W], HEAD_B: fast[HEAD_B]}

    def task_loss(self, backbone, params, buffers, xs, ys, xq, yq, ways: int, dim: int):
        """Query loss after adapting on the support set (with the multi-step loss: the weighted query losses after
        each inner step), and the accuracy after the last step (tensors)."""
        loss = None
        steps = self.inner_loop(backbone, params, buffers, xs, ys, ways, self.params.inner_steps,
                                self.first_order_now(), dim)
        for weight, (fast, head) in zip(self.step_weights(), steps):
            if weight == 0:
                continue
            logits = self._logits(backbone, fast, buffers, head, xq)
            term = weight * F.cross_entropy(logits, yq) if weight != 1 else F.cross_entropy(logits, yq)
            loss = term if loss is None else loss + term
        return loss, (logits.argmax(-1) == yq).float().mean()

    def use_vmap(self, device) -> bool:
        mode = self.params.batched
        return mode == "vmap" or (mode == "auto" and torch.device(device).type == "cuda")

    def meta_chunk(self, device) -> int:
        """The whole meta-batch where tasks are vmapped (GPUs), one task at a time in the loop."""
        return 1 << 30 if self.use_vmap(device) else 1

    def meta_objective(self, backbone, xs, ys, xq, yq, ways: int):
        params = dict(backbone.named_parameters())
        buffers = dict(backbone.named_buffers())
        dim = feature_dim(backbone, xs[0])
        if self.use_vmap(xs.device):
            with primitive_batch_norm():
                losses, accs = vmap(lambda a, b, c, d: self.task_loss(backbone, params, buffers, a, b, c, d, ways,
                                                                      dim))(xs, ys, xq, yq)
        else:
            pairs = [self.task_loss(backbone, params, buffers, xs[i], ys[i], xq[i], yq[i], ways, dim)
                     for i in range(xs.shape[0])]
            losses, accs = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
        loss = losses.mean()
        return loss, loss.detach(), accs.mean()

    def prepare_backbone(self, backbone):
        """Meta-training and adaptation run batch norm from batch statistics (see the module docstring); with
        ``learned_inner_lr``, the rates are built here, for the backbone's parameters."""
        backbone = to_batch_stat_norm(backbone)
        self.ensure_rates(backbone)
        return backbone

    def finish_backbone(self, backbone, calibration_batches):
        calibrate(backbone, calibration_batches)
        return to_standard_norm(backbone)

    def episode_predict(self, backbone, xs, ys, xq, ways: int) -> torch.Tensor:
        """Evaluation: adapt with ``adapt_steps``, then classify the queries with batch-norm statistics
        frozen from the support set, as after adapting to a user's support set (not transductive)."""
        params = {k: v.detach() for k, v in backbone.named_parameters()}
        buffers = dict(backbone.named_buffers())
        with torch.enable_grad():
            fast, head = self.adapt(backbone, params, buffers, xs, ys, ways, self.params.adapt_steps, True,
                                    feature_dim(backbone, xs))
        model = copy.deepcopy(backbone)
        with torch.no_grad():
            for name, value in model.named_parameters():
                value.copy_(fast[name])
            calibrate(model, [xs])
            return (model(xq) @ head[HEAD_W].T + head[HEAD_B]).argmax(-1)

    # --- adapting to a user's support set ------------------------------------------------------------------
    def trains_backbone(self) -> bool:
        return not self.head_only

    def total_steps(self) -> int:
        return self.params.adapt_steps

    def fit(self, task: FitTask):
        p = self.params
        self.n_classes = task.n_classes
        xs = task.views()
        if self.head_only:
            features = task.features if task.features is not None else task.embed_all()
            head = init_head(features, task.labels, task.n_classes, p.head_init)
            for i in range(p.adapt_steps):
                with torch.enable_grad():
                    h = {k: v.detach().requires_grad_(True) for k, v in head.items()}
                    logits = features @ h[HEAD_W].T + h[HEAD_B]
                    loss = F.cross_entropy(logits, task.labels)
                    g = torch.autograd.grad(loss, list(h.values()))
                lrs, mean_lr = self.fixed_rates(head, i)
                head = {k: v.detach() - lrs[k] * gk for (k, v), gk in zip(head.items(), g)}
                yield StepReport(loss.item(), accuracy(logits, task.labels), mean_lr)
            self.head = head
            return
        own_norm = getattr(p, "batch_norm", "support") == "backbone"
        backbone = task.backbone if own_norm else self.prepare_backbone(task.backbone)
        params = {k: v.detach() for k, v in backbone.named_parameters()}
        buffers = dict(backbone.named_buffers())
        with torch.no_grad():
            head = init_head(functional_call(backbone, (params, buffers), (xs,)), task.labels, task.n_classes,
                             p.head_init)
        fast = {**params, **head}
        names = list(fast)
        for i in range(p.adapt_steps):
            with torch.enable_grad():
                f = {k: v.detach().requires_grad_(True) for k, v in fast.items()}
                logits = self._logits(backbone, {k: f[k] for k in params}, buffers,
                                      {HEAD_W: f[HEAD_W], HEAD_B: f[HEAD_B]}, xs)
                loss = F.cross_entropy(logits, task.labels)
                g = torch.autograd.grad(loss, [f[k] for k in names], allow_unused=True)
            lrs, mean_lr = self.fixed_rates(names, i)
            fast = {k: fast[k].detach() - (0 if gk is None else lrs[k] * gk) for k, gk in zip(names, g)}
            yield StepReport(loss.item(), accuracy(logits, task.labels), mean_lr)
        with torch.no_grad():
            for name, value in backbone.named_parameters():
                value.copy_(fast[name])
        if not own_norm:
            self.finish_backbone(backbone, xs.split(max(len(xs), 1)))
        self.head = {HEAD_W: fast[HEAD_W], HEAD_B: fast[HEAD_B]}

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return features @ self.head[HEAD_W].to(features.device).T + self.head[HEAD_B].to(features.device)

    def head_state(self):
        return dict(self.head)

    def load_head_state(self, state):
        self.head = {HEAD_W: state[HEAD_W], HEAD_B: state[HEAD_B]}
        self.n_classes = state[HEAD_W].shape[0]


def init_head(features: torch.Tensor, labels: torch.Tensor, ways: int, mode: str) -> dict[str, torch.Tensor]:
    """A task's starting head from support features (n, d) and labels (n,): weights (ways, d), bias (ways,).

    "prototypes": logits 2 c_k.x - |c_k|^2 = |x|^2 - |x - c_k|^2, so softmax ranks classes by squared Euclidean
    distance to the class means c_k; "zero": all zeros. Works under vmap (no data-dependent shapes).
    """
    if mode == "zero":
        return {HEAD_W: features.new_zeros(ways, features.shape[-1]), HEAD_B: features.new_zeros(ways)}
    onehot = (labels[:, None] == torch.arange(ways, device=labels.device)).to(features.dtype)  # (n, ways)
    protos = (onehot.T @ features) / onehot.sum(0).clamp_min(1)[:, None]
    return {HEAD_W: 2 * protos, HEAD_B: -(protos * protos).sum(-1)}


def sgd_step(weights: dict, loss, lr, first_order: bool) -> dict:
    """One inner SGD step, ``w - lr * grad(loss)(w)``; ``lr`` a float, or {name: rate} (learned rates).

    First order: the gradient is taken at detached weights, so no graph for second derivatives is recorded
    at all (detaching the gradient afterwards gives the same values but still pays for that graph).
    """
    g = grad(loss)({k: v.detach() for k, v in weights.items()} if first_order else weights)
    rates = lr if isinstance(lr, dict) else dict.fromkeys(weights, lr)
    return {k: v - rates[k] * g[k] for k, v in weights.items()}


@torch.no_grad()
def feature_dim(backbone, x: torch.Tensor) -> int:
    """Length of the backbone's features for inputs like x (n, 3, S, S) (one image is run)."""
    return backbone(x[:1]).shape[-1]


@register_method("maml")
class MAML(MAMLFamily):
    title = "MAML"
    description = "Model-agnostic meta-learning: learns an initialisation that adapts in a few gradient steps"


@dataclass
class FOMAMLParams(MAMLParams):
    first_order: bool = hparam(True, FIRST_ORDER_HELP)


@register_method("fomaml")
class FirstOrderMAML(MAMLFamily):
    title = "First-order MAML"
    description = "MAML without second derivatives: cheaper meta-training, usually close in accuracy"
    Params = FOMAMLParams


@dataclass
class ANILParams:
    """MAML's, with prototypes for the head and without ``batch_norm`` (ANIL adapts only the head, on the
    frozen backbone's features: they do not depend on the backbone's kind)."""

    inner_lr: float = hparam(0.4, INNER_LR_HELP, low=1e-6, high=10.0, log_scale=True)
    inner_steps: int = hparam(2, INNER_STEPS_HELP, low=1, high=100)
    adapt_steps: int = hparam(5, ADAPT_STEPS_HELP, low=1, high=1000)
    first_order: bool = hparam(False, FIRST_ORDER_HELP)
    head_init: str = hparam("prototypes", "How each task's classification head starts: at the class prototypes "
                            "of the support features (Proto-MAML), or at zero", choices=("prototypes", "zero"))
    batched: str = hparam("auto", BATCHED_HELP, choices=("auto", "vmap", "loop"))
    multi_step_loss: bool = hparam(False, MSL_HELP)
    msl_anneal_steps: int = hparam(100, MSL_ANNEAL_HELP, low=0, high=10**7)
    learned_inner_lr: bool = hparam(False, LSLR_HELP)
    first_order_steps: int = hparam(0, FIRST_ORDER_STEPS_HELP, low=0, high=10**7)


@register_method("anil")
class ANIL(MAMLFamily):
    title = "ANIL"
    description = "Almost no inner loop: adapts only the head on frozen features; fast, works on pretrained backbones"
    head_only = True
    Params = ANILParams
