"""Few-shot methods behind one interface (:class:`FewShotMethod`), registered by name."""

from __future__ import annotations

from . import prototypical, linear_probe, finetune, maml, reptile, matching, relation, cnp  # noqa: F401, I001
from . import pt_map, tim, laplacian_shot  # noqa: F401, I001
from .base import FewShotMethod, FitTask, MetaLearner, StepReport
from .transductive import TransductiveFallback, TransductiveMethod, transductive_logits
from .registry import METHODS, is_meta_learner, register_method

DEFAULT_METHOD = "prototypical"


def get_method(name: str) -> type[FewShotMethod]:
    """The method registered as ``name``: a class, made with its hyperparameters (``get_method(n)(**params)``)
    for each run. (A backbone's entry is a spec instead, see ``get_backbone``: one spec class serves many
    registered backbones, the torchvision models and the checkpoint files.)"""
    return METHODS.get(name)


def list_methods() -> list[type[FewShotMethod]]:
    return [cls for _, cls in METHODS.items()]


__all__ = ["DEFAULT_METHOD", "METHODS", "FewShotMethod", "FitTask", "MetaLearner", "StepReport", "get_method",
           "is_meta_learner", "list_methods", "register_method", "TransductiveFallback",
           "TransductiveMethod", "transductive_logits"]
