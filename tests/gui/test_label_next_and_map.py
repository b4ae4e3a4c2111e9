"""Label next and the embedding map, as a user drives them: rank a folder, drag the top image onto a class
card, watch it leave the list; open the map, count the points per class, hover one to see its image."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RUN_TIMEOUT, drop_and_wait, url_mime
from imagegen import SHAPES, draw_shape
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QPalette
from PySide6.QtWidgets import QApplication

from fewshot_studio.core.embedding_map import tsne_available
from fewshot_studio.gui.embedding_map import PALETTE, PREVIEW, SYMBOLS

CLASSES = ("blue_square", "green_triangle", "red_circle")  # the board's order: sub-folders sorted by name


def move_mouse(widget, where: QPoint) -> None:
    """The mouse moves over ``widget`` to ``where``, no button pressed (pyqtgraph's scene makes hover events)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(where), QPointF(widget.mapToGlobal(where)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def adapt_on_shapes(qtbot, window, shapes) -> None:
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("prototypical")
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()


@pytest.fixture
def unlabelled(tmp_path) -> tuple[Path, list[Path]]:
    """Two clear examples per class and two images half one class, half another."""
    pool = tmp_path / "unlabelled"
    pool.mkdir()
    for ci, name in enumerate(CLASSES):
        for i in range(2):
            draw_shape(*SHAPES[name], 5000 + ci * 10 + i, 64).save(pool / f"clear_{name}_{i}.png")
    blends = []
    for i, (a, b) in enumerate([("red_circle", "blue_square"), ("blue_square", "green_triangle")]):
        path = pool / f"blend_{a}_{b}.png"
        Image.blend(draw_shape(*SHAPES[a], 7000 + 10 * i, 64), draw_shape(*SHAPES[b], 7000 + 10 * i, 64), 0.5).save(path)
        blends.append(path)
    return pool, blends


def test_drag_the_top_ranked_image_onto_a_class_card(qtbot, window, shapes, unlabelled):
    pool, blends = unlabelled
    adapt_on_shapes(qtbot, window, shapes)
    window.act_label_next.trigger()
    panel = window.label_next_panel
    assert window.label_next_dock.isVisible() and panel.rank_button.isEnabled()

    with qtbot.waitSignal(panel.sig_ranked, timeout=RUN_TIMEOUT):
        assert panel.rank(pool)
        assert panel.rank_button.text() == "Cancel"
    qtbot.waitUntil(lambda: not panel.running)
    listed = [Path(p) for p in panel.list.paths()]
    assert len(listed) == 8 and set(listed[:2]) == set(blends), "the blends come first"
    assert "8 images ranked by margin" in panel.status.text()
    assert panel.list.item(0).text().startswith("#1  uncertainty 0.")

    top = listed[0]
    panel.list.setCurrentRow(0)
    assert panel.list.selected_paths() == [top]
    target = next(c for c in CLASSES if Path(top).stem.startswith(f"blend_{c}"))
    card = window.board.card(target)
    before = len(window.support[target].images)
    drop_and_wait(qtbot, window.board, card, panel.list.drag_mime(panel.list.selected_paths()))
    assert window.support[target].images[-1] == top and len(window.support[target].images) == before + 1
    assert card.image_paths()[-1] == top, "the card shows it"
    assert [Path(p) for p in panel.list.paths()] == listed[1:], "labelled, so it left the list"
    assert "1 labelled; 7 left" in panel.status.text()


def test_the_list_says_why_a_more_uncertain_image_is_listed_lower(qtbot, window, shapes, unlabelled):
    """A copy of the most uncertain image is as uncertain, yet variety moves it below the clear examples."""
    import shutil

    pool, blends = unlabelled
    twin = pool / "twin_of_blend.png"
    shutil.copy(blends[0], twin)
    adapt_on_shapes(qtbot, window, shapes)
    window.act_label_next.trigger()
    panel = window.label_next_panel
    assert panel.diverse_box.isChecked()  # spreading out near-duplicates is on by default
    with qtbot.waitSignal(panel.sig_ranked, timeout=RUN_TIMEOUT):
        assert panel.rank(pool)
    qtbot.waitUntil(lambda: not panel.running)
    assert panel.order_label.isVisible()
    assert panel.order_label.text().startswith("Ordered by uncertainty and variety: similar images are spread out")
    items = panel.ranking.items
    rows = {panel.list.item(i).data(Qt.ItemDataRole.UserRole): panel.list.item(i) for i in range(panel.list.count())}
    lower = [r for r in items if any(above.score < r.score for above in items[:r.rank - 1])]
    assert lower, [(r.rank, r.score) for r in items]  # one of the two identical images went down
    assert {Path(r.path) for r in lower} & {twin, blends[0]}
    for r in items:
        text, tip = rows[r.path].text(), rows[r.path].toolTip()
        assert text.splitlines()[0].endswith("↓") == (r in lower), text
        assert ("Moved down: it looks much like an image listed above it" in tip) == (r in lower), tip

    panel.diverse_box.setChecked(False)  # uncertainty alone: nothing moves, nothing is marked
    with qtbot.waitSignal(panel.sig_ranked, timeout=RUN_TIMEOUT):
        assert panel.rank(pool)
    qtbot.waitUntil(lambda: not panel.running)
    assert panel.order_label.text() == "Ordered by uncertainty alone: the most uncertain first."
    scores = [r.score for r in panel.ranking.items]
    assert scores == sorted(scores, reverse=True)
    assert not any("↓" in panel.list.item(i).text() for i in range(panel.list.count()))


def test_embedding_map_colours_classes_and_shows_the_hovered_image(qtbot, qapp, window, shapes, queries):
    adapt_on_shapes(qtbot, window, shapes)
    window.act_embedding_map.trigger()  # nothing classified yet: the map shows the support images
    view = window.embedding_map
    assert window.embedding_map_dock.isVisible() and view.running
    with qtbot.waitSignal(view.sig_drawn, timeout=RUN_TIMEOUT) as blocker:
        pass  # the result arrives through the event loop, which runs while the block exits
    support_only = blocker.args[0]
    assert len(support_only) == 12 and set(support_only.kinds) == {"support"}
    tsne = view.method_combo.model().item(view.method_combo.findData("tsne"))
    assert tsne.isEnabled() == tsne_available()
    if not tsne_available():
        assert "pip install 'fewshot-studio[tsne]'" in tsne.toolTip() and not view.set_method("tsne")

    with qtbot.waitSignal(view.sig_drawn, timeout=RUN_TIMEOUT) as blocker:
        view.set_queries([next(iter(queries)).parent])
        assert view.refresh()
    result = blocker.args[0]
    assert len(result) == 12 + 9
    assert set(view.items) == {(c, k) for c in CLASSES for k in ("support", "query")}
    for ci, name in enumerate(CLASSES):
        support, query = view.items[(name, "support")], view.items[(name, "query")]
        assert len(support.points()) == 4 and len(query.points()) == 3, "each query is predicted as its class"
        assert support.opts["brush"].color().name() == query.opts["brush"].color().name() == PALETTE[ci]
        assert support.opts["symbol"] == SYMBOLS["support"] and query.opts["symbol"] == SYMBOLS["query"]
    legend = [label.text for _, label in view.legend.items]
    assert legend[:3] == list(CLASSES) and len(legend) == 5

    item = view.items[("green_triangle", "query")]
    point = item.points()[0]
    index = int(point.data())
    with qtbot.waitSignal(view.sig_hovered, timeout=5000) as hovered:
        move_mouse(view.plot.viewport(), view.plot.mapFromScene(item.mapToScene(point.pos())))
    assert hovered.args == [index]
    path = result.paths[index]
    assert queries[Path(path)] == "green_triangle" and view.preview_path == path
    assert "green_triangle" in view.preview_text.text() and Path(path).name in view.preview_text.text()
    qtbot.waitUntil(lambda: window.thumbnails.is_ready(path), timeout=20_000)
    expected = window.thumbnails.scaled(path, PREVIEW, view.devicePixelRatioF()).toImage()
    qtbot.waitUntil(lambda: view.preview_image.pixmap().toImage() == expected, timeout=5000)

    # Switching the theme while the map is shown keeps the axes' numbers: PCA coordinates, not thousandths.
    saved = QPalette(qapp.palette())
    try:
        for mode in ("dark", "light"):
            window.theme_actions[mode].trigger()
            qapp.processEvents()
            for name in ("left", "bottom"):
                axis = view.plot.getAxis(name)
                low, high = axis.range
                assert axis.autoSIPrefixScale == 1.0 and axis.labelUnitPrefix == "", (mode, name)
                values = [v for _, ticks in axis.tickValues(low, high, axis.width() or 300) for v in ticks]
                assert values and max(abs(v) for v in values) <= 2 * max(abs(low), abs(high)), (mode, name, values)
    finally:
        qapp.setPalette(saved)

    if tsne_available():  # choosing t-SNE redraws the same points (the features are remembered)
        with qtbot.waitSignal(view.sig_drawn, timeout=RUN_TIMEOUT) as blocker:
            assert view.set_method("tsne")
        assert blocker.args[0].method == "tsne" and len(blocker.args[0]) == 21
        assert view.plot.getAxis("bottom").labelText == "t-SNE 1"


def test_cancel_ranking_then_close_the_window_while_it_ranks(qtbot, window, shapes, tmp_path):
    pool = tmp_path / "many"
    pool.mkdir()
    for i in range(40):
        draw_shape(*SHAPES[CLASSES[i % 3]], 9000 + i, 64).save(pool / f"u{i:02d}.png")
    adapt_on_shapes(qtbot, window, shapes)
    window.act_label_next.trigger()
    panel = window.label_next_panel
    ranked = []
    panel.sig_ranked.connect(ranked.append)

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    assert panel.rank(empty)
    qtbot.waitUntil(lambda: not panel.running, timeout=RUN_TIMEOUT)
    assert "No usable images in" in window.message_bar.text() and "notes.txt: not an image" in panel.status.text()

    assert panel.rank(pool)
    qtbot.mouseClick(panel.rank_button, Qt.MouseButton.LeftButton)  # the button reads Cancel while it runs
    qtbot.waitUntil(lambda: not panel.running, timeout=RUN_TIMEOUT)
    assert not ranked and panel.list.count() == 0 and panel.rank_button.text() == "Rank"

    assert panel.rank(pool)
    window.close()  # the window waits for the ranking thread, which stops at its next batch
    qtbot.waitUntil(lambda: window.closed, timeout=RUN_TIMEOUT)
    assert not panel.running
