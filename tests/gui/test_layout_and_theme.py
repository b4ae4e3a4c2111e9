"""The window as it looks: a theme switched while it runs, a small screen with the docks open, the step axis of
a short run, the thumbnails' selection, where the ONNX export dialog opens (issue 11, items 11-13)."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import RUN_TIMEOUT, close_window, drop_and_wait, make_window, url_mime
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QStyle

from fewshot_studio.gui import exports, i18n
from fewshot_studio.gui.embedding_map import show_embedding_map
from fewshot_studio.gui.label_next_panel import show_label_next
from fewshot_studio.gui.notices import Notice
from fewshot_studio.gui.theme import Theme

R = QPalette.ColorRole


@pytest.fixture
def restore_palette(qapp):
    """The application's palette as it was, after a test that switches themes."""
    saved = QPalette(qapp.palette())
    yield
    qapp.setPalette(saved)


def pixel(window, widget, x: int, y: int):
    """The colour the user sees at (x, y) of ``widget``, from a fresh picture of the whole window."""
    at = widget.mapTo(window, QPoint(x, y))
    return window.grab().toImage().pixelColor(at.x(), at.y())


def contrast(a, b) -> float:
    """WCAG contrast ratio of two colours."""
    def luminance(c) -> float:
        ch = [v / 255 for v in (c.red(), c.green(), c.blue())]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in ch]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_a_theme_switched_live_reaches_the_board_cards_menu_bar_banner_and_descriptions(
        qtbot, qapp, window, shapes, restore_palette):
    theme = Theme.ensure(qapp, "light")
    theme.set_mode("light")
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    window.notify(Notice("warning", "Cancelled after step 55 of 200."))
    card = window.board.cards()[0]
    captions = [label for label in window.model_panel.findChildren(QLabel)
                if label.foregroundRole() == R.PlaceholderText and label.text()]
    assert len(captions) >= 2, "the backbone's and the method's descriptions are quiet text"

    def seen() -> dict[str, int]:
        qapp.processEvents()
        viewport = window.board.viewport()
        return {"board": pixel(window, viewport, 4, viewport.height() - 4).lightness(),
                "card": pixel(window, card, card.width() // 2, card.height() - 6).lightness(),
                "menu bar": pixel(window, window.menuBar(), window.menuBar().width() - 4, 4).lightness(),
                "banner": pixel(window, window.message_bar, window.message_bar.width() // 2, 4).lightness()}

    assert all(v > 160 for v in seen().values()), seen()
    window.theme_actions["dark"].trigger()  # View > Theme > Dark, while the studio runs
    dark = seen()
    assert all(v < 90 for v in dark.values()), dark
    for label in captions:  # the descriptions follow, legibly (WCAG AA: 4.5:1)
        text, background = label.palette().color(label.foregroundRole()), label.palette().color(R.Window)
        assert text == qapp.palette().color(R.PlaceholderText)
        assert contrast(text, background) >= 4.5
    icon = card.delete_button.icon().pixmap(16).toImage()  # drawn in the dark theme's light text colour
    assert max(icon.pixelColor(x, y).lightness() for x in range(16) for y in range(16)
               if icon.pixelColor(x, y).alpha() > 200) > 160
    window.theme_actions["light"].trigger()
    assert all(v > 160 for v in seen().values()), seen()


def needs(widget) -> int:
    """The width ``widget`` needs to show its whole text (and icon, or check box)."""
    text = widget.text().replace("&", "")
    width = QFontMetrics(widget.font()).horizontalAdvance(text)
    if isinstance(widget, QCheckBox):
        width += widget.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
    elif hasattr(widget, "icon") and not widget.icon().isNull() and hasattr(widget, "iconSize"):
        width += widget.iconSize().width()
    return width


def assert_shown_whole(widget, window) -> None:
    assert widget.isVisible(), widget.text()
    if window.model_panel.isAncestorOf(widget):  # the model panel scrolls (vertically only): scroll to it
        window.model_panel.ensureWidgetVisible(widget)
        QApplication.processEvents()
    assert widget.width() >= needs(widget), f"{widget.text()!r}: {widget.width()} px < {needs(widget)} px"
    # nothing covers it or cuts it off (a scroll area, a splitter, the window's edge)
    assert widget.visibleRegion().boundingRect().size() == widget.size(), widget.text()


@pytest.fixture(params=["en", "zh_CN"])
def small_window(request, qtbot):
    if request.param != "en":
        assert i18n.install(request.param)
    win = make_window(qtbot)
    win.resize(1024, 680)
    yield win
    close_window(qtbot, win)
    i18n.remove_translators()


def test_at_1024x680_with_the_docks_open_no_key_button_is_cut_off(qtbot, qapp, small_window, shapes):
    window = small_window
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    p = window.predictions
    keys = [p.title, p.open_set_box, p.classify_button, p.clear_button, window.params_form.reset_button,
            window.model_panel.adapt_button, window.board.new_button]
    qtbot.waitUntil(lambda: window.width() == 1024)
    for widget in keys:
        assert_shown_whole(widget, window)
    show_label_next(window)
    show_embedding_map(window)
    qtbot.waitUntil(lambda: window.embedding_map_dock.height() <= window.height() * 0.45)
    for widget in keys:
        assert_shown_whole(widget, window)
    # the support set keeps room for a whole card beside the map
    assert window.board.viewport().height() >= window.board.cards()[0].height() + 40
    assert window.board.viewport().height() > window.embedding_map_dock.height()


def test_the_closest_examples_fit_without_a_horizontal_scroll_bar(qtbot, small_window):
    view = small_window.predictions.view
    assert view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_a_one_step_run_has_whole_step_ticks_only(qtbot):
    from fewshot_studio.core.runs import Progress
    from fewshot_studio.gui.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(360, 300)
    plots.show()
    qtbot.waitExposed(plots)
    for total in (1, 2, 3, 200):
        plots.start(total)
        plots.append([Progress(step=s, total=total, loss=1.0 / s, accuracy=0.5, lr=0.1, elapsed=0.1 * s,
                               device="CPU") for s in range(1, total + 1)])
        plots.flush()
        for plot in (plots.loss_plot, plots.accuracy_plot):
            axis = plot.getAxis("bottom")
            low, high = plot.viewRange()[0]
            levels = axis.tickValues(low, high, axis.geometry().width())
            values = [v for _spacing, vs in levels for v in vs]
            assert values, total
            assert all(float(v).is_integer() and low <= v <= high for v in values), (total, values)
            assert 1 in values or total > 3


def test_a_selected_thumbnail_is_highlighted_around_its_image_and_no_highlight_stays_after_removing_it(
        qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    card = window.board.cards()[0]
    qtbot.waitUntil(card.thumbnails_ready, timeout=RUN_TIMEOUT)
    thumbs = card.thumbs
    highlight = thumbs.palette().color(R.Highlight)

    def highlighted(rect) -> int:
        qtbot.wait(50)
        image = thumbs.viewport().grab().toImage()
        return sum(1 for x in range(max(0, rect.left()), min(image.width(), rect.right() + 1))
                   for y in range(max(0, rect.top()), min(image.height(), rect.bottom() + 1))
                   if abs(image.pixelColor(x, y).red() - highlight.red()) < 12
                   and abs(image.pixelColor(x, y).green() - highlight.green()) < 12
                   and abs(image.pixelColor(x, y).blue() - highlight.blue()) < 12)

    item = thumbs.item(0)
    thumbs.setCurrentItem(item)  # a click on the first image
    assert item.isSelected()
    cell = thumbs.visualItemRect(item)
    image_box = cell.adjusted(4, 4, -4, -4)  # THUMB pixels square in the middle of the cell
    assert highlighted(image_box) > 4 * (image_box.width() - 8)  # a frame around the image itself
    below = cell.adjusted(0, image_box.height() + 4, 0, 8)
    assert highlighted(below) == 0, "nothing drawn below the image"
    window.act_remove.trigger()  # Delete
    assert thumbs.count() == len(card.cls.images) == 3
    assert highlighted(thumbs.viewport().rect()) == 0, "no ghost highlight left"


def test_the_onnx_export_dialog_opens_in_the_projects_folder(qtbot, window, shapes, tmp_path, monkeypatch):
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.support import SupportSet
    from fewshot_studio.gui import dialogs

    support, _ = SupportSet.from_folder(shapes)
    model = AdaptRun(support, "conv4", "prototypical").run().save(tmp_path / "shapes.safetensors")
    with qtbot.waitSignal(window.sig_model_loaded, timeout=RUN_TIMEOUT):
        window.model_files.load_model(str(model))
    asked = []
    monkeypatch.setattr(exports, "ask_onnx_path", lambda parent, suggested: asked.append(suggested) or "")
    window.exports.act_export_onnx.trigger()  # an unsaved project: the home folder, nothing better is known
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    project = tmp_path / "projects" / "shapes.fsproj"
    monkeypatch.setattr(dialogs, "save_project", lambda parent, suggested: str(project))
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()
    window.exports.act_export_onnx.trigger()
    assert asked[-1] == str(project.parent / "shapes.onnx")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(exports, "ask_onnx_path", lambda parent, suggested: str(elsewhere / "m.onnx"))
    window.act_new.trigger()  # an unsaved project again: the folder of the last export
    if not importlib.util.find_spec("onnx"):
        return
    with qtbot.waitSignal(window.sig_model_loaded, timeout=RUN_TIMEOUT):
        window.model_files.load_model(str(model))
    with qtbot.waitSignal(window.exports.sig_onnx_exported, timeout=RUN_TIMEOUT):
        window.exports.act_export_onnx.trigger()
    monkeypatch.setattr(exports, "ask_onnx_path", lambda parent, suggested: asked.append(suggested) or "")
    window.exports.act_export_onnx.trigger()
    assert asked[-1] == str(elsewhere / "Untitled.onnx")
