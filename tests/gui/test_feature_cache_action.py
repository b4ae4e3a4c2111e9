"""Backbone > Clear feature cache...: shows how much the cache on disk holds, then empties it."""

from __future__ import annotations

from fewshot_studio.core.backbones import cache
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.feature_store import feature_store
from fewshot_studio.core.support import SupportSet
from fewshot_studio.gui import dialogs


def _menu_action(window, menu_title: str, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title)
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_clear_feature_cache_from_the_backbone_menu(window, shapes, qtbot, monkeypatch):
    support, _ = SupportSet.from_folder(shapes)
    cache.clear_caches()
    AdaptRun(support, "efficientnet_lite0", "prototypical").run()  # 12 images' features reach the disk
    asked = []
    monkeypatch.setattr(dialogs, "confirm_clear_feature_cache",
                        lambda parent, entries, mib: asked.append((entries, mib)) or False)
    action = _menu_action(window, "Backbone", "Clear feature cache...")
    action.trigger()
    assert asked == [(12, 12 * 1280 * 4 / 2**20)]
    assert feature_store().info().entries == 12  # cancelled: nothing cleared

    monkeypatch.setattr(dialogs, "confirm_clear_feature_cache", lambda parent, entries, mib: True)
    action.trigger()
    qtbot.waitUntil(lambda: "Cleared the feature cache (12 images)." in window.message_bar.text(), timeout=30_000)
    assert feature_store().info().entries == 0
    cache.reset_counters()
    AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    assert cache.counters["embedded"] == 12  # also forgotten in memory
