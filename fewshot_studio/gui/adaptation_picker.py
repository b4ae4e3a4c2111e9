"""The model panel's Domain adaptation picker: one check box per registered stage of
:mod:`~..core.adaptation` (AdaBN, TENT, CORAL, pseudo-labels, soft k-means), filled from the engine's registry,
so a new stage appears without touching a widget. The chosen names go to ``AdaptRun(domain_adaptation=...)``,
as ``adapt --domain-adaptation`` does; the stages use the board's Unlabelled images.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

# The stages' titles and descriptions as the registry gives them, for the translators (shown through tr()).
ENGINE_STRINGS = (
    QT_TRANSLATE_NOOP("AdaptationPicker", "AdaBN"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "TENT"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "CORAL"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "Pseudo-labels"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "Soft k-means prototypes"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "Batch-norm statistics re-estimated on the unlabelled target images; the "
                                          "support keeps its own (Li et al. 2016)"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "AdaBN, then the normalisation layers' scales and shifts trained to make "
                                          "the target images' nearest-prototype predictions confident (entropy "
                                          "minimisation, Wang et al. 2021)"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "Support features re-coloured to the target images' mean and covariance "
                                          "(Sun et al. 2016)"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "Unlabelled images the nearest-prototype classifier is confident about "
                                          "join the support set"),
    QT_TRANSLATE_NOOP("AdaptationPicker", "Class prototypes refined with the unlabelled images, each weighted by the "
                                          "classifier's probabilities (semi-supervised prototypes, Ren et al. 2018)"),
)


class AdaptationPicker(QWidget):
    """Check boxes of the domain-adaptation stages; none checked (the default) adapts without them."""

    sig_changed = Signal(list)  # the chosen stages' names, in the registry's order

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.boxes: dict[str, QCheckBox] = {}
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.hint = QLabel(self.tr("Uses the board's Unlabelled images; none checked: no domain adaptation"))
        self.hint.setWordWrap(True)
        font = self.hint.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.hint.setFont(font)
        self.layout_.addWidget(self.hint)

    def set_stages(self, stages: list[tuple[str, str, str]]) -> None:
        """``stages``: (name, title, description) of each registered stage; the checked ones stay checked."""
        chosen = self.selected()
        for box in self.boxes.values():
            self.layout_.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for name, title, description in stages:
            box = QCheckBox(self.tr(title))
            box.setToolTip(self.tr(description))
            box.setChecked(name in chosen)
            box.toggled.connect(lambda _on: self.sig_changed.emit(self.selected()))
            self.layout_.insertWidget(self.layout_.count() - 1, box)
            self.boxes[name] = box

    def selected(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def set_selected(self, names) -> list[str]:
        """Check exactly ``names`` (a list; unknown names, or anything else, check nothing); returns those checked."""
        wanted = {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(name in wanted)
            box.blockSignals(False)
        self.sig_changed.emit(self.selected())
        return self.selected()
