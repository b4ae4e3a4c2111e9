"""How long ranking unlabelled images and drawing the embedding map take (CPU, one torch thread by default).

    python benchmarks/label_next_speed.py [--images 200] [--threads 1] [--tsne]

Generated images (tests/imagegen.py): a 3-class support set of 4 images each, adapted with prototypical on
efficientnet_lite0, then N unlabelled images ranked twice (the second time from the per-model cache) and
mapped with PCA (and t-SNE when scikit-learn is installed and --tsne is given).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FEWSHOT_STUDIO_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tsne", action="store_true")
    args = parser.parse_args()

    import torch
    from imagegen import SHAPES, draw_shape, make_image_folder

    from fewshot_studio.core.embedding_map import embedding_map, tsne_available
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.label_next import rank_images
    from fewshot_studio.core.support import SupportSet

    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())
    names = ("red_circle", "blue_square", "green_triangle")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", names, per_class=4, size=96))
    clf = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    pool = root / "pool"
    pool.mkdir()
    for i in range(args.images):
        draw_shape(*SHAPES[names[i % 3]], 10_000 + i, 96).save(pool / f"u{i:04d}.png")

    def timed(what, fn):
        start = time.perf_counter()
        out = fn()
        print(f"{what:<44} {time.perf_counter() - start:7.2f} s")
        return out

    print(f"{args.images} images, {args.threads} torch thread(s), {torch.__version__}")
    timed("rank (margin, diversity 0.3): embed + rank", lambda: rank_images(clf, [pool]))
    timed("rank again (entropy): from the cache", lambda: rank_images(clf, [pool], "entropy"))
    timed("embedding map, PCA (cached features)", lambda: embedding_map(clf, [pool]))
    if args.tsne and tsne_available():
        timed("embedding map, t-SNE (cached features)", lambda: embedding_map(clf, [pool], method="tsne"))


if __name__ == "__main__":
    main()
