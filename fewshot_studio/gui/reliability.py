"""The reliability diagram of a cross-validation: held-out accuracy per confidence bin, before and after the
support-set temperature, against the diagonal a calibrated model would follow (pyqtgraph bar chart)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

BEFORE_COLOUR = (200, 120, 60, 150)
AFTER_COLOUR = (59, 125, 216, 200)


class ReliabilityDiagram(QWidget):
    """Bars: accuracy of the held-out images in each confidence bin (before: orange, after: blue); the line:
    accuracy = confidence. The caption gives the expected calibration error before and after."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.setLabel("bottom", self.tr("confidence"))
        self.plot.setLabel("left", self.tr("accuracy"))
        self.plot.setMinimumHeight(140)
        self.diagonal = self.plot.plot([0, 1], [0, 1], pen=pg.mkPen((128, 128, 128), width=1, style=Qt.PenStyle.DashLine))
        self.bars: list[pg.BarGraphItem] = []  # before, after (empty until a result is shown)
        self.caption = QLabel(self.tr("Validate to see how far the confidences can be trusted."))
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)

    def show_result(self, r) -> None:
        """Draw a ValidationResult's reliability bins (nothing when it has no held-out logits)."""
        for bar in self.bars:
            self.plot.removeItem(bar)
        self.bars = []
        cal = r.calibration()
        if not cal.calibrated:
            self.caption.setText(self.tr("No held-out probabilities to draw."))
            return
        for bins, colour, shift in ((r.reliability(1.0), BEFORE_COLOUR, -0.022),
                                    (r.reliability(cal.temperature), AFTER_COLOUR, 0.022)):
            full = [b for b in bins if b["count"]]
            bar = pg.BarGraphItem(x=[(b["low"] + b["high"]) / 2 + shift for b in full],
                                  height=[b["accuracy"] for b in full], width=0.04, brush=colour, pen=None)
            self.plot.addItem(bar)
            self.bars.append(bar)
        self.caption.setText(self.tr("Calibration error {before:.3f} before (orange), {after:.3f} after (blue) the "
                                     "temperature {t:.3g} fitted on {n} held-out images; a calibrated model's bars "
                                     "reach the diagonal.").format(before=cal.ece_before, after=cal.ece_after,
                                                                   t=cal.temperature, n=cal.images))

    def bar_heights(self) -> list[list[float]]:
        """The heights of the drawn bars (before, after): what the user reads off the chart."""
        return [list(bar.opts["height"]) for bar in self.bars]
