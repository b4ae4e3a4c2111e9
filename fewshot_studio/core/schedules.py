"""Outer learning-rate schedules of meta-training: the learning rate of each meta-step, from the step alone.

A schedule is a function ``(lr, step, total) -> lr at that step`` (``step`` 0-based, ``total`` the run's steps), so
the position of a resumed run follows its step: nothing but the step is saved. ``cosine`` is
``torch.optim.lr_scheduler.CosineAnnealingLR``'s curve with ``T_max = total`` and ``eta_min = 0``: ``lr`` at the
first step, about ``lr * (pi / 2 total)^2`` at the last.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .registry import Registry

Schedule = Callable[[float, int, int], float]

LR_SCHEDULES: Registry[Schedule] = Registry("learning-rate schedule")


def register_schedule(name: str):
    def decorate(fn: Schedule) -> Schedule:
        return LR_SCHEDULES.add(name, fn)

    return decorate


@register_schedule("constant")
def constant(lr: float, step: int, total: int) -> float:
    return lr


@register_schedule("cosine")
def cosine(lr: float, step: int, total: int) -> float:
    """Annealed from ``lr`` (step 0) toward 0 over ``total`` steps, by half a cosine."""
    return 0.5 * lr * (1 + math.cos(math.pi * min(step, total) / max(total, 1)))


def scheduled_lr(name: str, lr: float, step: int, total: int) -> float:
    """The learning rate of 0-based meta-step ``step`` of ``total`` under schedule ``name`` (an
    UnknownNameError listing the schedules otherwise)."""
    return LR_SCHEDULES.get(name)(lr, step, total)
