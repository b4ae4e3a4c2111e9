"""The "None of these" rule says how far it can be trusted: how many held-out images it was calibrated on."""

from __future__ import annotations

import torch

from fewshot_studio.core.openset import OpenSetRule, calibrate


def test_a_threshold_from_a_few_held_out_images_is_flagged_unreliable_and_twenty_are_enough():
    few = calibrate([0.9, 0.8, 0.7, 0.2], [True, True, True, False])
    assert few.held_out == 3 and few.min_reliable == 20 and not few.reliable  # 5% of 3 images: a guess
    assert 0.7 <= few.threshold < 0.71
    many = calibrate(torch.linspace(0.5, 1.0, 20), torch.ones(20, dtype=torch.bool))
    assert many.held_out == 20 and many.reliable
    assert calibrate([0.9] * 9, [True] * 9, quantile=0.1).min_reliable == 10
    assert calibrate([0.4, 0.5], [False, False]).held_out == 2  # none right: every held-out score counts


def test_a_rule_saved_before_the_count_was_kept_loads_and_is_not_called_reliable():
    old = OpenSetRule.from_dict({"threshold": 0.47, "quantile": 0.05, "enabled": True})
    assert old.threshold == 0.47 and old.enabled and old.held_out == 0 and not old.reliable
    again = OpenSetRule.from_dict(calibrate(torch.linspace(0.5, 1.0, 25), [True] * 25).to_dict())
    assert again.held_out == 25 and again.reliable
