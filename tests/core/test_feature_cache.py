"""The feature cache on disk: it lasts between processes, stays within its bound, survives two writers and a
corrupt file, and lets evaluate / adapt with a frozen backbone embed each image once."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import torch
from clihelp import cli
from imagegen import draw_shape, make_image_folder

from fewshot_studio.core.backbones import cache
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.episodes import EpisodeSampler, folder_pool
from fewshot_studio.core.evaluation import evaluate_episodes, fit_predictor, open_predictor
from fewshot_studio.core.feature_store import FeatureCacheWarning, FeatureStore, cache_path, feature_store
from fewshot_studio.core.support import SupportSet

ADAPT_AND_COUNT = textwrap.dedent("""
    import json, sys
    from fewshot_studio.core.backbones import cache
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.support import SupportSet
    support, _ = SupportSet.from_folder(sys.argv[1])
    events = list(AdaptRun(support, "efficientnet_lite0", "prototypical"))
    stages = sorted({e.name for e in events if hasattr(e, "name")})
    print(json.dumps({**cache.counters, "stages": stages}))
""")


@pytest.fixture(autouse=True)
def _fresh_memory():
    """This process's front of the cache starts empty, so each test sees what reaches the disk."""
    cache.clear_caches()
    cache.reset_counters()
    yield


def _adapt_in_new_process(folder) -> dict:
    out = subprocess.run([sys.executable, "-c", ADAPT_AND_COUNT, str(folder)], capture_output=True, text=True,
                         env=os.environ.copy(), timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_second_process_adapting_the_same_images_embeds_nothing_even_when_they_moved(tmp_path):
    folder = make_image_folder(tmp_path / "support", per_class=3, size=64)
    first = _adapt_in_new_process(folder)
    assert first["embedded"] == 9 and first["disk_hits"] == 0
    assert "embedding support images" in first["stages"] and "loading images" in first["stages"]
    second = _adapt_in_new_process(folder)
    assert second["embedded"] == 0 and second["disk_hits"] == 9
    assert "embedding support images" not in second["stages"]
    assert "loading images" not in second["stages"]  # every feature known: no image is even decoded
    moved = shutil.copytree(folder, tmp_path / "elsewhere")  # keyed by content, not by path or time
    third = _adapt_in_new_process(moved)
    assert third["embedded"] == 0 and third["disk_hits"] == 9
    (moved / "red_circle" / "red_circle_0.png").write_bytes((folder / "blue_square" / "blue_square_0.png").read_bytes())
    fourth = _adapt_in_new_process(moved)  # an edited image is a new image (and the copied bytes a known one)
    assert fourth["embedded"] == 0 and fourth["disk_hits"] == 9
    draw_shape("ellipse", (200, 30, 30), 777, 64).save(moved / "red_circle" / "new.png")
    fifth = _adapt_in_new_process(moved)
    assert fifth["embedded"] == 1 and fifth["disk_hits"] == 9


def test_cached_features_give_the_same_classifier(tmp_path):
    folder = make_image_folder(tmp_path / "support", per_class=3, size=64)
    support, _ = SupportSet.from_folder(folder)
    fresh = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    cache.clear_caches()  # memory forgotten: the features come from disk
    cache.reset_counters()
    again = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    assert cache.counters["embedded"] == 0 and cache.counters["disk_hits"] == 9
    assert torch.equal(fresh.support_features, again.support_features)


def _vec(i: int) -> torch.Tensor:
    return torch.full((100,), float(i))  # 400 bytes as float32


def test_eviction_keeps_the_bound_and_drops_the_least_recently_used(tmp_path):
    store = FeatureStore(tmp_path / "f.sqlite3", limit_bytes=1000)  # room for two entries of 400 bytes
    store.put_many([("a", _vec(1))])
    store.put_many([("b", _vec(2))])
    assert store.get_many(["a"])[0] is not None  # a is now more recently used than b
    store.put_many([("c", _vec(3))])
    a, b, c = store.get_many(["a", "b", "c"])
    assert b is None and torch.equal(a, _vec(1)) and torch.equal(c, _vec(3))
    info = store.info()
    assert info.entries == 2 and info.bytes == 800 <= info.limit_bytes


def test_the_bound_comes_from_the_environment_and_zero_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("FEWSHOT_STUDIO_FEATURE_CACHE_MB", "0")
    store = feature_store()
    store.put_many([("a", _vec(1))])
    assert store.get_many(["a"]) == [None] and not cache_path().exists()
    monkeypatch.setenv("FEWSHOT_STUDIO_FEATURE_CACHE_MB", "2")
    assert feature_store().limit_bytes == 2 * 2**20


WRITER = textwrap.dedent("""
    import sys, torch
    from fewshot_studio.core.feature_store import FeatureStore
    store = FeatureStore(sys.argv[1], limit_bytes=2**30)
    tag = sys.argv[2]
    for i in range(150):
        store.put_many([(f"{tag}-{i}", torch.full((64,), float(i))), ("shared", torch.full((64,), 7.0))])
        assert store.get_many([f"{tag}-{i}"])[0] is not None
""")


def test_two_processes_writing_at_once_do_not_corrupt_the_cache(tmp_path):
    path = tmp_path / "f.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag], stderr=subprocess.PIPE, text=True,
                              env=os.environ.copy()) for tag in ("x", "y")]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert "FeatureCacheWarning" not in err
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = FeatureStore(path, limit_bytes=2**30)
    got = store.get_many([f"{t}-{i}" for t in "xy" for i in range(150)] + ["shared"])
    assert all(torch.equal(g, torch.full((64,), float(i % 150))) for i, g in enumerate(got[:-1]))
    assert torch.equal(got[-1], torch.full((64,), 7.0)) and store.info().entries == 301


def test_a_corrupt_cache_file_is_recreated_with_one_warning(tmp_path):
    folder = make_image_folder(tmp_path / "support", per_class=2, size=64)
    support, _ = SupportSet.from_folder(folder)
    AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    path = cache_path()
    assert path.exists()
    for suffix in ("-wal", "-shm"):
        (path.parent / (path.name + suffix)).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    cache.clear_caches()
    cache.reset_counters()
    from fewshot_studio.core import feature_store as module

    module._warned.clear()
    with pytest.warns(FeatureCacheWarning, match="started afresh") as seen:
        clf = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
        AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    assert len([w for w in seen if issubclass(w.category, FeatureCacheWarning)]) == 1
    assert clf.class_names == support.class_names and cache.counters["embedded"] == 6
    cache.clear_caches()
    cache.reset_counters()
    AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    assert cache.counters["disk_hits"] == 6  # the new file works


def test_a_damaged_entry_is_a_miss_and_is_dropped(tmp_path):
    store = FeatureStore(tmp_path / "f.sqlite3", limit_bytes=2**20)
    store.put_many([("a", _vec(1)), ("b", _vec(2))])
    with sqlite3.connect(store.path) as con:
        con.execute("UPDATE entries SET data = ? WHERE key = 'a'", (b"short",))
    assert store.get_many(["a", "b"])[0] is None
    assert store.info().entries == 1


def test_cache_clear_on_the_command_line_empties_it(tmp_path):
    folder = make_image_folder(tmp_path / "support", per_class=2, size=64)
    support, _ = SupportSet.from_folder(folder)
    AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    shown = json.loads(cli("cache", "--json").stdout)
    assert shown["entries"] == 6 and shown["bytes"] == 6 * 1280 * 4 and shown["path"] == str(cache_path())
    text = cli("cache").stdout
    assert "6 images" in text and "MiB" in text
    cleared = cli("cache", "--clear").stdout
    assert "cleared the feature cache: 6 images" in cleared
    assert json.loads(cli("cache", "--json").stdout)["entries"] == 0
    cache.clear_caches()
    cache.reset_counters()
    AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    assert cache.counters["embedded"] == 6  # embedded again after clearing


def test_evaluate_with_a_frozen_backbone_embeds_each_image_once(tmp_path):
    folder = make_image_folder(tmp_path / "pool", per_class=4, size=64)  # 3 classes, 12 images
    support, _ = SupportSet.from_folder(folder)
    model = AdaptRun(support, "efficientnet_lite0", "prototypical").run().save(tmp_path / "m.fsmodel")
    predict, pre, _ = open_predictor(model, device="cpu")
    sampler = EpisodeSampler(folder_pool(folder, pre), 3, 1, 2, seed=0)
    cache.reset_counters()
    result = evaluate_episodes(predict, sampler, 20)  # 20 episodes x 9 images = 180 images shown
    assert 0 < cache.counters["embedded"] <= 12
    cache.reset_counters()
    again = evaluate_episodes(predict, sampler, 20)
    assert cache.counters["embedded"] == 0 and again.mean == result.mean
    clf = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    from fewshot_studio.core.algorithms import get_method

    uncached = fit_predictor(lambda: get_method("prototypical")(), clf.backbone, pre, "cpu")
    assert evaluate_episodes(uncached, sampler, 20).mean == result.mean


def test_the_cache_command_answers_without_importing_torch():
    code = ("import sys, json\nfrom fewshot_studio.cli.parser import main\nmain(['cache', '--json'])\n"
            "print(json.dumps('torch' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(),
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "false"
