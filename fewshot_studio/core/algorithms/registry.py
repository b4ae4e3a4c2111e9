"""The registry of few-shot methods, filled by the ``@register_method`` decorator."""

from __future__ import annotations

from ..registry import Registry

METHODS: Registry = Registry("algorithm")


def register_method(name: str):
    def decorate(cls):
        cls.name = name
        return METHODS.add(name, cls)

    return decorate
