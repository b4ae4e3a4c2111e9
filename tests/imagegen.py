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


def draw_shape(kind: str, colour, seed: int, size: int = 96, radius: tuple[int, int] | None = None) -> Image.Image:
    """``radius``: the range of the shape's half-size in pixels (default size // 5 .. size // 3)."""
    rng = random.Random(seed)
    bg = tuple(rng.randint(200, 255) for _ in range(3))
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    r = rng.randint(*(radius or (size // 5, size // 3)))
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


# --- a domain shift: the same shapes (the classes) drawn in two palettes (the domains) -----------------------
DOMAINS = {
    # name: (shape colours, background range): "source" is warm on light paper, "target" cool on a dark screen
    "source": ([(220, 40, 40), (240, 120, 20), (230, 200, 30), (200, 60, 120)], (205, 255)),
    "target": ([(40, 60, 220), (30, 200, 200), (40, 180, 60), (160, 40, 200)], (0, 60)),
}


def draw_domain_shape(kind: str, domain: str, seed: int, size: int = 64, colours: int = 4) -> Image.Image:
    """A shape of ``kind`` (one of :data:`KINDS`) in a random one of the first ``colours`` colours of ``domain``'s
    palette, on its background."""
    rng = random.Random(seed)
    palette, (lo, hi) = DOMAINS[domain]
    small = (size // 9, size // 6) if domain == "target" else None  # the target camera is further away
    img = draw_shape(kind, rng.choice(palette[:colours]), seed, size, small)
    bg = tuple(rng.randint(lo, hi) for _ in range(3))
    pixels = img.load()
    corner = pixels[0, 0]
    noise = 60 if domain == "target" else 0  # the target camera is noisy
    for y in range(size):  # repaint the background (draw_shape paints it light) in the domain's range
        for x in range(size):
            c = bg if pixels[x, y] == corner else pixels[x, y]
            pixels[x, y] = tuple(max(0, min(255, v + rng.randint(-noise, noise))) for v in c) if noise else c
    return img


def make_domain_shift(root: Path, *, kinds=tuple(KINDS), shots: int = 1, unlabelled: int = 10, queries: int = 5,
                      size: int = 64, seed: int = 0, colours: int = 4) -> tuple[Path, Path, dict[Path, str]]:
    """A task with a domain gap: labelled ``root/support/<kind>/`` images in the source palette, and an
    unlabelled pool ``root/unlabelled/`` and queries ``root/query/`` (flat folders) in the target palette.

    ``colours``: how many colours of each palette are drawn (1: the domains differ by one colour shift, and
    the target images cluster by shape; 4: colour is a nuisance within each domain too).
    Returns (support folder, unlabelled folder, {query path: true class}). Pool and queries are disjoint.
    """
    support, pool, query = root / "support", root / "unlabelled", root / "query"
    pool.mkdir(parents=True, exist_ok=True)
    query.mkdir(parents=True, exist_ok=True)
    truth = {}
    for ki, kind in enumerate(kinds):
        (support / kind).mkdir(parents=True, exist_ok=True)
        base = seed * 100000 + ki * 1000
        for i in range(shots):
            draw_domain_shape(kind, "source", base + i, size, colours).save(support / kind / f"{kind}_{i}.png")
        for i in range(unlabelled):
            draw_domain_shape(kind, "target", base + 300 + i, size, colours).save(pool / f"u_{kind}_{i}.png")
        for i in range(queries):
            path = query / f"q_{kind}_{i}.png"
            draw_domain_shape(kind, "target", base + 600 + i, size, colours).save(path)
            truth[path] = kind
    return support, pool, truth


def save_pool(pool, root: Path, classes) -> Path:
    """Write the pool's ``classes`` (indices) as an ImageFolder: root/<class name>/<i>.png."""
    import torch

    for c in classes:
        folder = root / pool.names[c]
        folder.mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(pool.images(c, torch.arange(pool.count(c)))):
            Image.fromarray(img.permute(1, 2, 0).numpy()).save(folder / f"{i}.png")
    return root


# --- base datasets of two looks, for meta-training on several domains ----------------------------------------
def make_look_dataset(root: Path, look: str, *, classes: int = 6, per_class: int = 5, size: int = 28,
                      seed: int = 0) -> Path:
    """An ImageFolder base dataset of ``classes`` shape-and-colour classes (``root/<kind>-<i>/``), in one of two
    looks: ``light`` (coloured shapes on light paper) or ``dark`` (the same drawings inverted: dark background,
    complementary colours)."""
    from PIL import ImageOps

    for ci in range(classes):
        kind, colour = KINDS[ci % len(KINDS)], PALETTE[ci // len(KINDS) % len(PALETTE)]  # 32 distinct
        folder = root / f"{kind}-{ci}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = draw_shape(kind, colour, seed * 10000 + ci * 100 + i, size)
            (ImageOps.invert(img) if look == "dark" else img).save(folder / f"{kind}-{ci}_{i}.png")
    return root
