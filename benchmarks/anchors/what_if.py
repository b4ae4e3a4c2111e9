"""Checks of the fixes proposed in ANCHORS_RESULTS.md, with run_all.py's full Omniglot budget and episodes.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/anchors/what_if.py [--steps 100] [--episodes 150 50]

- ProtoNet with squared Euclidean distance (easyfsl's and Snell et al.'s choice) instead of our default cosine
  with a fixed scale of 10;
- ProtoNet with easyfsl's logits (minus the plain Euclidean distance), and ProtoNet with support and query
  embedded in separate batches (so batch norm sees each set's statistics, as in easyfsl's usage);
- ProtoNet (cosine) with a meta-learned scale instead of the fixed 10 (``--variants learned-scale``);
- Relation Networks with each class's feature maps averaged (easyfsl) instead of summed (our implementation,
  as in Sung et al.), patched in this process only: a sum grows with the number of shots, so a module
  meta-trained on 1-shot tasks sees out-of-range inputs at 5-shot.
Same development protocol as run_all.py: the last 10 background alphabets held out, 5-way 1-shot meta-training.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runner import episode_accuracies, eval_pool  # noqa: E402

from fewshot_studio.core.algorithms import prototypical  # noqa: E402
from fewshot_studio.core.algorithms.episodic import EpisodicMethod  # noqa: E402
from fewshot_studio.core.algorithms.heads import prototype_logits, prototypes  # noqa: E402
from fewshot_studio.core.algorithms.relation import RelationNetworks  # noqa: E402
from fewshot_studio.core.episodes import EpisodeSampler, omniglot_pool  # noqa: E402
from fewshot_studio.core.evaluation import mean_ci95, open_predictor  # noqa: E402
from fewshot_studio.core.meta_train import MetaTrainConfig, MetaTrainRun  # noqa: E402

NPZ = Path(__file__).resolve().parents[3] / "shared" / "data" / "omniglot" / "images_background.npz"


def plain_euclidean(queries, protos, distance, scale):
    return -torch.cdist(queries, protos)  # easyfsl's logits: minus the (not squared) distance


def separate_batches(self, backbone, xs, ys, xq, yq, ways):
    """Support and query through the backbone in two batches (batch-norm statistics of each), as easyfsl."""
    return self.features_loss(self.features_of(backbone, xs), ys, self.features_of(backbone, xq), yq, ways)


class LearnedScale(torch.nn.Module):
    """A meta-learned cosine temperature (metric scaling, Oreshkin et al. 2018), started at the fixed scale."""

    def __init__(self, init: float):
        super().__init__()
        self.log = torch.nn.Parameter(torch.tensor(float(init)).log())

    def forward(self):
        return self.log.exp()


def scale_nets(self, feature_shape):
    return torch.nn.ModuleDict({"scale": LearnedScale(self.params.scale)})


def learned_scale_logits(self, features, context):
    scale = self.nets["scale"]() if "scale" in self.nets else self.params.scale
    return prototype_logits(features, context["prototypes"], "cosine", scale)


def mean_class_maps(self, features, labels, ways):
    return {"class_maps": prototypes(features.flatten(1), labels, ways).view(ways, *features.shape[1:])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--npz", default=str(NPZ))
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--meta-batch", type=int, default=2)
    ap.add_argument("--episodes", type=int, nargs=2, default=[150, 50], help="5-way 1-shot and 5-shot episodes")
    ap.add_argument("--variants", nargs="+", default=["cosine", "euclidean", "plain-euclidean", "separate-bn", "relation-sum", "relation-mean"])
    args = ap.parse_args()
    pool = omniglot_pool(args.npz, size=28)
    groups = list(dict.fromkeys(pool.groups))
    held = groups[len(groups) - 10:]
    ev = eval_pool({"npz": args.npz, "alphabets": held}, 28)
    work = Path(tempfile.mkdtemp(prefix="what-if-"))
    variants = {"cosine": ("ProtoNet, cosine, scale 10 (our default)", "prototypical", {}, {}),
                "learned-scale": ("ProtoNet, cosine with a meta-learned scale", "prototypical", {},
                                  {(prototypical.PrototypicalNetworks, "build_nets"): scale_nets,
                                   (prototypical.PrototypicalNetworks, "has_learned_nets"): lambda self: True,
                                   (prototypical.PrototypicalNetworks, "query_logits"): learned_scale_logits}),
                "relation-sum": ("Relation, class maps summed (ours, Sung et al.)", "relation", {}, {}),
                "euclidean": ("ProtoNet, squared Euclidean", "prototypical", {"distance": "euclidean"}, {}),
                "relation-mean": ("Relation, class maps averaged", "relation", {},
                                  {(RelationNetworks, "support_context"): mean_class_maps}),
                "plain-euclidean": ("ProtoNet, minus Euclidean distance (easyfsl's logits)", "prototypical",
                                    {"distance": "euclidean"}, {(prototypical, "prototype_logits"): plain_euclidean}),
                "separate-bn": ("ProtoNet (cosine), support and query in separate batches (easyfsl's BN)",
                                "prototypical", {}, {(EpisodicMethod, "episode_loss"): separate_batches})}
    for key in args.variants:
        label, method, params, patches = variants[key]
        saved = {k: getattr(*k) for k in patches}
        for (owner, name), value in patches.items():
            setattr(owner, name, value)
        try:
            out = work / f"{method}.safetensors"
            MetaTrainRun(MetaTrainConfig(datasets=[args.npz], method=method, params=params, image_size=28, ways=5,
                                         shots=1, queries=15, meta_batch=args.meta_batch, steps=args.steps,
                                         lr=1e-3, val_every=0, val_fraction=1 / 3, rotations=True, seed=0,
                                         device="cpu", output=str(out))).run()
            predict, _, _ = open_predictor(out, device="cpu")
            cells = []
            for shots, n in zip((1, 5), args.episodes):
                accs = episode_accuracies(predict, EpisodeSampler(ev, 5, shots, 15, seed=1), n)
                m, ci = mean_ci95(accs)
                cells.append(f"5-way {shots}-shot {100 * m:.1f} ± {100 * ci:.1f} ({n})")
            print(f"{label}: " + "; ".join(cells), flush=True)
        finally:
            for (owner, name), value in saved.items():
                setattr(owner, name, value)


if __name__ == "__main__":
    main()
