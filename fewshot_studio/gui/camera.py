"""The camera window: take photos from a webcam into a class, and classify the camera feed live.

Every frame enters through :meth:`CameraPanel.on_frame` (a ``QImage``): the camera's ``QVideoSink``
feeds it through :meth:`CameraPanel.on_video_frame`, and tests feed it directly, so the capture and
live-classification paths are the same with or without a camera. A photo is saved as PNG in the
studio's ``camera`` folder and added to the chosen class (as a pasted image is). Live classification
uses the adapted model off the GUI thread, one frame at a time and at most every ``interval`` seconds;
frames that arrive meanwhile replace the waiting one and are never queued.

QtMultimedia comes with PySide6-Addons (``pip install "fewshot-studio[camera]"``) and needs the system's
``libpulse0``. Without them, or without a camera, the studio works the same: Edit > Take photos says why.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from .jobs import use_torch_threads
from .notices import exception_text
from .tasks import TaskRunner

CAMERA_NAME = "camera"  # what a live prediction's ``path`` says, and the folder photos are saved in
LIVE_INTERVAL = 0.5  # seconds between the starts of two live classifications
PREVIEW_INTERVAL = 1 / 15  # seconds between two preview repaints (the camera may send 30 frames a second)
MSG_NO_MULTIMEDIA = QT_TRANSLATE_NOOP("CameraPanel", "Camera capture needs QtMultimedia, which is not available "
                                      "here ({error}). Install it with: pip install \"fewshot-studio[camera]\" "
                                      "(PySide6-Addons), and the system's libpulse0.")
MSG_NO_CAMERA = QT_TRANSLATE_NOOP("CameraPanel", "No camera found. Connect a webcam and try again; until then, "
                                  "add images by dropping or pasting them.")


def multimedia():
    """PySide6.QtMultimedia, or the reason it cannot be imported (PySide6-Addons missing, or libpulse0)."""
    try:
        from PySide6 import QtMultimedia
    except ImportError as exc:  # also raised when a system library such as libpulse.so.0 is missing
        return None, str(exc)
    return QtMultimedia, ""


def find_cameras() -> tuple[list, str]:
    """The cameras (``QCameraDevice``) and "" or, when QtMultimedia is unavailable, [] and the reason."""
    qtm, error = multimedia()
    if qtm is None:
        return [], error
    return list(qtm.QMediaDevices.videoInputs()), ""


def camera_problem() -> str:
    """Why the camera window cannot open (translated), or "" when a camera is there."""
    cameras, error = find_cameras()
    if error:
        return QCoreApplication.translate("CameraPanel", MSG_NO_MULTIMEDIA).format(error=error)
    if not cameras:
        return QCoreApplication.translate("CameraPanel", MSG_NO_CAMERA)
    return ""


# --- frames to the engine (runs in a worker thread) -----------------------------------------------------------
def qimage_to_pil(image: QImage):
    """A QImage of any format -> PIL RGB image (a copy)."""
    import numpy as np
    from PIL import Image

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return Image.fromarray(data[:, :w * 3].reshape(h, w, 3).copy(), "RGB")


def classify_frame(classifier, image: QImage, threads: int = 1):
    """One frame -> the classifier's :class:`~fewshot_studio.core.classifier.Prediction` (named "camera")."""
    use_torch_threads(threads)
    base = classifier.preprocess.base(qimage_to_pil(image))
    return classifier.predict_images(base[None], names=[CAMERA_NAME])[0]


class LiveClassifier(QObject):
    """Classifies the newest frame it was given, off the GUI thread: one at a time, and at most one start
    every ``interval`` seconds. A frame given while one is being classified waits, replacing any frame
    that was waiting, so a slow model shows the newest frame's class, never a backlog."""

    sig_prediction = Signal(object)  # the Prediction for the newest frame classified
    sig_failed = Signal(str)  # why classifying a frame failed

    def __init__(self, classifier: Callable[[], object], *, threads: int = 1, interval: float = LIVE_INTERVAL,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.classifier = classifier  # called for each frame: the current model, or None
        self.threads = threads
        self.interval = interval
        self.tasks = TaskRunner(self, threads=1)
        self.busy = False
        self.classified = 0  # frames classified so far
        self._pending: QImage | None = None
        self._last_start = -1e9
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)

    def submit(self, image: QImage) -> None:
        self._pending = image
        self._schedule()

    def _schedule(self) -> None:
        if self.busy or self._pending is None or self._timer.isActive():
            return
        wait = self.interval - (time.monotonic() - self._last_start)
        if wait > 0:
            self._timer.start(max(1, int(wait * 1000)))
        else:
            self._start()

    def _start(self) -> None:
        classifier = self.classifier()
        if self.busy or self._pending is None or classifier is None:
            return
        image, self._pending = self._pending.copy(), None
        self.busy = True
        self._last_start = time.monotonic()
        self.tasks.submit(classify_frame, classifier, image, self.threads, on_done=self._done, on_failed=self._failed)

    def _done(self, prediction) -> None:
        self.busy = False
        self.classified += 1
        self.sig_prediction.emit(prediction)
        self._schedule()

    def _failed(self, exc: Exception, _text: str) -> None:
        self.busy = False
        self.sig_failed.emit(exception_text(exc, "{error}")[0])
        self._schedule()

    def stop(self) -> None:
        """Forget the waiting frame (the running one, if any, still reports)."""
        self._pending = None
        self._timer.stop()

    def shutdown(self) -> None:
        self.stop()
        self.tasks.shutdown()


class _ClassCombo(QComboBox):
    """The classes of the board, read again each time the list opens (classes come and go meanwhile)."""

    def __init__(self, names: Callable[[], list[str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.names = names
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh()

    def refresh(self, current: str | None = None) -> None:
        current = self.currentData() if current is None else current
        self.blockSignals(True)
        self.clear()
        for name in self.names():
            self.addItem(name, name)
        self.addItem(self.tr("A new class"), "")
        row = self.findData(current if current is not None else "")
        self.setCurrentIndex(row if row >= 0 else self.count() - 1)
        self.blockSignals(False)

    def showPopup(self) -> None:
        self.refresh()
        super().showPopup()

    def target(self) -> str | None:
        """The chosen class, or None for a new class."""
        data = self.currentData()
        return data if isinstance(data, str) and data in self.names() else None


class CameraPanel(QWidget):
    """Preview, Take photo into a class, and the live class of what the camera sees."""

    sig_captured = Signal(str)  # a photo was taken for this class ("" for a new class); it is being saved and added
    sig_frame = Signal()  # a frame arrived (after the preview and the live classifier got it)

    def __init__(self, board, classifier: Callable[[], object], *, threads: int = 1,
                 interval: float = LIVE_INTERVAL, parent: QWidget | None = None):
        super().__init__(parent)
        self.board = board
        self.classifier = classifier
        self.frame: QImage | None = None  # the newest frame
        self.frames = 0
        self.camera = None  # QCamera while running
        self.session = None
        self.sink = None
        self._last_preview = 0.0
        self.live = LiveClassifier(classifier, threads=threads, interval=interval, parent=self)
        self.live.sig_prediction.connect(self._on_prediction)
        self.live.sig_failed.connect(self._on_live_failed)

        self.preview = QLabel(self.tr("Waiting for the camera..."))
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(320, 240)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview.setObjectName("CameraPreview")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.camera_combo = QComboBox()
        self.camera_combo.setToolTip(self.tr("The camera to use"))
        self.camera_combo.currentIndexChanged.connect(self._on_camera_chosen)
        self.class_combo = _ClassCombo(lambda: list(self.board.support.class_names) if self.board.support else [])
        self.class_combo.setToolTip(self.tr("The class that photos are added to"))
        self.class_combo.refresh(board.current_class)
        self.capture_button = QPushButton(self.tr("Take photo"))
        self.capture_button.setToolTip(self.tr("Save the current frame as a PNG image and add it to the class "
                                               "(Space)"))
        self.capture_button.clicked.connect(self.capture)
        self.capture_button.setEnabled(False)
        self.live_check = QCheckBox(self.tr("Classify live"))
        self.live_check.setToolTip(self.tr("Classify what the camera sees with the adapted model, about twice a "
                                           "second"))
        self.live_check.toggled.connect(self._on_live_toggled)
        self.live_label = QLabel()
        self.live_label.setWordWrap(True)
        self.live_label.setTextFormat(Qt.TextFormat.RichText)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # it quotes class names, devices and errors
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.capture)

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Camera:")))
        top.addWidget(self.camera_combo, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Add to:")))
        row.addWidget(self.class_combo, 1)
        row.addWidget(self.capture_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        layout.addLayout(row)
        layout.addWidget(self.live_check)
        layout.addWidget(self.live_label)
        layout.addWidget(self.status)
        self.update_model()

    # --- the camera (QtMultimedia) -----------------------------------------------------------------------
    def start(self) -> str:
        """Fill the camera list and start the first camera; returns why it cannot ("" when it runs)."""
        cameras, error = find_cameras()
        if error:
            problem = QCoreApplication.translate("CameraPanel", MSG_NO_MULTIMEDIA).format(error=error)
        elif not cameras:
            problem = QCoreApplication.translate("CameraPanel", MSG_NO_CAMERA)
        else:
            problem = ""
        self.camera_combo.blockSignals(True)
        self.camera_combo.clear()
        for device in cameras:
            self.camera_combo.addItem(device.description(), device)
        self.camera_combo.blockSignals(False)
        self.camera_combo.setEnabled(len(cameras) > 1)
        if problem:
            self.status.setText(problem)
            self.preview.setText(problem)
            return problem
        self._start_camera(cameras[0])
        return ""

    def _start_camera(self, device) -> None:
        qtm, _ = multimedia()
        self.stop_camera()
        self.session = qtm.QMediaCaptureSession(self)
        self.camera = qtm.QCamera(device, self)
        self.camera.errorOccurred.connect(self._on_camera_error)
        self.session.setCamera(self.camera)
        self.session.setVideoSink(self.attach_sink(qtm.QVideoSink(self)))
        self.camera.start()
        self.status.setText(self.tr("Camera: {name}").format(name=device.description()))

    def _on_camera_chosen(self, row: int) -> None:
        device = self.camera_combo.itemData(row)
        if device is not None:
            self._start_camera(device)

    def _on_camera_error(self, _error, text: str) -> None:
        self.status.setText(self.tr("The camera stopped: {error}").format(error=text))

    def stop_camera(self) -> None:
        if self.camera is not None:
            self.camera.stop()
            self.camera.deleteLater()
        for obj in (self.sink, self.session):
            if obj is not None:
                obj.deleteLater()
        self.camera = self.session = self.sink = None

    # --- frames --------------------------------------------------------------------------------------
    def attach_sink(self, sink):
        """Take frames from a ``QVideoSink`` (the camera's; tests give one frames with ``setVideoFrame``)."""
        self.sink = sink
        sink.videoFrameChanged.connect(self.on_video_frame)
        return sink

    def on_video_frame(self, frame) -> None:
        """The camera's frames (``QVideoFrame``) arrive here."""
        if frame is not None and frame.isValid():
            self.on_frame(frame.toImage())

    def on_frame(self, image: QImage) -> None:
        """Every frame enters here: it becomes the one a photo takes, the preview and the live input."""
        if image.isNull():
            return
        self.frame = image
        self.frames += 1
        self.capture_button.setEnabled(True)
        now = time.monotonic()
        if now - self._last_preview >= PREVIEW_INTERVAL:
            self._last_preview = now
            size = self.preview.size()
            self.preview.setPixmap(QPixmap.fromImage(image).scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        if self.live_check.isChecked():
            self.live.submit(image)
        self.sig_frame.emit()

    def capture(self) -> bool:
        """Save the newest frame as PNG in the studio's camera folder and add it to the chosen class."""
        if self.frame is None:
            self.status.setText(self.tr("No frame from the camera yet."))
            return False
        target = self.class_combo.target()
        self.board.paste_image(self.frame.copy(), target, kind=CAMERA_NAME)
        self.status.setText(self.tr("Photo added to {name}.").format(name=target) if target
                            else self.tr("Photo added to a new class."))
        self.sig_captured.emit(target or "")
        return True

    # --- live classification -------------------------------------------------------------------------
    def update_model(self) -> None:
        """Enable live classification when there is a model (call it when the model changes)."""
        ready = self.classifier() is not None
        self.live_check.setEnabled(ready)
        if not ready:
            self.live_check.setChecked(False)
            self.live_label.setText(self.tr("Adapt a model first to classify the camera feed live."))
        elif not self.live_check.isChecked():
            self.live_label.setText("")

    def _on_live_toggled(self, on: bool) -> None:
        if on:
            self.live_label.setText(self.tr("Classifying..."))
            if self.frame is not None:
                self.live.submit(self.frame)
        else:
            self.live.stop()
            self.live_label.setText("")

    @Slot(object)
    def _on_prediction(self, prediction) -> None:
        if not self.live_check.isChecked():
            return
        if prediction.label is None:
            head = "<big>" + self.tr("<b>None of these</b>") + "</big>"
        else:
            head = f"<big><b>{html.escape(prediction.label)}</b> {prediction.confidence:.0%}</big>"
        others = html.escape(", ".join(f"{c} {s:.0%}" for c, s in prediction.top_k[1:3]))  # class names, as typed
        self.live_label.setText(head + (f" &nbsp; <span style='color:gray'>{others}</span>" if others else ""))

    @Slot(str)
    def _on_live_failed(self, error: str) -> None:
        self.live_label.setText(self.tr("Could not classify the frame: {error}").format(error=html.escape(error)))

    def shutdown(self) -> None:
        self.live_check.setChecked(False)
        self.stop_camera()
        self.live.shutdown()


class CameraDialog(QDialog):
    """The camera window (not modal: the board stays usable beside it)."""

    def __init__(self, board, classifier: Callable[[], object], *, threads: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Camera - Few-shot Studio"))
        self.panel = CameraPanel(board, classifier, threads=threads, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.panel)
        self.resize(680, 600)

    def closeEvent(self, event) -> None:
        self.panel.shutdown()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.panel.shutdown()
        super().done(result)


def show_camera(window) -> bool:
    """Show the window's camera dialog (made when a camera is found); False, and the message bar says why,
    without QtMultimedia or a camera."""
    import weakref

    from .notices import Notice

    dialog = window.camera_dialog
    if dialog is not None and dialog.isVisible():
        dialog.raise_()
        dialog.activateWindow()
        return True
    problem = camera_problem()
    if problem:
        window.notify(Notice("info", problem))
        return False
    if dialog is not None:
        dialog.deleteLater()
    ref = weakref.ref(window)  # no reference cycle through the dialog: gc.freeze() would make it immortal
    window.camera_dialog = CameraDialog(window.board, lambda: getattr(ref(), "classifier", None),
                                        threads=window.torch_threads, parent=window)
    window.camera_dialog.panel.start()
    window.camera_dialog.show()
    return True
