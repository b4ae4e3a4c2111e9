"""Choosing the device a run uses: CUDA, then Apple MPS, then CPU, unless one is forced."""

from __future__ import annotations

import contextlib

import torch

from .device_names import DEVICE_CHOICES
from .errors import DeviceError


def resolve_device(requested: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks the best device present; anything else must exist or a DeviceError says so."""
    text = str(requested).strip().lower() or "auto"
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise DeviceError(f"unknown device {requested!r}; use one of: {', '.join(DEVICE_CHOICES)} "
                          "(or cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError("CUDA was requested but no CUDA GPU is usable here; use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"there is no {device}; this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    if device.type == "mps" and not _mps_available():
        raise DeviceError("Apple MPS was requested but is not available here; use --device cpu or auto")
    return device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def inference_batch(device: torch.device) -> int:
    """Images per forward pass without gradients: small on CPU (cache-friendly; measured in
    BENCHMARKS.md: 4 beats 8, 13 and 25 with EfficientNet-Lite0 on 2 cores), large on GPUs."""
    return 4 if torch.device(device).type == "cpu" else 64


def device_label(device: torch.device | str) -> str:
    """What the user reads: the GPU's name, "Apple GPU (MPS)" or "CPU"."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


class Precision:
    """Mixed precision on CUDA (bfloat16 where supported, else float16 with loss scaling); float32 elsewhere."""

    def __init__(self, device: torch.device, enabled: bool = True):
        self.enabled = enabled and device.type == "cuda"
        self.device = device
        self.dtype = (torch.bfloat16 if self.enabled and torch.cuda.is_bf16_supported() else torch.float16)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.enabled and self.dtype == torch.float16)

    def autocast(self):
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Backward pass and optimizer step, with loss scaling when float16 needs it."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()
