"""The meta-learning interface is declared, not guessed (import cycles: tests/test_architecture.py)."""

from __future__ import annotations

from fewshot_studio.core.algorithms import MetaLearner, get_method, is_meta_learner, list_methods


def test_meta_trainable_methods_are_the_meta_learners():
    names = [cls.name for cls in list_methods() if is_meta_learner(cls)]
    assert names == ["prototypical", "pmf", "maml", "fomaml", "anil", "reptile", "matching", "relation", "cnp"]
    assert not is_meta_learner(get_method("linear_probe")) and not is_meta_learner(get_method("finetune")())
    assert all(isinstance(cls(), MetaLearner) for cls in list_methods() if is_meta_learner(cls))
