"""Choosing the device a run uses: CUDA, then Apple MPS, then CPU, unless one is forced."""

from __future__ import annotations

import contextlib

import torch

from .device_names import DEVICE_CHOICES
from .errors import DeviceError

MSG_OOM = ("the {memory} ran out of memory ({device}) {during}; {kept}. Use a smaller backbone, {smaller}, "
           "or run on the CPU (--device cpu)")
MSG_OOM_ADAPT = dict(during="while adapting", kept="the previous model is kept", smaller="a smaller batch size")
MSG_OOM_PREDICT = dict(during="while classifying", kept="nothing was changed", smaller="fewer images at a time")
MSG_OOM_META = dict(during="while meta-training", kept="the checkpoints saved before are kept",
                    smaller="a smaller --meta-batch or --image-size")
MSG_OOM_VALIDATE = dict(during="while cross-validating", kept="the previous model is kept",
                        smaller="a smaller batch size")


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


def out_of_memory(device: torch.device | str, words: dict) -> DeviceError:
    """The error to raise for ``torch.cuda.OutOfMemoryError`` (frees what the CUDA cache holds)."""
    device = torch.device(device)
    if device.type == "cuda":
        with contextlib.suppress(RuntimeError):
            torch.cuda.empty_cache()
    memory = "GPU" if device.type in ("cuda", "mps") else "device"
    return DeviceError(MSG_OOM.format(memory=memory, device=device_label(device), **words))


@contextlib.contextmanager
def out_of_memory_as_error(device: torch.device | str, words: dict):
    """A block in which running out of GPU memory raises :func:`out_of_memory`'s DeviceError instead."""
    try:
        yield
    except torch.cuda.OutOfMemoryError:
        raise out_of_memory(device, words) from None


def guard_out_of_memory(events, device: torch.device | str, words: dict):
    """Yield from ``events`` (a run's generator), raising :func:`out_of_memory`'s DeviceError for an OOM."""
    try:
        return (yield from events)
    except torch.cuda.OutOfMemoryError:
        raise out_of_memory(device, words) from None


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
