"""The interface's language: English (the source strings) or Simplified Chinese.

The language is chosen once, before the window is built: ``--lang`` on the command line, else the
``FEWSHOT_STUDIO_LANG`` environment variable, else the setting (View > Language), else the system locale.
Changing the setting takes effect at the next start. The studio's own translations are
``resources/i18n/fewshot_studio_<lang>.qm`` (made from the ``.ts`` beside them: ``make translations``);
Qt's own (``qtbase_<lang>.qm``, for the buttons of standard dialogs) come with PySide6.

The engine's messages are English (the command line prints them). The window shows them through
:func:`core_text`, which finds the core template a message was made from in :data:`CORE_MESSAGES` and gives
its translation with the same values filled in; a message not in the table stays as it is. This is the one
way core text reaches the window in another language (:func:`.notices.exception_text` calls it).
"""

from __future__ import annotations

import os
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QTranslator
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


# --- the engine's messages in the window's language ---------------------------------------------------------
CORE_CONTEXT = "CoreMessages"
# The core message templates the window shows most (each is a core module's MSG_ constant, word for word:
# tests/gui/test_language.py checks). {name!r}, {n:,} and the like are filled in as the core wrote them.
CORE_MESSAGES = (
    QT_TRANSLATE_NOOP("CoreMessages", "a support set needs at least 2 classes (it has {n}); add another class"),
    QT_TRANSLATE_NOOP("CoreMessages", "class {name!r} has no images; add at least one example or remove the class"),
    QT_TRANSLATE_NOOP("CoreMessages", "class names cannot be empty"),
    QT_TRANSLATE_NOOP("CoreMessages", "there is already a class called {name!r}; choose another name"),
    QT_TRANSLATE_NOOP("CoreMessages", "there is no class called {name!r}"),
    QT_TRANSLATE_NOOP("CoreMessages", "file not found"),
    QT_TRANSLATE_NOOP("CoreMessages", "is a folder, not an image file"),
    QT_TRANSLATE_NOOP("CoreMessages", "cannot be read ({error}); check its permissions"),
    QT_TRANSLATE_NOOP("CoreMessages", "file is empty (0 bytes)"),
    QT_TRANSLATE_NOOP("CoreMessages", "not an image file that can be read (supported: PNG, JPEG, BMP, GIF, TIFF, "
                                      "WebP, PPM...)"),
    QT_TRANSLATE_NOOP("CoreMessages", "image data is truncated or corrupt ({error}); re-export or re-download the "
                                      "file"),
    QT_TRANSLATE_NOOP("CoreMessages", "image is too large ({pixels:,} pixels, the limit is {limit:,}); downscale it "
                                      "first"),
    QT_TRANSLATE_NOOP("CoreMessages", "colour mode {mode} is not supported; convert the image to RGB"),
    QT_TRANSLATE_NOOP("CoreMessages", "the loss became {loss} at step {step}; the run stopped and the previous model "
                                      "is kept. Lower the learning rate (it was {lr:g}) or use fewer steps"),
    QT_TRANSLATE_NOOP("CoreMessages", "no network: {name} weights are not in the cache at {path}; use Backbone > "
                                      "Import weights... (or: fewshot-studio import-weights {name} FILE) or connect "
                                      "once to download them"),
    QT_TRANSLATE_NOOP("CoreMessages", "{path}: project file not found"),
    QT_TRANSLATE_NOOP("CoreMessages", "{path}: the project file is damaged ({why}); use a backup or save the project "
                                      "again"),
    QT_TRANSLATE_NOOP("CoreMessages", "cannot write {path}: {error}; choose a folder you can write to"),
    QT_TRANSLATE_NOOP("CoreMessages", "{path}: model file not found"),
    QT_TRANSLATE_NOOP("CoreMessages", "{path}: not a readable model file ({error}); it may be truncated or damaged, "
                                      "save it again"),
    QT_TRANSLATE_NOOP("CoreMessages", "domain adaptation ({names}) needs unlabelled images of the target domain; "
                                      "add some (the window's Unlabelled images tray, adapt --unlabelled DIR, or "
                                      "SupportSet.add_unlabelled_files) or leave domain adaptation out "
                                      "(untick it in the window, drop --domain-adaptation)"),
    QT_TRANSLATE_NOOP("CoreMessages", "soft_kmeans refines class prototypes and {method} has none; use it with a "
                                      "prototype method (prototypical, pmf) or drop soft_kmeans"),
    QT_TRANSLATE_NOOP("CoreMessages", "t-SNE needs at least {n} images (there are {have}); use PCA, or add query "
                                      "images"),
)
CORE_SEPARATOR = QT_TRANSLATE_NOOP("CoreMessages", "; ")  # between messages the core joined into one
_FIELD = re.compile(r"\{(\w*)(![rsa])?(:[^{}]*)?\}")


@cache
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """(a regular expression matching what a template becomes once filled in, the template)."""
    out = []
    for template in CORE_MESSAGES:
        parts, names, last = [], set(), 0
        for m in _FIELD.finditer(template):
            parts.append(re.escape(template[last:m.start()]))
            name = m.group(1)
            parts.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
            names.add(name)
            last = m.end()
        parts.append(re.escape(template[last:]))
        out.append((re.compile("".join(parts), re.DOTALL), template))
    return tuple(out)


def _translate_one(text: str) -> str | None:
    for pattern, template in _patterns():
        m = pattern.fullmatch(text)
        if m is not None:
            translated = QCoreApplication.translate(CORE_CONTEXT, template)
            return _FIELD.sub(lambda f: "{" + f.group(1) + "}", translated).format_map(m.groupdict())
    return None


def core_text(text: str) -> str:
    """A core message (or several joined by "; ") in the interface's language: each part made from a template
    of :data:`CORE_MESSAGES` is translated with its values kept; any other part stays as the core wrote it."""
    whole = _translate_one(text)
    if whole is not None:
        return whole
    pieces, out, i = text.split("; "), [], 0
    while i < len(pieces):
        for j in range(len(pieces), i, -1):  # the longest run of pieces that is one message
            found = _translate_one("; ".join(pieces[i:j]))
            if found is not None:
                out.append(found)
                i = j
                break
        else:
            out.append(pieces[i])
            i += 1
    if out == pieces:
        return text
    return QCoreApplication.translate(CORE_CONTEXT, CORE_SEPARATOR).join(out)
