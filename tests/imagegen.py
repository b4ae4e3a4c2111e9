"""Images generated for tests: classes that differ in shape and colour, so accuracy can be asserted."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

SHAPES = {
    "red_circle": ("ellipse", (220, 40, 40)),
    "blue_square": ("rectangle", (40, 60, 220)),
    "green_triangle": ("triangle", (40, 180, 60)),
    "yellow_cross": ("cross", (230, 200, 30)),
}


def draw_shape(kind: str, colour, seed: int, size: int = 96) -> Image.Image:
    rng = random.Random(seed)
    bg = tuple(rng.randint(200, 255) for _ in range(3))
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    r = rng.randint(size // 5, size // 3)
    cx, cy = rng.randint(r, size - r), rng.randint(r, size - r)
    jitter = tuple(max(0, min(255, c + rng.randint(-25, 25))) for c in colour)
    if kind == "ellipse":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=jitter)
    elif kind == "rectangle":
        d.rectangle((cx - r, cy - r, cx + r, cy + r), fill=jitter)
    elif kind == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=jitter)
    else:
        w = max(2, r // 3)
        d.rectangle((cx - r, cy - w, cx + r, cy + w), fill=jitter)
        d.rectangle((cx - w, cy - r, cx + w, cy + r), fill=jitter)
    return img


def make_image_folder(root: Path, classes=("red_circle", "blue_square", "green_triangle"), per_class: int = 4,
                      seed: int = 0, size: int = 96, fmt: str = "png") -> Path:
    """ImageFolder layout: root/<class>/<class>_<i>.<fmt>."""
    root.mkdir(parents=True, exist_ok=True)
    for ci, name in enumerate(classes):
        kind, colour = SHAPES[name]
        (root / name).mkdir(exist_ok=True)
        for i in range(per_class):
            draw_shape(kind, colour, seed * 1000 + ci * 100 + i, size).save(root / name / f"{name}_{i}.{fmt}")
    return root


def make_queries(root: Path, classes=("red_circle", "blue_square", "green_triangle"), per_class: int = 3,
                 seed: int = 99, size: int = 96) -> dict[Path, str]:
    """Held-out images in one flat folder; returns path -> true class."""
    root.mkdir(parents=True, exist_ok=True)
    truth = {}
    for ci, name in enumerate(classes):
        kind, colour = SHAPES[name]
        for i in range(per_class):
            path = root / f"q_{name}_{i}.png"
            draw_shape(kind, colour, seed * 1000 + ci * 100 + i, size).save(path)
            truth[path] = name
    return truth


PALETTE = [(220, 40, 40), (40, 60, 220), (40, 180, 60), (230, 200, 30), (160, 40, 200), (30, 200, 200),
           (240, 120, 20), (120, 120, 120)]
KINDS = ["ellipse", "rectangle", "triangle", "cross"]


def shape_pool(per_class: int = 12, size: int = 28, seed: int = 0):
    """A base dataset of 32 generated classes (4 shapes x 8 colours) as an in-memory episode pool.

    Groups are colours, so holding out groups gives tasks whose classes were never seen in training.
    """
    import numpy as np
    import torch

    from fewshot_studio.core.episodes import TensorPool

    data, names, groups = [], [], []
    for ci, colour in enumerate(PALETTE):
        for ki, kind in enumerate(KINDS):
            imgs = [np.asarray(draw_shape(kind, colour, seed * 100000 + ci * 1000 + ki * 100 + i, size))
                    for i in range(per_class)]
            data.append(torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous())
            names.append(f"{kind}-{ci}")
            groups.append(f"colour{ci}")
    return TensorPool(data, names, groups)


def make_confusable_folder(root: Path, per_class: int = 6, size: int = 64, seed: int = 0) -> Path:
    """Three classes: ``circle_a`` and ``circle_b`` drawn from the same distribution (red circles, only the
    seeds differ: no method can tell them apart) and ``blue_square``, clearly different."""
    root.mkdir(parents=True, exist_ok=True)
    for ci, (name, shape) in enumerate((("circle_a", "red_circle"), ("circle_b", "red_circle"),
                                        ("blue_square", "blue_square"))):
        kind, colour = SHAPES[shape]
        (root / name).mkdir(exist_ok=True)
        for i in range(per_class):
            draw_shape(kind, colour, 7000 + seed * 1000 + ci * 100 + i, size).save(root / name / f"{name}_{i}.png")
    return root
