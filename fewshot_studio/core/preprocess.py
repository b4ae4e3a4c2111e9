"""Images -> normalised tensors for a backbone, and the random views used while adapting.

An image is loaded once into a *base* tensor: uint8, shape (3, R, R), the shorter side resized to R and
centre-cropped (R = ``resize_size``). The model sees either the centre ``input_size`` crop of it
(:meth:`Preprocess.view`) or a random resized crop with flips and light colour jitter
(:meth:`Preprocess.augment`). Plain torch, so that the default path needs no torchvision import.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .images import load_image


MAX_SIDE = 4096  # pixels: a larger side in a model file is damage, not a model


@dataclass(frozen=True)
class Preprocess:
    """How a backbone wants its pixels. ``mean``/``std`` apply to values scaled to 0..1."""

    input_size: int = 224
    resize_size: int = 256
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Preprocess:
        """Preprocessing as a file states it; ValueError (or KeyError, TypeError) when it cannot be right."""
        pre = cls(int(data["input_size"]), int(data["resize_size"]), tuple(map(float, data["mean"])),
                  tuple(map(float, data["std"])))
        if not 1 <= pre.input_size <= pre.resize_size <= MAX_SIDE:
            raise ValueError(f"image sizes {pre.input_size} and {pre.resize_size} are not 1 <= input <= resize <= "
                             f"{MAX_SIDE}")
        if len(pre.mean) != 3 or len(pre.std) != 3 or not all(math.isfinite(v) for v in pre.mean + pre.std) \
                or min(pre.std) <= 0:
            raise ValueError("mean and std must be three finite numbers each, std above 0")
        return pre

    def at_size(self, size: int | None) -> Preprocess:
        """The same normalisation for a model input of ``size`` pixels (None: unchanged). Small inputs (Omniglot's
        28) are not cropped; larger ones keep the usual 8/7 margin for the crop."""
        if size is None or size == self.input_size:
            return self
        return Preprocess(size, size if size <= 32 else round(size * 8 / 7), self.mean, self.std)

    # --- loading -------------------------------------------------------------------------------------
    def base(self, img: Image.Image) -> torch.Tensor:
        """PIL RGB image -> uint8 tensor of shape (3, R, R)."""
        r = self.resize_size
        w, h = img.size
        scale = r / min(w, h)
        size = (max(r, round(w * scale)), max(r, round(h * scale)))
        img = img.resize(size, Image.BILINEAR, reducing_gap=3.0)
        left, top = (size[0] - r) // 2, (size[1] - r) // 2
        img = img.crop((left, top, left + r, top + r))
        return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)

    def load(self, paths: Sequence[str | os.PathLike]) -> torch.Tensor:
        """Image files -> uint8 tensor of shape (N, 3, R, R). Raises ImageError on a bad file."""
        if not paths:
            return torch.empty(0, 3, self.resize_size, self.resize_size, dtype=torch.uint8)
        return torch.stack([self.base(load_image(p, draft_size=self.resize_size)) for p in paths])

    # --- views ---------------------------------------------------------------------------------------
    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, H, W) -> float32 normalised, on x's device."""
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        # one float copy, then in place: a meta-batch of 32 Omniglot tasks is 30 MB a copy, and three temporaries
        # of that size (and the allocator's high-water mark after them) were the largest part of a meta-step's peak
        return x.to(torch.float32, copy=True).div_(255.0).sub_(mean).div_(std)

    def view(self, base: torch.Tensor) -> torch.Tensor:
        """Deterministic model input: centre crop of the base tensors, normalised. (N, 3, S, S)."""
        s, r = self.input_size, base.shape[-1]
        o = (r - s) // 2
        return self.normalise(base[..., o:o + s, o:o + s])

    def augment(self, base: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Random view of each image: resized crop (35-100% of the area), flip, brightness/contrast.

        base: uint8 (N, 3, R, R) -> float32 normalised (N, 3, S, S).
        """
        n, _, r, _ = base.shape
        s = self.input_size
        rand = torch.rand(n, 6, generator=generator).tolist()
        views = []
        for img, (u_area, u_ratio, u_x, u_y, u_flip, _) in zip(base, rand):
            area = r * r * (0.35 + 0.65 * u_area)
            ratio = math.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * u_ratio)
            cw = min(r, max(8, round(math.sqrt(area * ratio))))
            ch = min(r, max(8, round(math.sqrt(area / ratio))))
            x0, y0 = round(u_x * (r - cw)), round(u_y * (r - ch))
            crop = img[:, y0:y0 + ch, x0:x0 + cw].unsqueeze(0).float()
            crop = F.interpolate(crop, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
            if u_flip < 0.5:
                crop = crop.flip(-1)
            views.append(crop)
        x = torch.cat(views) / 255.0
        jitter = torch.rand(n, 2, generator=generator).to(x.device)
        brightness = (0.8 + 0.4 * jitter[:, 0]).view(n, 1, 1, 1)
        contrast = (0.8 + 0.4 * jitter[:, 1]).view(n, 1, 1, 1)
        grey = x.mean(dim=(1, 2, 3), keepdim=True)
        x = ((x * brightness - grey) * contrast + grey).clamp(0, 1)
        return self.normalise(x * 255.0)
