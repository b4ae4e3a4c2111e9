"""Taking photos into a class and classifying the camera feed live, without a camera: frames are fed through
the same method the camera's video sink calls. Without a camera (or QtMultimedia) the studio says so."""

from __future__ import annotations

import pytest
from conftest import RUN_TIMEOUT, drop_and_wait, url_mime
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from fewshot_studio.core.paths import studio_home
from fewshot_studio.gui import camera
from fewshot_studio.gui.camera import CameraPanel


def frame(colour: str = "#d03030", size=(320, 240)) -> QImage:
    """A synthetic camera frame: a coloured square on grey."""
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor("#808080"))
    painter = QPainter(image)
    painter.fillRect(QRect(size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), QColor(colour))
    painter.end()
    return image


def feed(panel: CameraPanel, image: QImage) -> None:
    """Deliver a frame the way the camera does, through a QVideoSink, when QtMultimedia is there; without it,
    to the method the sink's frames end in."""
    qtm, _ = camera.multimedia()
    if qtm is None:
        panel.on_frame(image)
        return
    if panel.sink is None:
        panel.attach_sink(qtm.QVideoSink(panel))
    panel.sink.setVideoFrame(qtm.QVideoFrame(image))


def load_shapes(qtbot, window, shapes) -> None:
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))


def panel_for(qtbot, window, **kwargs) -> CameraPanel:
    panel = CameraPanel(window.board, lambda: window.classifier, **kwargs)
    qtbot.addWidget(panel)
    return panel


def test_without_a_camera_the_action_says_so_and_nothing_breaks(qtbot, window, monkeypatch):
    monkeypatch.setattr(camera, "find_cameras", lambda: ([], ""))
    window.act_camera.trigger()
    assert "No camera found" in window.message_bar.text()
    assert window.camera_dialog is None
    assert window.act_new_class.isEnabled(), "the rest of the studio works as before"


def test_without_qtmultimedia_the_action_says_what_to_install(qtbot, window, monkeypatch):
    monkeypatch.setattr(camera, "multimedia", lambda: (None, "libpulse.so.0: cannot open shared object file"))
    window.act_camera.trigger()
    text = window.message_bar.text()
    assert "QtMultimedia" in text and "fewshot-studio[camera]" in text and "libpulse0" in text
    assert window.camera_dialog is None


def test_the_real_camera_lookup_never_crashes(qtbot, window):
    """Whatever this machine has (no QtMultimedia, no camera, or a camera), the action answers."""
    opened = window.show_camera()
    if opened:
        window.camera_dialog.close()
    else:
        assert "camera" in window.message_bar.text().lower() or "QtMultimedia" in window.message_bar.text()


def test_a_photo_is_saved_as_png_in_the_studio_folder_and_added_to_the_chosen_class(qtbot, window, shapes):
    load_shapes(qtbot, window, shapes)
    target = window.support.class_names[1]
    before = list(window.support[target].images)
    panel = panel_for(qtbot, window)
    assert not panel.capture_button.isEnabled(), "nothing to take before the first frame"
    feed(panel, frame())
    assert panel.frames == 1 and panel.capture_button.isEnabled()
    panel.class_combo.refresh(target)
    with qtbot.waitSignal(window.board.sig_import_finished, timeout=30_000):
        qtbot.mouseClick(panel.capture_button, Qt.MouseButton.LeftButton)
    added = [p for p in window.support[target].images if p not in before]
    assert len(added) == 1
    photo = added[0]
    assert photo.parent == studio_home() / "camera" and photo.suffix == ".png"
    saved = QImage(str(photo))
    assert (saved.width(), saved.height()) == (320, 240)
    assert saved.pixelColor(160, 120) == QColor("#d03030")


def test_a_photo_for_a_new_class_makes_one(qtbot, window, shapes):
    load_shapes(qtbot, window, shapes)
    n = len(window.support)
    panel = panel_for(qtbot, window)
    feed(panel, frame("#3050d0"))
    panel.class_combo.refresh("")  # "A new class"
    assert panel.class_combo.target() is None
    with qtbot.waitSignal(window.board.sig_import_finished, timeout=30_000):
        assert panel.capture()
    assert len(window.support) == n + 1


def test_the_camera_feed_is_classified_live_off_the_gui_thread_and_throttled(qtbot, window, shapes):
    load_shapes(qtbot, window, shapes)
    # The window's camera window, as Take photos... makes it once a camera is found (not started here).
    window.camera_dialog = camera.CameraDialog(window.board, lambda: window.classifier, parent=window)
    panel = window.camera_dialog.panel
    panel.live.interval = 0.2
    assert not panel.live_check.isEnabled(), "no model yet"
    assert "Adapt a model first" in panel.live_label.text()
    assert window.backbone_picker.set_current("conv4") and window.method_picker.set_current("prototypical")
    with qtbot.waitSignal(window.sig_run_finished, timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    assert panel.live_check.isEnabled(), "the window tells the panel about the new model"
    panel.live_check.setChecked(True)
    with qtbot.waitSignal(panel.live.sig_prediction, timeout=RUN_TIMEOUT) as blocker:
        feed(panel, frame())
    prediction = blocker.args[0]
    assert prediction.path == camera.CAMERA_NAME
    assert prediction.label in window.support.class_names
    assert 0 < prediction.confidence <= 1 and prediction.top_k[0] == (prediction.label, prediction.confidence)
    assert prediction.label in panel.live_label.text()

    # Thirty frames at once: one is being classified, the newest waits, the rest are dropped.
    done = panel.live.classified
    for i in range(30):
        feed(panel, frame("#30d050" if i % 2 else "#d03030"))
    qtbot.waitUntil(lambda: not panel.live.busy and panel.live._pending is None, timeout=RUN_TIMEOUT)
    assert 1 <= panel.live.classified - done <= 2
    assert panel.frames == 31

    panel.live_check.setChecked(False)
    feed(panel, frame())
    assert panel.live._pending is None and panel.live_label.text() == ""


@pytest.mark.parametrize("fmt", [QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32, QImage.Format.Format_RGB888,
                                 QImage.Format.Format_Grayscale8])
def test_frames_of_any_format_reach_the_engine_as_rgb(qapp, fmt):
    image = frame(size=(101, 37)).convertToFormat(fmt)  # an odd width: rows are padded in memory
    pil = camera.qimage_to_pil(image)
    assert pil.mode == "RGB" and pil.size == (101, 37)
    assert pil.getpixel((0, 0)) == (128, 128, 128)
    centre = pil.getpixel((50, 18))
    if fmt != QImage.Format.Format_Grayscale8:
        assert centre == (0xd0, 0x30, 0x30)
