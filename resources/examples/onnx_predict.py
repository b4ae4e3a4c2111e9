#!/usr/bin/env python3
"""Classify images with a model exported by Few-shot Studio (``fewshot-studio export MODEL --onnx OUT.onnx``).

Needs only onnxruntime, pillow and numpy (``pip install onnxruntime pillow numpy``), not the studio:

    python onnx_predict.py model.onnx photo.jpg more_photos/ [--top-k 3] [--json] [--open-set]

Class names, input size and resize size are read from the ONNX file's metadata. Images are prepared as
the studio prepares them: first frame, EXIF orientation, RGB (transparency on white), shorter side
resized to ``resize_size`` (bilinear), centre crop, then the centre ``input_size`` crop, as uint8 NCHW.
Scaling and normalisation are inside the graph. When the model holds an open-set threshold ("None of
these", metadata key ``open_set``), an image less similar than the threshold to every support image is
reported as unknown (JSON: label null, unknown true), as ``fewshot-studio predict`` does: by default when
the model was saved with rejection on, always with ``--open-set``, never with ``--no-open-set``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
            ".pbm", ".pnm", ".tga", ".ico"}


def load_rgb(path: Path, draft: int) -> Image.Image:
    """An image file as an RGB PIL image, the way the studio reads it."""
    with Image.open(path) as img:
        img.seek(0)
        if img.format == "JPEG":
            img.draft("RGB", (draft, draft))  # JPEG decoding skips detail the resize would drop
        img.load()
        img = ImageOps.exif_transpose(img)
        if img.mode == "RGB":
            return img
        if img.mode == "P" and "transparency" in img.info or img.mode in ("PA", "LA", "La", "RGBa"):
            img = img.convert("RGBA")
        if img.mode == "RGBA":
            white = Image.new("RGBA", img.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, img).convert("RGB")
        return img.convert("RGB")


def model_input(img: Image.Image, resize: int, size: int) -> np.ndarray:
    """RGB image -> uint8 array (3, size, size): shorter side to ``resize``, centre crops."""
    w, h = img.size
    scale = resize / min(w, h)
    new = (max(resize, round(w * scale)), max(resize, round(h * scale)))
    img = img.resize(new, Image.BILINEAR, reducing_gap=3.0)
    left, top = (new[0] - resize) // 2, (new[1] - resize) // 2
    img = img.crop((left, top, left + resize, top + resize))
    o = (resize - size) // 2
    return np.asarray(img, dtype=np.uint8)[o:o + size, o:o + size].transpose(2, 0, 1)


def image_files(paths: list[str]) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Classify images with a Few-shot Studio ONNX model")
    parser.add_argument("model", help="the .onnx file")
    parser.add_argument("paths", nargs="+", help="image files or folders")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print a JSON list of {path, label, confidence, top_k}")
    parser.add_argument("--open-set", action=argparse.BooleanOptionalAction, default=None,
                        help="reject images unlike every class (default: as the model was saved)")
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args(argv)

    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    classes = json.loads(meta["class_names"])
    size, resize = int(meta["input_size"]), int(meta["resize_size"])
    outputs = [o.name for o in session.get_outputs()]
    threshold = None
    rule = json.loads(meta["open_set"]) if "open_set" in meta and "nearest_similarity" in outputs else None
    if args.open_set and rule is None:
        print("this model has no open-set threshold", file=sys.stderr)
        return 2
    if rule is not None and (args.open_set or (args.open_set is None and rule.get("enabled"))):
        threshold = float(rule["threshold"])

    rows = []
    files = image_files(args.paths)
    for start in range(0, len(files), args.batch):
        batch, names = [], []
        for path in files[start:start + args.batch]:
            try:
                batch.append(model_input(load_rgb(path, resize), resize, size))
                names.append(str(path))
            except (OSError, ValueError, SyntaxError) as exc:
                print(f"skipped {path}: {exc}", file=sys.stderr)
        if not batch:
            continue
        result = dict(zip(outputs, session.run(None, {meta.get("input_name", "image"): np.stack(batch)})))
        for i, name in enumerate(names):
            probs = result["probabilities"][i]
            order = np.argsort(-probs, kind="stable")[: args.top_k]
            top = [{"label": classes[j], "score": float(probs[j])} for j in order]
            row = {"path": name, "label": top[0]["label"], "confidence": top[0]["score"], "top_k": top}
            if threshold is not None:
                similarity = float(result["nearest_similarity"][i])
                row.update(unknown=similarity < threshold, similarity=similarity)
                if row["unknown"]:
                    row["label"] = None
            rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            label = "unknown (none of these)" if row.get("unknown") else row["label"]
            print(f"{row['path']}  {label}  {row['confidence']:.1%}")
    return 0 if rows else 2


if __name__ == "__main__":
    sys.exit(main())
