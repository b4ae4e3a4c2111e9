"""CNP's decoders: the comparing one by default, and files holding the concatenating one still load as such."""

from __future__ import annotations

import torch

from fewshot_studio.core.algorithms import get_method


def fitted(decoder: str | None, seed: int = 0):
    torch.manual_seed(seed)
    method = get_method("cnp")(**({"decoder": decoder} if decoder else {}))
    method.ensure_nets((16,), "cpu")
    features, labels = torch.randn(6, 16), torch.tensor([0, 0, 1, 1, 2, 2])
    method.context = method.support_context(features, labels, 3)
    return method


def test_the_default_decoder_compares_encodings():
    method = fitted(None)
    assert method.params.decoder == "compare" and set(method.nets) == {"encoder", "comparer"}
    assert method.query_logits(torch.randn(4, 16), method.context).shape == (4, 3)


def test_a_file_with_the_concatenating_decoder_loads_as_one():
    """Files saved before the comparing decoder have no `decoder` parameter: their modules say which it is."""
    old = fitted("concat")
    state = {k: v.clone() for k, v in old.head_state().items()}
    assert any(k.startswith("nets.decoder.") for k in state)
    loaded = get_method("cnp")()  # the default, compare, as a file without the parameter reads
    loaded.load_head_state(state)
    assert loaded.params.decoder == "concat"
    queries = torch.randn(5, 16)
    torch.testing.assert_close(loaded.query_logits(queries, loaded.context), old.query_logits(queries, old.context))
    meta = get_method("cnp")()
    meta.load_meta_state(state)
    assert meta.params.decoder == "concat" and "decoder" in meta.nets
    new = fitted("compare")
    back = get_method("cnp")(decoder="concat")
    back.load_head_state(new.head_state())
    assert back.params.decoder == "compare"
