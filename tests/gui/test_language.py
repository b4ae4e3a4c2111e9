"""The interface's language: English by default, Simplified Chinese when chosen, remembered in the settings."""

from __future__ import annotations

import pytest
from conftest import close_window, make_window
from PySide6.QtCore import QCoreApplication, QLocale

from fewshot_studio.gui import i18n
from fewshot_studio.gui.settings import Settings


@pytest.fixture
def chinese(qapp):
    """Simplified Chinese installed for one test, as ``fewshot-studio gui --lang zh_CN`` does at start-up (the
    translators need the application, whichever test this worker happened to run first)."""
    assert i18n.install("zh_CN"), f"no compiled translation in {i18n.i18n_dir()}: run make translations"
    yield
    i18n.remove_translators()


def menu_titles(window) -> list[str]:
    return [a.text() for a in window.menuBar().actions()]


def test_the_language_comes_from_the_command_line_the_environment_the_setting_or_the_locale():
    assert i18n.choose_language(None, "system", env={}, locale=QLocale.c()) == "en"
    assert i18n.choose_language(None, "system", env={}, locale=QLocale("zh_CN")) == "zh_CN"
    assert i18n.choose_language(None, "system", env={}, locale=QLocale("zh_TW")) == "en"  # traditional: not yet
    assert i18n.choose_language(None, "system", env={}, locale=QLocale("de_DE")) == "en"
    assert i18n.choose_language(None, "zh_CN", env={}, locale=QLocale.c()) == "zh_CN"
    assert i18n.choose_language(None, "en", env={}, locale=QLocale("zh_CN")) == "en"
    assert i18n.choose_language(None, "en", env={i18n.ENV_VAR: "zh_CN.UTF-8"}) == "zh_CN"
    assert i18n.choose_language("zh-CN", "en", env={i18n.ENV_VAR: "en"}) == "zh_CN"
    assert i18n.choose_language("klingon", "system", env={}, locale=QLocale.c()) == "en"


def test_every_translation_keeps_its_placeholders_and_the_qm_is_compiled_from_the_ts(qapp):
    """A translation that drops or renames a {placeholder} would raise KeyError in Chinese only; a .qm older
    than its .ts would show strings that were translated as English (make translations compiles it)."""
    import re
    import xml.etree.ElementTree as ET

    from PySide6.QtCore import QTranslator

    placeholder = re.compile(r"\{[^{}]*\}")
    ts = i18n.i18n_dir() / "fewshot_studio_zh_CN.ts"
    qm = QTranslator()
    assert qm.load(str(ts.with_suffix(".qm")))
    finished = 0
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.find("name").text
        for message in context.iter("message"):
            source, translation = message.find("source").text, message.find("translation")
            if translation.get("type") or not translation.text:
                continue  # unfinished (new, shown in English) or vanished
            finished += 1
            assert sorted(placeholder.findall(source)) == sorted(placeholder.findall(translation.text)), source
            assert qm.translate(name, source) == translation.text, f"{name}: {source!r}: run make translations"
    assert finished > 400


def test_without_a_font_for_its_characters_the_studio_starts_in_english_and_says_why(qapp, monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "")
    monkeypatch.setattr(i18n.QFontDatabase, "families", lambda *args: [])  # no CJK font (CI has none)
    lang, why = i18n.startup_language("zh_CN", "system")
    assert lang == "en"
    assert "简体中文" in why and "fonts-wqy-microhei" in why
    monkeypatch.setattr(i18n.QFontDatabase, "families", lambda *args: ["WenQuanYi Micro Hei"])
    assert i18n.startup_language("zh_CN", "system") == ("zh_CN", "")
    assert i18n.startup_language(None, "en") == ("en", "")


def test_english_by_default_under_the_c_locale(qtbot):
    lang = i18n.choose_language(None, Settings().language, env={}, locale=QLocale.c())  # as start-up does
    assert lang == "en"
    assert i18n.install(lang) and i18n.current() == "en"  # English is the source: no translator to load
    window = make_window(qtbot)
    try:
        assert menu_titles(window)[:4] == ["&File", "&Edit", "&Backbone", "&Model"]
        assert window.model_panel.adapt_button.text() == "Adapt"
        assert window.board.new_button.text() == "New class"
        assert window.language_actions["system"].isChecked()
    finally:
        close_window(qtbot, window)


def test_the_chinese_translation_loads_and_changes_the_visible_texts(qtbot, chinese):
    window = make_window(qtbot)
    try:
        titles = menu_titles(window)
        assert titles[:4] == ["文件(&F)", "编辑(&E)", "骨干网络(&B)", "模型(&M)"]
        assert "视图(&V)" in titles and "帮助(&H)" in titles
        assert window.model_panel.adapt_button.text() == "适配"
        assert window.act_adapt.text() == "适配(&A)"
        assert window.act_adapt.toolTip().startswith("让方法在支持集上进行适配")
        assert window.board.new_button.text() == "新建类别"
        assert window.predictions.summary.text() == "还没有结果。"
        assert window.method_picker.combo.findText("原型网络") >= 0  # the engine's method titles too
        assert window.windowTitle().startswith("未命名")
        # Qt's own strings (standard dialog buttons) come from qtbase_zh_CN.
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    finally:
        close_window(qtbot, window)


def test_the_language_setting_is_remembered_for_the_next_start(qtbot):
    window = make_window(qtbot)
    try:
        window.language_actions["zh_CN"].trigger()
        assert Settings().language == "zh_CN"
        assert "next time you start" in window.message_bar.text()
        assert "下次启动" in window.message_bar.text()  # said in the chosen language too
        assert menu_titles(window)[0] == "&File", "the window itself changes at the next start"
        assert i18n.choose_language(None, Settings().language, env={}) == "zh_CN"
    finally:
        close_window(qtbot, window)


def test_in_chinese_the_engines_messages_are_chinese_and_the_demo_status_ends_with_one_full_stop(qtbot, chinese,
                                                                                                   shapes):
    from conftest import drop_and_wait, url_mime
    from PySide6.QtCore import Qt

    window = make_window(qtbot)
    try:
        label = window.model_panel.model_label.text()  # an empty board: the core's "needs 2 classes", translated
        assert "支持集至少需要 2 个类别（现在有 0 个）；请再添加一个类别" in label, label
        assert "support set" not in label

        with qtbot.waitSignal(window.sig_support_replaced, timeout=60_000):
            window.act_demo.trigger()
        status = window.statusBar().currentMessage()
        assert status.startswith("示例") and status.endswith("。") and not status.endswith("。."), status
        assert "。." not in window.message_bar.text()

        drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
        card = window.board.card("red_circle")
        card.start_rename()  # a name that is taken: the core refuses, the window says it in Chinese
        qtbot.keyClicks(card.name_edit, "blue_square")
        qtbot.keyClick(card.name_edit, Qt.Key.Key_Return)
        assert window.message_bar.text().startswith("已有名为 'blue_square' 的类别；请换一个名称"), \
            window.message_bar.text()
        assert window.message_bar.level == "error"
        assert not window.statusBar().currentMessage().endswith("。.")
    finally:
        close_window(qtbot, window)


def test_core_text_translates_known_templates_with_their_values_and_leaves_the_rest(chinese):
    from fewshot_studio.core import images, support

    assert i18n.core_text(support.MSG_EMPTY_CLASS.format(name="dog")) == "类别 'dog' 没有图片；请至少添加一个样本，或删除该类别"
    joined = "; ".join([support.MSG_TOO_FEW_CLASSES.format(n=1), "something new; and more",
                        images.MSG_TOO_LARGE.format(pixels=200_000_000, limit=178_956_970)])
    assert i18n.core_text(joined) == ("支持集至少需要 2 个类别（现在有 1 个）；请再添加一个类别；something new；and more；"
                                      "图片太大（200,000,000 像素，上限为 178,956,970）；请先缩小")
    assert i18n.core_text("an engine message with no template") == "an engine message with no template"


def test_every_core_message_in_the_table_is_a_core_template_word_for_word():
    """The table repeats the core's templates (the translators' tool reads literals): a changed core message
    must be changed here too, or it would silently stay English."""
    import importlib
    import pkgutil

    import fewshot_studio.core as core

    templates = set()
    for info in pkgutil.walk_packages(core.__path__, core.__name__ + "."):
        module = importlib.import_module(info.name)
        templates |= {v for k, v in vars(module).items() if k.startswith("MSG_") and isinstance(v, str)}
    missing = [t for t in i18n.CORE_MESSAGES if t not in templates]
    assert not missing, missing
    assert len(i18n.CORE_MESSAGES) >= 20
