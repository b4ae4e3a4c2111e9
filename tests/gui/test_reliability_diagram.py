"""The validation page's reliability diagram: after Validate, bars of held-out accuracy per confidence bin."""

from __future__ import annotations

import pytest
from conftest import RUN_TIMEOUT, drop_and_wait, url_mime
from imagegen import make_confusable_folder
from PySide6.QtCore import Qt


def test_validate_draws_the_reliability_diagram_with_bars(qtbot, window, tmp_path):
    folder = make_confusable_folder(tmp_path / "confusable", per_class=5)
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([folder]))
    assert window.method_picker.set_current("prototypical")
    window.validation.action.trigger()
    page = window.validation.page
    diagram = page.details.reliability
    assert diagram.bars == [] and "Validate" in diagram.caption.text()

    with qtbot.waitSignals([page.sig_validation_finished, page.sig_ended], order="strict", timeout=RUN_TIMEOUT):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
    r = page.result
    cal = r.calibration()
    before, after = diagram.bar_heights()
    assert before == pytest.approx([b["accuracy"] for b in r.reliability(1.0) if b["count"]])
    assert after == pytest.approx([b["accuracy"] for b in r.reliability(cal.temperature) if b["count"]])
    assert before and all(0 <= h <= 1 for h in before + after)
    assert diagram.isVisible() and diagram.plot.isVisible()
    assert f"{cal.ece_before:.3f} before" in diagram.caption.text()
    assert f"{cal.ece_after:.3f} after" in diagram.caption.text()
