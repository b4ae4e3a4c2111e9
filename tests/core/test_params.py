from __future__ import annotations

import pytest

from fewshot_studio.core.algorithms import get_method
from fewshot_studio.core.errors import ParameterError
from fewshot_studio.core.params import make_params, parse_assignments


def test_strings_are_parsed_against_the_definition():
    params = make_params(get_method("finetune").Params, parse_assignments(["steps=7", "lr=0.5", "augment=no"]))
    assert (params.steps, params.lr, params.augment) == (7, 0.5, False)


@pytest.mark.parametrize("values, message", [
    ({"steps": "many"}, "steps must be int"),
    ({"steps": "0"}, "between 1"),
    ({"augment": "perhaps"}, "true or false"),
    ({"momentum": "0.9"}, "unknown hyperparameter momentum; this method takes: steps"),
])
def test_bad_values_name_the_parameter_and_the_rule(values, message):
    with pytest.raises(ParameterError, match=message):
        make_params(get_method("finetune").Params, values)


def test_choices_and_assignment_syntax():
    with pytest.raises(ParameterError, match="one of cosine, euclidean"):
        make_params(get_method("prototypical").Params, {"distance": "manhattan"})
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        parse_assignments(["lr"])


def test_reptile_reads_files_that_still_hold_its_retired_hyperparameters():
    """Models and checkpoints of 0.1.0 saved Reptile's unused ``first_order`` and ``batched``; they still load."""
    method = get_method("reptile")(**{"first_order": True, "batched": "loop", "inner_steps": 3})
    assert method.params.inner_steps == 3
    assert "first_order" not in method.params_dict() and "batched" not in method.params_dict()
    assert [s.name for s in method.param_specs()] == ["inner_lr", "inner_steps", "adapt_steps", "head_init",
                                                      "batch_norm"]
