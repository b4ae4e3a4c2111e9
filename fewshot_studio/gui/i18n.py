"""The interface's language: English (the source strings) or Simplified Chinese.

The language is chosen once, before the window is built: ``--lang`` on the command line, else the
``FEWSHOT_STUDIO_LANG`` environment variable, else the setting (View > Language), else the system locale.
Changing the setting takes effect at the next start. The studio's own translations are
``resources/i18n/fewshot_studio_<lang>.qm`` (made from the ``.ts`` beside them: ``make translations``);
Qt's own (``qtbase_<lang>.qm``, for the buttons of standard dialogs) come with PySide6.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFontDatabase

ENV_VAR = "FEWSHOT_STUDIO_LANG"
SYSTEM = "system"
# The languages the interface speaks: code -> the language's own name (shown as such in every language).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
ALIASES = {"c": "en", "posix": "en", "en_us": "en", "en_gb": "en", "zh": "zh_CN", "zh_hans": "zh_CN",
           "zh_cn": "zh_CN", "zh_sg": "zh_CN", "chinese": "zh_CN"}

# A language whose characters no installed font has would show boxes: the studio stays in English and says
# this (in English, which every font draws).
SCRIPTS = {"zh_CN": QFontDatabase.WritingSystem.SimplifiedChinese}
MSG_NO_FONT = ("The interface would be in {name}, but no installed font has its characters, so it stays in English. "
               "Install one (Debian/Ubuntu: sudo apt-get install fonts-wqy-microhei, or fonts-noto-cjk) and restart "
               "the studio.")

# "The language changes the next time you start the studio.", in each language itself (the window says it in
# the language it speaks now, through tr(), and in the chosen one from here).
NEXT_START = {"en": "The language changes the next time you start the studio.",
              "zh_CN": "界面语言将在下次启动时更改。"}

_installed: list[QTranslator] = []  # kept alive while installed: Qt does not own them


def i18n_dir() -> Path:
    return Path(str(files("fewshot_studio.resources"))) / "i18n"


def normalise(code: str | None) -> str | None:
    """A language code as the studio names it ("zh-CN", "zh_CN.UTF-8", "zh" -> "zh_CN"); None if unknown."""
    if not code:
        return None
    key = code.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if key in ALIASES:
        return ALIASES[key]
    for lang in LANGUAGES:
        if key == lang.lower():
            return lang
    if key.startswith("en_"):
        return "en"
    if key.startswith("zh_") and not key.startswith(("zh_tw", "zh_hk", "zh_mo", "zh_hant")):
        return "zh_CN"
    return None


def system_language(locale: QLocale | None = None) -> str:
    """The interface language for a locale (default: the system's): Simplified Chinese for a Chinese
    locale written in simplified characters, English for every other (the C locale included)."""
    locale = locale or QLocale.system()
    if locale.language() == QLocale.Language.Chinese and locale.script() != QLocale.Script.TraditionalHanScript:
        return "zh_CN"
    return "en"


def choose_language(arg: str | None = None, setting: str | None = None, env: dict | None = None,
                    locale: QLocale | None = None) -> str:
    """The language to use, from the first of: command line, environment variable, setting, system locale."""
    env = os.environ if env is None else env
    for choice in (arg, env.get(ENV_VAR), setting):
        if choice and choice != SYSTEM:
            lang = normalise(choice)
            if lang is not None:
                return lang
    return system_language(locale)


def has_font_for(lang: str) -> bool:
    """Whether an installed font draws ``lang``'s script (call once a QGuiApplication exists)."""
    script = SCRIPTS.get(lang)
    return script is None or bool(QFontDatabase.families(script))


def startup_language(arg: str | None, setting: str | None) -> tuple[str, str]:
    """The language to start in and, when it had to fall back to English for want of a font, why."""
    lang = choose_language(arg, setting)
    if not has_font_for(lang):
        return "en", MSG_NO_FONT.format(name=LANGUAGES.get(lang, lang))
    return lang, ""


def remove_translators() -> None:
    app = QCoreApplication.instance()
    while _installed:
        translator = _installed.pop()
        if app is not None:
            app.removeTranslator(translator)


def install(lang: str) -> bool:
    """Install the translators for ``lang`` in the running application (replacing any installed before);
    True if the studio's own translation was found. English needs none: the sources are English."""
    remove_translators()
    app = QCoreApplication.instance()
    lang = normalise(lang) or "en"
    if app is None or lang == "en":
        return lang == "en"
    qt = QTranslator(app)
    if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    own = QTranslator(app)
    if not own.load(f"fewshot_studio_{lang}", str(i18n_dir())):
        return False
    app.installTranslator(own)
    _installed.append(own)
    return True


def current() -> str:
    """The language whose translators are installed ("en" when none are)."""
    for translator in _installed:
        lang = normalise(translator.language())
        if lang:
            return lang
    return "en"
