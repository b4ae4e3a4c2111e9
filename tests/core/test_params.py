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
