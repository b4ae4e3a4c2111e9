"""Reading and writing bare state dicts (.safetensors, or .pth/.pt read with ``weights_only=True``).

Nothing read here can run code: safetensors holds only tensors, and PyTorch files are opened with
``torch.load(weights_only=True)``, whose unpickler accepts tensors and plain containers only.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import BackboneError, ModelFileError
from .safe_write import OutputPathError, atomic_write

TORCH_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")
MSG_FORMAT = "{path}: weights must be a .safetensors file or a PyTorch state dict (.pth, .pt)"
MSG_UNREADABLE = "{path}: cannot read these weights ({error}); the file may be truncated or not a state dict"
MSG_NOT_STATE_DICT = ("{path}: this file holds a {kind}, not a state dict of tensors; save "
                      "model.state_dict() instead")


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise BackboneError(f"{path}: weights file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            state = load_file(str(path), device="cpu")
        elif suffix in TORCH_SUFFIXES:
            state = torch.load(path, map_location="cpu", weights_only=True)
        else:
            raise BackboneError(MSG_FORMAT.format(path=path))
    except BackboneError:
        raise
    except (SafetensorError, RuntimeError, OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackboneError(MSG_UNREADABLE.format(path=path, error=first[:200])) from None
    except Exception as exc:  # the restricted unpickler raises UnpicklingError and friends
        raise BackboneError(MSG_UNREADABLE.format(path=path, error=type(exc).__name__)) from None
    for key in ("state_dict", "model", "model_state_dict"):  # common checkpoint wrappers
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BackboneError(MSG_NOT_STATE_DICT.format(path=path, kind=type(state).__name__))
    return state


def write_state_dict(state: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None, *,
                     inputs=()) -> Path:
    """Save tensors as safetensors through :func:`~.safe_write.atomic_write` (copies break shared storage, which
    safetensors refuses). ``inputs``: ``(what, path)`` pairs that must not be overwritten."""
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata), inputs=inputs)


def write_atomically(state: dict[str, torch.Tensor], path: Path, metadata: dict[str, str], *, inputs=()) -> Path:
    """:func:`write_state_dict`, and a ModelFileError with what to do when the place cannot be written."""
    path = Path(path)
    try:
        return write_state_dict(state, path, metadata, inputs=inputs)
    except OutputPathError as exc:
        raise ModelFileError(str(exc)) from None
    except (OSError, SafetensorError) as exc:
        raise ModelFileError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}; "
                             "choose a folder you can write to") from None
