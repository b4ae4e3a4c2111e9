"""MAML-family head initialisation: zero (unicorn-MAML) against the support prototypes (Proto-MAML).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/anchors/head_init.py anil,fomaml

run_all.py's full Omniglot budget (Conv-4, 28 px, rotations, 100 steps x 2 tasks of 5-way 1-shot, Adam 1e-3,
seed 0) and development protocol (the last 10 background alphabets held out); both variants of each method are
evaluated on the same episodes (5-way 1-shot 100, 5-way 5-shot 40, 20-way 1-shot 10).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runner import episode_accuracies, eval_pool  # noqa: E402

from fewshot_studio.core.episodes import EpisodeSampler, omniglot_pool  # noqa: E402
from fewshot_studio.core.evaluation import mean_ci95, open_predictor  # noqa: E402
from fewshot_studio.core.meta_train import MetaTrainConfig, MetaTrainRun  # noqa: E402

NPZ = str(Path(__file__).resolve().parents[3] / "shared" / "data" / "omniglot" / "images_background.npz")


def main(methods: list[str]) -> None:
    pool = omniglot_pool(NPZ, size=28)
    held = list(dict.fromkeys(pool.groups))[-10:]
    ev = eval_pool({"npz": NPZ, "alphabets": held}, 28)
    work = Path(tempfile.mkdtemp(prefix="headinit-"))
    for method in methods:
        for head_init in ("zero", "prototypes"):
            out = work / f"{method}-{head_init}.safetensors"
            MetaTrainRun(MetaTrainConfig(datasets=[NPZ], method=method, params={"head_init": head_init}, image_size=28,
                                         ways=5, shots=1, queries=15, meta_batch=2, steps=100, lr=1e-3, val_every=0,
                                         val_fraction=1 / 3, rotations=True, seed=0, device="cpu",
                                         output=str(out))).run()
            predict, _, _ = open_predictor(out, device="cpu")
            cells = []
            for ways, shots, n in ((5, 1, 100), (5, 5, 40), (20, 1, 10)):
                sampler = EpisodeSampler(ev, ways, shots, 15 if ways == 5 else 5, seed=1)
                m, ci = mean_ci95(episode_accuracies(predict, sampler, n))
                cells.append(f"{ways}w{shots}s {100 * m:.1f} ± {100 * ci:.1f} ({n})")
            print(f"{method} head_init={head_init}: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main(sys.argv[1].split(",") if len(sys.argv) > 1 else ["anil", "fomaml"])
