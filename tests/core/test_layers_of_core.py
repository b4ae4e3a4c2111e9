"""The engine's structure: no import cycle among its modules (imports inside functions count too), and the
meta-learning interface is declared, not guessed."""

from __future__ import annotations

import grimp

from fewshot_studio.core.algorithms import MetaLearner, get_method, is_meta_learner, list_methods


def _cycles(graph, prefix: str) -> list[list[str]]:
    """Strongly connected components of more than one module among ``prefix``'s modules (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if not w.startswith(prefix):
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(m for m in graph.modules if m.startswith(prefix)):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_among_core_modules():
    graph = grimp.build_graph("fewshot_studio", cache_dir=None)
    assert _cycles(graph, "fewshot_studio.core") == []


def test_meta_trainable_methods_are_the_meta_learners():
    names = [cls.name for cls in list_methods() if is_meta_learner(cls)]
    assert names == ["prototypical", "pmf", "maml", "fomaml", "anil", "reptile", "matching", "relation", "cnp"]
    assert not is_meta_learner(get_method("linear_probe")) and not is_meta_learner(get_method("finetune")())
    assert all(isinstance(cls(), MetaLearner) for cls in list_methods() if is_meta_learner(cls))
