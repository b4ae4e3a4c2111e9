"""What to label next: rank unlabelled images by how much a label for each would teach the classifier.

Uncertainty sampling. Two scores, both in [0, 1], higher = more uncertain = label it sooner:

- ``margin`` (the default): 1 - (p1 - p2), from the two most probable classes. A label settles exactly the
  decision the classifier is torn on; it is not diluted by the many classes an image clearly is not, so
  it stays meaningful with 20 classes as with 2 (best-versus-second-best, Joshi et al. 2009).
- ``entropy``: H(p) / log(C), the whole distribution's spread. It favours images that look like nothing
  the model knows (probability spread over every class), which is what to label when classes are missing.

With two classes both give the same order. ``diversity`` (0..1) keeps the head of the list from being
near-duplicates (bursts of photos, video frames): picks are made greedily by maximal marginal relevance,
(1 - diversity) * uncertainty - diversity * (highest similarity to an image picked before), similarity
being the cosine of centred features, clipped at 0.

>>> run = RankRun(classifier, ["unlabelled/"], by="margin")
>>> for event in run: print(event)          # Stage("embedding images", done, total)
>>> for item in run.result.items[:10]: print(item.path, item.score, item.label)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .classifier import FewShotClassifier
from .embeddings import ImageEmbeddings, embed_images
from .errors import ParameterError
from .images import Skipped
from .runs import Run, Stage

SCORES = ("margin", "entropy")
DEFAULT_SCORE = "margin"
DEFAULT_DIVERSITY = 0.3
DIVERSE_HEAD = 200  # diversity re-orders at most this many first places; the rest follow by score

MSG_BAD_SCORE = "unknown ranking {by!r}; choose one of: " + ", ".join(SCORES)
MSG_BAD_DIVERSITY = "diversity must be between 0 and 1 (it was {value}); 0 ranks by uncertainty alone"


@dataclass
class RankedImage:
    """One unlabelled image, its place in the ranking and the classifier's current guess."""

    rank: int  # 1 = label this first
    path: str
    score: float  # the ranking's uncertainty, 0..1, higher = more useful to label
    margin: float  # p1 - p2
    entropy: float  # normalised entropy, 0..1
    label: str  # current guess
    confidence: float
    top_k: list[tuple[str, float]]

    def to_dict(self) -> dict:
        return {"rank": self.rank, "path": self.path, "score": self.score, "margin": self.margin,
                "entropy": self.entropy, "label": self.label, "confidence": self.confidence,
                "top_k": [{"label": c, "score": s} for c, s in self.top_k]}


@dataclass
class Ranking:
    """Every readable unlabelled image, best to label first; what was left out, and why."""

    by: str
    diversity: float
    items: list[RankedImage]
    skipped: list[Skipped] = field(default_factory=list)
    already_labelled: list[Path] = field(default_factory=list)

    def top(self, n: int | None) -> list[RankedImage]:
        return self.items if n is None else self.items[:n]


def uncertainty(probs: torch.Tensor, by: str = DEFAULT_SCORE) -> torch.Tensor:
    """Class probabilities (N, C) -> uncertainty (N,) in [0, 1]; higher = less sure."""
    if by not in SCORES:
        raise ParameterError(MSG_BAD_SCORE.format(by=by))
    n_classes = probs.shape[-1]
    if by == "margin":
        top2 = probs.topk(min(2, n_classes), dim=-1).values
        second = top2[:, 1] if n_classes > 1 else torch.zeros_like(top2[:, 0])
        return (1.0 - (top2[:, 0] - second)).clamp(0, 1)
    p = probs.clamp_min(1e-12)
    return (-(p * p.log()).sum(-1) / math.log(max(2, n_classes))).clamp(0, 1)


def diverse_order(scores: torch.Tensor, features: torch.Tensor, diversity: float,
                  head: int = DIVERSE_HEAD) -> list[int]:
    """Indices best first: greedy maximal marginal relevance over the first ``head`` places.

    scores: (N,) uncertainty in [0, 1]; features: (N, D).
    """
    order = torch.argsort(scores, descending=True, stable=True).tolist()
    if diversity <= 0 or len(order) < 2:
        return order
    x = features.float()
    x = F.normalize(x - x.mean(0, keepdim=True), dim=-1)
    n = len(order)
    chosen: list[int] = []
    taken = torch.zeros(n, dtype=torch.bool)
    redundancy = torch.zeros(n)
    for _ in range(min(head, n)):
        value = (1 - diversity) * scores - diversity * redundancy
        value[taken] = -math.inf
        i = int(value.argmax())
        chosen.append(i)
        taken[i] = True
        redundancy = torch.maximum(redundancy, (x @ x[i]).clamp_min(0))
    return chosen + [i for i in order if not taken[i]]


def rank_embeddings(emb: ImageEmbeddings, by: str = DEFAULT_SCORE, diversity: float = DEFAULT_DIVERSITY,
                    top_k: int = 3) -> Ranking:
    """Rank embedded images (see the module's docstring)."""
    if not 0 <= diversity <= 1:
        raise ParameterError(MSG_BAD_DIVERSITY.format(value=diversity))
    scores = uncertainty(emb.probs, by)
    margins = 1.0 - uncertainty(emb.probs, "margin")
    entropies = uncertainty(emb.probs, "entropy")
    k = min(top_k, len(emb.class_names))
    items = []
    for rank, i in enumerate(diverse_order(scores, emb.features, diversity), start=1):
        values, idx = emb.probs[i].topk(k)
        ranked = [(emb.class_names[j], float(v)) for v, j in zip(values.tolist(), idx.tolist())]
        items.append(RankedImage(rank, str(emb.paths[i]), float(scores[i]), float(margins[i]), float(entropies[i]),
                                 ranked[0][0], ranked[0][1], ranked))
    return Ranking(by, diversity, items, list(emb.skipped), list(emb.already_labelled))


class RankRun(Run[Ranking]):
    """Rank the images under ``paths`` for ``classifier``. Iterate it for Stage events; ``result`` at the end.

    ``cancel()`` (thread-safe) stops it before the next batch: iteration then ends early and ``result``
    stays None.
    """

    def __init__(self, classifier: FewShotClassifier, paths: Iterable[str | os.PathLike], *, by: str = DEFAULT_SCORE,
                 diversity: float = DEFAULT_DIVERSITY, batch_size: int | None = None):
        super().__init__()
        if by not in SCORES:
            raise ParameterError(MSG_BAD_SCORE.format(by=by))
        if not 0 <= diversity <= 1:
            raise ParameterError(MSG_BAD_DIVERSITY.format(value=diversity))
        self.classifier = classifier
        self.paths = [Path(p) for p in paths]
        self.by = by
        self.diversity = diversity
        self.batch_size = batch_size

    def _events(self) -> Iterator[Stage]:
        emb = yield from self._until_cancelled(
            embed_images(self.classifier, self.paths, batch_size=self.batch_size))
        if emb is None:
            return
        yield Stage("ranking", 0, 1)
        self.result = rank_embeddings(emb, self.by, self.diversity)
        yield Stage("ranking", 1, 1)


def rank_images(classifier: FewShotClassifier, paths: Iterable[str | os.PathLike], by: str = DEFAULT_SCORE,
                diversity: float = DEFAULT_DIVERSITY, **options) -> Ranking:
    """Rank without progress reporting. See :class:`RankRun`."""
    return RankRun(classifier, paths, by=by, diversity=diversity, **options).run()
