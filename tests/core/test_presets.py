"""Presets: the registry's recipes are valid MetaTrainConfig values, and explicit choices win."""

from __future__ import annotations

import pytest

from fewshot_studio.core.algorithms import get_method
from fewshot_studio.core.errors import UnknownNameError
from fewshot_studio.core.meta_train import MetaTrainConfig
from fewshot_studio.core.presets import get_preset, list_presets, preset_values


@pytest.mark.parametrize("preset", list_presets(), ids=lambda p: p.name)
def test_every_preset_makes_a_config_its_method_accepts(preset):
    config = MetaTrainConfig(datasets=["x.npz"], **preset_values(preset.name, {}))
    assert config.preset == preset.name and config.method == preset.method
    get_method(config.method)(**config.params)  # the hyperparameters are the method's own
    assert preset.evidence  # every recipe says how it was chosen


def test_explicit_values_win_and_params_merge():
    values = preset_values("protonet", {"ways": 7, "shots": None, "params": {"scale": 3.0}})
    assert values["ways"] == 7 and values["shots"] == get_preset("protonet").values["shots"]
    assert values["params"] == {"distance": "l2", "scale": 3.0}


def test_no_preset_leaves_the_defaults():
    assert preset_values(None, {"ways": None, "lr": 0.01}) == {"lr": 0.01}


def test_an_unknown_preset_lists_the_choices():
    with pytest.raises(UnknownNameError, match="choose one of: protonet"):
        get_preset("nope")
