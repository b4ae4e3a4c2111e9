"""The GPU running out of memory in the middle of Adapt (injected: no GPU is needed): the window keeps the
previous model and its notice says what to do."""

from __future__ import annotations

import torch
from conftest import RUN_TIMEOUT, drop_and_wait, url_mime

from fewshot_studio.core.algorithms.base import StepReport
from fewshot_studio.core.algorithms.linear_probe import LinearProbe


def test_out_of_memory_mid_run_keeps_the_previous_model_and_says_what_to_do(qtbot, window, shapes, monkeypatch):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("conv4") and window.method_picker.set_current("prototypical")
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    previous = window.classifier
    assert previous is not None

    def greedy(self, task):
        self.n_classes = task.n_classes
        yield StepReport(1.0, 0.5, 0.01)
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(LinearProbe, "fit", greedy)
    assert window.method_picker.set_current("linear_probe")
    failed = []
    window.sig_run_failed.connect(failed.append)
    with qtbot.waitSignals([window.sig_run_failed, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    message = failed[0]
    assert "ran out of memory" in message and "previous model is kept" in message and "--device cpu" in message
    assert window.message_bar.text() == message and window.message_bar.level == "error"
    assert window.message_bar.isVisible()
    assert window.classifier is previous
    assert window.model_panel.adapt_button.text() == "Adapt" and window.model_panel.adapt_button.isEnabled()
