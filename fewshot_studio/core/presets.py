"""Meta-training presets: recipes chosen by measurement, so that a user does not need a dozen flags.

A :class:`MetaPreset` is a set of :class:`.meta_train.MetaTrainConfig` values (the method's hyperparameters under
``"params"``). :func:`preset_values` lays what the user chose explicitly over the preset's values: explicit
choices always win, and ``params`` are merged name by name. The chosen preset's name is kept in the config (and so
in the checkpoint). The CLI's ``meta-train --preset NAME`` and the window's meta-training page read this registry.

How each recipe was chosen is in its ``evidence`` (benchmarks/recipes.py: meta-trained on Omniglot background
alphabets 1-16, chosen on 17-20; the reported benchmarks never train on or choose with alphabets 21-30).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .registry import Registry


@dataclass(frozen=True)
class MetaPreset:
    name: str
    title: str
    description: str
    values: dict = field(default_factory=dict)  # MetaTrainConfig fields; method hyperparameters under "params"
    evidence: str = ""  # how the values were chosen

    @property
    def method(self) -> str:
        return self.values.get("method", "prototypical")


PRESETS: Registry[MetaPreset] = Registry("preset")


def register_preset(preset: MetaPreset) -> MetaPreset:
    return PRESETS.add(preset.name, preset)


def get_preset(name: str) -> MetaPreset:
    """The preset called ``name`` (an UnknownNameError listing the choices otherwise)."""
    return PRESETS.get(name)


def list_presets() -> list[MetaPreset]:
    return [p for _, p in PRESETS.items()]


def preset_values(name: str | None, explicit: dict) -> dict:
    """MetaTrainConfig keyword arguments: the preset's values (none for ``name`` None), then ``explicit`` over them
    (keys with the value None are not explicit); ``params`` merged, explicit names winning."""
    base = dict(get_preset(name).values) if name else {}
    given = {k: v for k, v in explicit.items() if v is not None}
    params = {**base.pop("params", {}), **given.pop("params", {})}
    out = {**base, **given}
    if params:
        out["params"] = params
    if name:
        out["preset"] = name
    return out


# The recipes were measured on handwritten characters from scratch: Conv-4 at 28 px, with each class's rotations by
# 90/180/270 degrees as new classes (Vinyals et al.). For photos give --image-size and --no-rotations explicitly.
CHARACTERS = {"backbone": "conv4", "image_size": 28, "rotations": True}

PROTONET_EVIDENCE = (
    "ProtoNet from scratch, Conv-4, 28 px, rotations, Adam 1e-3, 150,000 training images per variant, dev alphabets "
    "17-20 (5-way 1-shot / 20-way 1-shot %): cosine x10 5w5s 89.9 / 74.7; minus plain Euclidean (l2) 5w5s "
    "95.1 / 84.7; l2 20w5s 95.7 / 86.7; l2 60w5s 95.9 / 87.0; l2 20w1s 96.5 / 87.7; l2 60w1s 96.5 / 88.2 "
    "(benchmarks/recipes.py --sweep protonet, 2026-12-03)")

register_preset(MetaPreset(
    "protonet", "Prototypical Networks, one-shot (recommended from scratch)",
    "ProtoNet with the plain Euclidean distance, trained on 60-way 1-shot episodes (5 queries per class): "
    "the best one-shot recipe measured on held-out Omniglot alphabets",
    {"method": "prototypical", "params": {"distance": "l2"}, "ways": 60, "shots": 1, "queries": 5,
     "meta_batch": 1, "val_ways": 5, "steps": 1000, "lr": 1e-3, **CHARACTERS},
    PROTONET_EVIDENCE))

register_preset(MetaPreset(
    "protonet-5shot", "Prototypical Networks, five-shot",
    "ProtoNet with the plain Euclidean distance, trained on 20-way 5-shot episodes (5 queries per class), "
    "for tasks with several examples per class",
    {"method": "prototypical", "params": {"distance": "l2"}, "ways": 20, "shots": 5, "queries": 5,
     "meta_batch": 1, "val_ways": 5, "steps": 1000, "lr": 1e-3, **CHARACTERS},
    PROTONET_EVIDENCE))

register_preset(MetaPreset(
    "maml", "MAML (second order)",
    "MAML on 5-way 1-shot tasks, 15 queries, two inner steps at 0.4 (the method's defaults), 4 tasks per meta-step "
    "instead of the paper's 32: about seven times the optimizer steps in the same time",
    {"method": "maml", "ways": 5, "shots": 1, "queries": 15, "meta_batch": 4, "steps": 1000, "lr": 1e-3,
     **CHARACTERS},
    "Chosen at a wall-clock budget on held-out alphabets (benchmarks/recipes.py --sweep maml-budget --seconds 240): "
    "5-way 1-shot 71.4% at meta-batch 32 (Finn et al.'s), 85.9% at 8, 87.7% at 4 (BENCHMARKS.md)."))

register_preset(MetaPreset(
    "fomaml", "First-order MAML",
    "First-order MAML on 5-way 1-shot tasks, 15 queries, two inner steps at 0.4, 4 tasks per meta-step: the "
    "cheapest MAML step, eight times the optimizer steps of the paper's 32 for the same images",
    {"method": "fomaml", "ways": 5, "shots": 1, "queries": 15, "meta_batch": 4, "steps": 1000, "lr": 1e-3,
     **CHARACTERS},
    "5-way 1-shot / 20-way 1-shot / 5-way 5-shot %, 150,000 training images each, dev alphabets 17-20: meta-batch "
    "32 (the seed's) 66.9 / 42.3 / 67.4; meta-batch 4 86.8 / 72.5 / 91.9; meta-batch 4 on 20-way 1-shot tasks "
    "(ANIL's winning shape) 58.0 / 43.3 / 60.9 (benchmarks/recipes.py --sweep fomaml, 2026-12-08)"))

# The other metric methods and ANIL, each chosen at one wall-clock budget (180 s of training, two sweeps side by
# side on the 2 cores, one thread each) among the anchors' episode shapes and ProtoNet's winning one.
BUDGET_SWEEP = "benchmarks/recipes.py --sweep {} --seconds 180, 2026-12-07; held-out dev alphabets 17-20"

register_preset(MetaPreset(
    "matching", "Matching Networks, one-shot",
    "Matching Networks (full-context embeddings, cosine attention) trained on 20-way 1-shot episodes "
    "(5 queries per class)",
    {"method": "matching", "ways": 20, "shots": 1, "queries": 5, "meta_batch": 1, "val_ways": 5, "steps": 1000,
     "lr": 1e-3, **CHARACTERS},
    "5-way 1-shot / 20-way 1-shot / 5-way 5-shot %: 5w5s15q (easyfsl's episodes) 87.5 / 70.5 / 95.1; "
    "20w1s5q 90.7 / 76.1 / 96.2; 60w1s5q 91.0 / 76.0 / 96.5 (a third of the steps; ties 20-way) ("
    + BUDGET_SWEEP.format("matching-budget") + ")"))

register_preset(MetaPreset(
    "relation", "Relation Networks",
    "Relation Networks (the paper's mean-squared error toward one-hot labels) trained on 5-way 5-shot episodes "
    "(15 queries per class)",
    {"method": "relation", "ways": 5, "shots": 5, "queries": 15, "meta_batch": 1, "steps": 1000, "lr": 1e-3,
     **CHARACTERS},
    "5-way 1-shot / 20-way 1-shot / 5-way 5-shot %: 5w5s15q 82.2 / 59.5 / 90.7; 20w1s5q 81.5 / 57.3 / 89.1; "
    "20w5s5q 81.0 / 56.5 / 89.1; 5w5s15q with loss=ce 83.2 / 58.9 / 90.8 (ties the paper's MSE, kept) ("
    + BUDGET_SWEEP.format("relation-budget") + ")"))

register_preset(MetaPreset(
    "anil", "ANIL (MAML on the head only)",
    "ANIL on 20-way 1-shot tasks (5 queries per class), 4 tasks per meta-step: wider tasks and a small meta-batch "
    "beat learn2learn's example (5-way, 32 tasks) at the same time",
    {"method": "anil", "ways": 20, "shots": 1, "queries": 5, "meta_batch": 4, "val_ways": 5, "steps": 1000,
     "lr": 1e-3, **CHARACTERS},
    "5-way 1-shot / 20-way 1-shot / 5-way 5-shot %: 5w1s15q meta-batch 32 (learn2learn's) 84.7 / 64.2 / 93.2; "
    "meta-batch 4 87.2 / 69.4 / 94.6; 20w1s5q meta-batch 4 91.6 / 77.8 / 97.1 ("
    + BUDGET_SWEEP.format("anil-budget") + ")"))
