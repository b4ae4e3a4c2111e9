"""Episodic evaluation: mean accuracy with a 95% confidence interval, and Lake et al.'s one-shot runs."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from .episodes import DatasetError, Episode, EpisodeSampler

# predict(episode) -> predicted query labels (n_query,)
Predictor = Callable[[Episode], torch.Tensor]


def mean_ci95(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval (normal approximation, 1.96 standard errors)."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    mean = sum(values) / n
    if n == 1:
        return mean, float("nan")
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 1.96 * math.sqrt(var / n)


@dataclass
class EvalResult:
    mean: float  # accuracy, 0..1
    ci95: float  # half-width of the 95% interval
    episodes: int
    ways: int
    shots: int

    def __str__(self) -> str:
        return (f"{self.ways}-way {self.shots}-shot: {100 * self.mean:.2f}% ± {100 * self.ci95:.2f}% "
                f"(95% CI, {self.episodes} episodes)")


def evaluate_episodes(predict: Predictor, sampler: EpisodeSampler, episodes: int, *, start: int = 0,
                      on_episode: Callable[[int, float], None] | None = None) -> EvalResult:
    """Accuracy of ``predict`` over episodes ``start`` .. ``start + episodes - 1`` of ``sampler``."""
    accs = []
    for i in range(start, start + episodes):
        ep = sampler.episode(i)
        pred = predict(ep).cpu()
        accs.append((pred == ep.query_labels).float().mean().item())
        if on_episode:
            on_episode(i - start + 1, accs[-1])
    mean, ci = mean_ci95(accs)
    return EvalResult(mean, ci, episodes, sampler.ways, sampler.shots)


# --- Lake et al.'s one-shot classification runs ---------------------------------------------------------------
@dataclass
class LakeRun:
    """One 20-way one-shot run: training images (one per class), test images, and each test's class index."""

    name: str
    training: list[Path]
    test: list[Path]
    answers: list[int]


_LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s*$")


def read_lake_runs(root: str | os.PathLike) -> list[LakeRun]:
    """``runNN/class_labels.txt`` lines read ``runNN/test/itemNN.png runNN/training/classMM.png``."""
    root = Path(root)
    runs = []
    for labels in sorted(root.glob("run*/class_labels.txt")):
        pairs = [m.groups() for m in map(_LINE.match, labels.read_text().splitlines()) if m]
        training = sorted({root / t for _, t in pairs} | set((labels.parent / "training").glob("*.png")))
        index = {p: i for i, p in enumerate(training)}
        try:
            answers = [index[root / t] for _, t in pairs]
        except KeyError as exc:
            raise DatasetError(f"{labels}: names a training image that is not there ({exc})") from None
        runs.append(LakeRun(labels.parent.name, training, [root / q for q, _ in pairs], answers))
    if not runs:
        raise DatasetError(f"{root}: no runNN/class_labels.txt found; expected Lake et al.'s one-shot run layout")
    return runs


def lake_error_rate(predict: Predictor, runs: list[LakeRun], load: Callable[[list[Path]], torch.Tensor]) -> float:
    """Error rate over all test images of all runs; ``load`` turns image paths into base tensors."""
    wrong = total = 0
    for ep in iter_lake_episodes(runs, load):
        pred = predict(ep).cpu()
        wrong += int((pred != ep.query_labels).sum())
        total += len(ep.query_labels)
    return wrong / total


def iter_lake_episodes(runs: list[LakeRun], load) -> Iterator[Episode]:
    for run in runs:
        yield Episode(load(run.training), torch.arange(len(run.training)), load(run.test),
                      torch.tensor(run.answers), list(range(len(run.training))))
