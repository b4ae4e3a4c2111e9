"""Live loss and support-accuracy plots (pyqtgraph). The curves are made once and fed with setData;
downsampling ("peak") and clip-to-view keep long runs cheap to draw.

Drawing is the window's main cost while it adapts (benchmarks/gui_stall.py), so the plots are kept lean:
redrawn at most 10 times a second, no grid (it tripled the paint time), and axes whose ranges rarely
change (steps fixed to the run's length, accuracy 0-100 %, loss on a log scale snapped to whole decades),
because every range change re-lays out the tick labels.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

LOSS_COLOUR = "#3b7dd8"
ACCURACY_COLOUR = "#2e9e5b"
SYMBOLS_UP_TO = 40  # draw markers while there are few points (a one-step method shows one dot)
REDRAW_MS = 100  # at most 10 redraws a second


def _pen(colour: str):
    pen = pg.mkPen(colour, width=2)
    pen.setCosmetic(True)
    return pen


class _Series:
    """Growable float arrays of steps and values (amortised O(1) append)."""

    def __init__(self, capacity: int = 256):
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0

    def extend(self, xs, ys) -> None:
        need = self.n + len(xs)
        if need > len(self.x):
            size = max(need, 2 * len(self.x))
            self.x = np.resize(self.x, size)
            self.y = np.resize(self.y, size)
        self.x[self.n:need] = xs
        self.y[self.n:need] = ys
        self.n = need

    def clear(self) -> None:
        self.n = 0
        if len(self.x) > 4096:  # give back the memory of a long run
            self.x, self.y = np.empty(256), np.empty(256)


class StepAxis(pg.AxisItem):
    """An axis of whole steps: no tick at 0.6 or 1.4 when a run has one or two steps."""

    def tickValues(self, minVal, maxVal, size):
        levels = [(max(1.0, spacing), [v for v in values if float(v).is_integer()])
                  for spacing, values in super().tickValues(minVal, maxVal, size)]
        return [level for level in levels if level[1]] or [(1.0, [float(v) for v in range(math.ceil(minVal),
                                                                                           math.floor(maxVal) + 1)])]


class TrainingPlots(QWidget):
    """Two stacked plots sharing the step axis: loss, and accuracy on the support images (%)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumHeight(220)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.ci.setContentsMargins(2, 2, 8, 2)
        self.loss_plot = self.view.addPlot(row=0, col=0, axisItems={"bottom": StepAxis("bottom")})
        self.accuracy_plot = self.view.addPlot(row=1, col=0, axisItems={"bottom": StepAxis("bottom")})
        self.accuracy_plot.setXLink(self.loss_plot)
        self.loss_plot.setLabel("left", self.tr("Loss (log)"))
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.enableAutoRange("y", False)
        self.loss_plot.enableAutoRange("x", False)
        self.accuracy_plot.setLabel("left", self.tr("Support acc."), units="%")
        self.accuracy_plot.setLabel("bottom", self.tr("Step"))
        self.accuracy_plot.setYRange(0, 100, padding=0.05)
        self.accuracy_plot.enableAutoRange("y", False)
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.setMenuEnabled(False)
            plot.hideButtons()
        self.loss_curve = self.loss_plot.plot(pen=_pen(LOSS_COLOUR), name="loss")
        self.accuracy_curve = self.accuracy_plot.plot(pen=_pen(ACCURACY_COLOUR), name="accuracy")
        self._loss = _Series()
        self._accuracy = _Series()
        self.total = 0
        self._low = self._high = 1.0  # smallest and largest loss of the run
        self._set_decades((-2, 1))
        self.loss_plot.setXRange(0.5, 10.5, padding=0.02)
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setToolTip(self.tr("Loss and accuracy on the support images at every step of the run"))
        self._restyle()

    @property
    def pending(self) -> bool:
        return self._dirty

    def sizeHint(self) -> QSize:
        return QSize(320, 260)

    # --- data ----------------------------------------------------------------------------------------
    def start(self, total_steps: int) -> None:
        """Forget the previous run and scale the step axis to ``total_steps``."""
        self._loss.clear()
        self._accuracy.clear()
        self.total = total_steps
        self.loss_plot.setXRange(0.5, max(total_steps, 1) + 0.5, padding=0.02)
        self.flush()

    def append(self, events) -> None:
        """Add :class:`~fewshot_studio.core.engine.Progress` events (one point per step)."""
        if not events:
            return
        if self._loss.n == 0 and events[0].total != self.total:
            self.start(events[0].total)
        steps = [e.step for e in events]
        losses = [max(e.loss, 1e-12) for e in events]
        self._low = min(self._low, *losses) if self._loss.n else min(losses)
        self._high = max(self._high, *losses) if self._loss.n else max(losses)
        self._loss.extend(steps, losses)
        self._accuracy.extend(steps, [100.0 * e.accuracy for e in events])
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def _set_decades(self, decades: tuple[int, int]) -> None:
        """Show the loss from 10^low to 10^high, labelled at whole decades only (no crowded minor labels)."""
        self._decades = decades
        low, high = decades
        step = max(1, (high - low) // 4)
        major = [(d, f"{10.0 ** d:g}") for d in range(low, high + 1, step)]
        self.loss_plot.getAxis("left").setTicks([major, []])
        self.loss_plot.setYRange(low, high, padding=0.02)

    def clear(self) -> None:
        self._loss.clear()
        self._accuracy.clear()
        self.total = 0
        self.flush()

    def flush(self) -> None:
        """Draw what has arrived (the timer calls this; call it to see the data at once)."""
        self._timer.stop()
        self._dirty = False
        n = self._loss.n
        if n:
            low, high = math.floor(math.log10(self._low)), math.ceil(math.log10(self._high))
            decades = (min(low, high - 1), high)
            if decades != self._decades:  # re-laying out the axis is costly: only on crossing a decade
                self._set_decades(decades)
        symbol = "o" if 0 < n <= SYMBOLS_UP_TO else None
        for curve, series, colour in ((self.loss_curve, self._loss, LOSS_COLOUR),
                                      (self.accuracy_curve, self._accuracy, ACCURACY_COLOUR)):
            curve.setData(series.x[:n], series.y[:n], symbol=symbol, symbolSize=6,
                          symbolBrush=colour, symbolPen=None)

    # --- what the user sees (and tests read) -----------------------------------------------------------
    @property
    def point_count(self) -> int:
        return self._loss.n

    def steps(self) -> np.ndarray:
        x, _ = self.loss_curve.getOriginalDataset()
        return np.asarray(x if x is not None else [])

    def losses(self) -> np.ndarray:
        _, y = self.loss_curve.getOriginalDataset()
        return np.asarray(y if y is not None else [])

    def accuracies(self) -> np.ndarray:
        _, y = self.accuracy_curve.getOriginalDataset()
        return np.asarray(y if y is not None else [])

    # --- palette -------------------------------------------------------------------------------------
    def _restyle(self) -> None:
        pal = self.palette()
        self.view.setBackground(pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        grid = QColor(text)
        for plot in (self.loss_plot, self.accuracy_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(grid))
                axis.enableAutoSIPrefix(False)
                axis.setTextPen(pg.mkPen(text))

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)
