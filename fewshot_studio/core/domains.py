"""Several base datasets (*domains*) as one source of episodes: each episode comes from ONE domain.

:class:`MultiDomainSampler` wraps one :class:`.episodes.EpisodeSampler` per domain. ``episode(i)`` first picks a
domain with a generator seeded by (seed, i), by weight, then returns that domain's ``episode(i)``: the same
for the same seed and i, so a resumed run and each DistributedDataParallel process (which takes its own episode
indices) see exactly the episodes of one uninterrupted single-process run. With one domain it is that domain's
sampler, episode for episode.

Weighting (``--dataset-weight``): ``uniform`` (each domain equally often) or ``proportional`` (to the number of
training classes a domain can make episodes from, after ``--rotations``). Validation keeps one held-out split per
domain (``pool.split(val_fraction)``); ``--val-dataset`` replaces them all by one validation domain.
"""

from __future__ import annotations

import math
from pathlib import Path
import torch

from .episodes import ClassPool, DatasetError, Episode, EpisodeSampler, open_pool
from .errors import ParameterError
from .evaluation import EvalResult
from .preprocess import Preprocess

WEIGHTINGS = ("uniform", "proportional")
MSG_WEIGHTING = "unknown --dataset-weight {name!r}; choose one of: " + ", ".join(WEIGHTINGS)
MSG_NO_DATASET = "give at least one base dataset: --dataset PATH (repeat it for several domains)"
MSG_SIZES = ("the datasets give images of different sizes after preprocessing ({sizes}); give --image-size so that "
             "they share one")
DOMAIN_SEED_STEP = 104_729  # domain k's episodes use seed + k * this (domain 0: the run's own seed)
VAL_SEED_OFFSET = 7919  # validation episodes are drawn with seed + this (as before several domains)


def check_weighting(name: str) -> str:
    if name not in WEIGHTINGS:
        raise ParameterError(MSG_WEIGHTING.format(name=name))
    return name


def domain_names(paths: list[str]) -> list[str]:
    """A short name per dataset (its file or folder stem), or the paths themselves where two stems clash."""
    stems = [Path(p).stem or str(p) for p in paths]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in paths]


class MultiDomainSampler:
    """Episodes from several domains; ``samplers`` maps each domain's name to its sampler (one shape for all)."""

    def __init__(self, samplers: dict[str, EpisodeSampler], weighting: str = "uniform", seed: int = 0):
        if not samplers:
            raise ParameterError(MSG_NO_DATASET)
        self.samplers = dict(samplers)
        self.names = list(self.samplers)
        first = next(iter(self.samplers.values()))
        self.ways, self.shots, self.queries, self.seed = first.ways, first.shots, first.queries, seed
        sizes = {s.pool.image_size for s in self.samplers.values()}
        if len(sizes) > 1:
            raise DatasetError(MSG_SIZES.format(sizes=", ".join(f"{n}: {s.pool.image_size} px"
                                                               for n, s in self.samplers.items())))
        self.weighting = check_weighting(weighting)
        counts = [len(s.eligible) if weighting == "proportional" else 1 for s in self.samplers.values()]
        self.weights = torch.tensor(counts, dtype=torch.float64) / sum(counts)

    @classmethod
    def from_pools(cls, pools: dict[str, ClassPool], ways: int, shots: int, queries: int, *, seed: int = 0,
                   weighting: str = "uniform") -> MultiDomainSampler:
        """One sampler per pool; a pool too small for the episodes is refused in one line that names it."""
        samplers = {}
        for k, (name, pool) in enumerate(pools.items()):
            samplers[name] = EpisodeSampler(pool, ways, shots, queries, seed=seed + k * DOMAIN_SEED_STEP,
                                            what=f"the dataset {name}")
        return cls(samplers, weighting, seed)

    def domain(self, index: int) -> int:
        """Which domain episode ``index`` comes from (its position in :attr:`names`)."""
        if len(self.samplers) == 1:
            return 0
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + index) ^ 0x5DEECE66D)
        return int(torch.multinomial(self.weights, 1, generator=g).item())

    def episode(self, index: int) -> Episode:
        return self.samplers[self.names[self.domain(index)]].episode(index)


def mean_over_domains(per_domain: dict[str, EvalResult]) -> EvalResult:
    """The mean of the domains' accuracies; its interval combines theirs as independent estimates
    (half-width sqrt(sum ci_d^2) / n)."""
    results = list(per_domain.values())
    if len(results) == 1:
        return results[0]
    n = len(results)
    mean = sum(r.mean for r in results) / n
    ci = math.sqrt(sum(r.ci95 ** 2 for r in results)) / n
    return EvalResult(mean, ci, sum(r.episodes for r in results), results[0].ways, results[0].shots)


def open_domains(config, preprocess: Preprocess) -> tuple[MultiDomainSampler, dict[str, EpisodeSampler]]:
    """For a :class:`.meta_train.MetaTrainConfig`: the training sampler over ``config.datasets``, and the
    validation samplers by domain name (empty when there is no validation, or no held-out split is large enough
    for ``--val-ways`` episodes)."""
    c = config
    names = domain_names(c.datasets)
    train, held = {}, {}
    for name, path in zip(names, c.datasets):
        pool = open_pool(path, preprocess, rotations=c.rotations)
        train[name], held[name] = (pool, None) if c.val_dataset else pool.split(c.val_fraction)
    if c.val_dataset:
        held = {domain_names([c.val_dataset])[0]: open_pool(c.val_dataset, preprocess, rotations=False)}
    sampler = MultiDomainSampler.from_pools(train, c.ways, c.shots, c.queries, seed=c.seed,
                                            weighting=c.dataset_weight)
    val: dict[str, EpisodeSampler] = {}
    for k, (name, pool) in enumerate(held.items()):
        if not c.val_every or not len(pool):
            continue
        try:
            val[name] = EpisodeSampler(pool, c.val_ways or c.ways, c.val_shots or c.shots, c.queries,
                                       seed=c.seed + VAL_SEED_OFFSET + k * DOMAIN_SEED_STEP)
        except DatasetError:  # too few held-out classes in this domain: it is not validated
            continue
    return sampler, val
