"""Preprocess's views: the normalised values, and the caller's tensors left as they were (normalise works in place
on its own copy)."""

from __future__ import annotations

import torch

from fewshot_studio.core.preprocess import Preprocess


def test_normalise_gives_the_formula_and_leaves_its_input_alone():
    pre = Preprocess(4, 4, (0.5, 0.25, 0.0), (0.5, 0.25, 1.0))
    base = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    kept = base.clone()
    out = pre.view(base)
    expected = (base.float() / 255 - torch.tensor([0.5, 0.25, 0.0]).view(1, 3, 1, 1)) \
        / torch.tensor([0.5, 0.25, 1.0]).view(1, 3, 1, 1)
    assert out.dtype == torch.float32 and torch.allclose(out, expected, atol=1e-6)
    assert torch.equal(base, kept)


def test_normalise_of_a_float_tensor_does_not_write_into_it():
    pre = Preprocess(4, 4, (0.5,) * 3, (0.5,) * 3)
    x = torch.full((1, 3, 4, 4), 255.0)
    out = pre.normalise(x)
    assert torch.equal(x, torch.full((1, 3, 4, 4), 255.0))  # a float input is the caller's: copied, not changed
    assert torch.allclose(out, torch.ones_like(out))


def test_augment_views_are_normalised_images_and_repeat_with_the_generator():
    pre = Preprocess(8, 10, (0.5,) * 3, (0.5,) * 3)
    base = torch.randint(0, 256, (3, 3, 10, 10), dtype=torch.uint8)
    a = pre.augment(base, torch.Generator().manual_seed(3))
    b = pre.augment(base, torch.Generator().manual_seed(3))
    assert a.shape == (3, 3, 8, 8) and torch.equal(a, b)
    assert a.min() >= -1 - 1e-6 and a.max() <= 1 + 1e-6  # 0..1 normalised with mean 0.5, std 0.5
