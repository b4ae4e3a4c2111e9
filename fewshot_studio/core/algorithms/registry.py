"""The registry of few-shot methods, filled by the ``@register_method`` decorator."""

from __future__ import annotations

from ..registry import Registry
from .base import FewShotMethod, MetaLearner

METHODS: Registry = Registry("algorithm")


def register_method(name: str):
    def decorate(cls):
        cls.name = name
        return METHODS.add(name, cls)

    return decorate


def is_meta_learner(method: type[FewShotMethod] | FewShotMethod) -> bool:
    """Whether a method (class or instance) can be meta-trained: it implements :class:`MetaLearner`."""
    return issubclass(method if isinstance(method, type) else type(method), MetaLearner)
