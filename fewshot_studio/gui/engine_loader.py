"""Loading the engine (torch, torchvision, the registries) and pyqtgraph after the window is on screen.

``import torch`` takes about 2 s here and torchvision 3-4 s; the window shows first and this loads behind
it. The first optimizer built in a process imports ``torch._dynamo`` (about 900 modules, 1-3 s, holding
the GIL): that is done here too, with a throwaway Adam, so that it never happens inside the first run,
where it stalled the event loop for ~150 ms.

The import runs in a background thread by default: measured on this 2-core machine
(benchmarks/gui_launch.py), the longest event-loop stall while it runs is a few hundred milliseconds,
against 4-6 s of a frozen window when it runs in the GUI thread. No run can start before it has finished.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from .pickers import BackboneInfo


@dataclass
class EngineInfo:
    """What the window needs from the engine's registries, gathered once."""

    backbones: list[BackboneInfo]
    methods: list[tuple[str, str, str]]  # (name, title, description)
    param_specs: dict[str, list] = field(default_factory=dict)  # method name -> [ParamSpec]
    adaptations: list[tuple[str, str, str]] = field(default_factory=list)  # stages: (name, title, description)
    default_backbone: str = ""
    default_method: str = ""
    device: str = "CPU"  # what the user reads: "CPU", "GPU: NVIDIA ..."
    offline: bool = False
    seconds: float = 0.0


def backbone_info(spec) -> BackboneInfo:
    status = spec.weights_status()
    return BackboneInfo(spec.name, spec.description, spec.family, bool(spec.pretrained), status.available,
                        status.source, status.detail, spec.kind)


def load_engine() -> EngineInfo:
    """Import everything a run needs and read the registries (seconds, the first time in a process)."""
    start = time.perf_counter()
    import pyqtgraph  # noqa: F401 - imported here (0.4 s), only its widgets are made in the GUI thread
    import torch

    from ..core import classifier, engine, model_io  # noqa: F401 - imported now, not during a run
    from ..core.adaptation import list_adaptations
    from ..core.algorithms import DEFAULT_METHOD, list_methods
    from ..core.backbones import DEFAULT_BACKBONE, list_backbones
    from ..core.devices import device_label, resolve_device
    from ..core.paths import offline

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # imports torch._dynamo
    specs = list_backbones()  # imports torchvision
    methods = list_methods()
    return EngineInfo(
        backbones=[backbone_info(s) for s in specs],
        methods=[(m.name, m.title, m.description) for m in methods],
        param_specs={m.name: list(m.param_specs()) for m in methods},
        adaptations=[(a.name, a.title, a.description) for a in list_adaptations()],
        default_backbone=DEFAULT_BACKBONE, default_method=DEFAULT_METHOD,
        device=device_label(resolve_device("auto")), offline=offline(),
        seconds=time.perf_counter() - start)


class EngineLoader(QObject):
    """Runs :func:`load_engine` once and reports in the GUI thread."""

    sig_loaded = Signal(object)  # EngineInfo
    sig_failed = Signal(object, str)  # the exception and its traceback text

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.thread: threading.Thread | None = None

    def start(self, in_thread: bool = True) -> None:
        if in_thread:
            # A daemon thread: a hung import must not keep the process alive after the window closed.
            self.thread = threading.Thread(target=self._run, name="engine-loader", daemon=True)
            self.thread.start()
        else:
            self._run()

    def _run(self) -> None:
        try:
            info = load_engine()
        except Exception as exc:  # noqa: BLE001 - shown in the window with what to do
            text = traceback.format_exc()
            exc.__traceback__ = None
            self._emit(self.sig_failed, exc, text)
        else:
            self._emit(self.sig_loaded, info)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window went away while loading
            pass
