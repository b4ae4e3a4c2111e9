"""What to label next, and the embedding map, as the Python API's user sees them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from imagegen import SHAPES, draw_shape, make_image_folder
from PIL import Image

from fewshot_studio.core import embedding_map as emap
from fewshot_studio.core.backbones.cache import clear_feature_cache
from fewshot_studio.core.embeddings import NoImagesError, forget
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.runs import Stage
from fewshot_studio.core.errors import ImageError, ParameterError
from fewshot_studio.core.label_next import RankRun, diverse_order, rank_images, uncertainty
from fewshot_studio.core.support import SupportSet

CLASSES = ("red_circle", "blue_square", "green_triangle")


def blend(a: str, b: str, seed: int, size: int = 64) -> Image.Image:
    """Half one class, half another (same place, same background): what a classifier should be least sure of."""
    return Image.blend(draw_shape(*SHAPES[a], seed, size), draw_shape(*SHAPES[b], seed, size), 0.5)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A prototypical classifier of three generated classes, and a folder of unlabelled images:
    clear examples of each class, blends of two classes, and a file that is not an image."""
    root = tmp_path_factory.mktemp("label-next")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", CLASSES, per_class=4, size=64))
    clf = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    pool = root / "unlabelled"
    pool.mkdir()
    clear, blended = [], []
    for ci, name in enumerate(CLASSES):
        for i in range(3):
            path = pool / f"clear_{name}_{i}.png"
            draw_shape(*SHAPES[name], 5000 + ci * 10 + i, 64).save(path)
            clear.append(path)
    for i, (a, b) in enumerate([("red_circle", "blue_square"), ("blue_square", "green_triangle"),
                                ("green_triangle", "red_circle")]):
        path = pool / f"blend_{a}_{b}.png"
        blend(a, b, 7000 + 10 * i).save(path)
        blended.append(path)
    (pool / "notes.txt").write_text("not an image")
    return clf, pool, clear, blended


@pytest.mark.parametrize("by", ["margin", "entropy"])
def test_images_between_two_classes_rank_above_clear_examples(world, by):
    clf, pool, clear, blended = world
    run = RankRun(clf, [pool], by=by)
    events = list(run)
    assert all(isinstance(e, Stage) for e in events)
    embedding = [e for e in events if e.name == "embedding images"]
    assert embedding[-1].done == embedding[-1].total == len(clear) + len(blended)
    ranking = run.result
    order = [Path(item.path) for item in ranking.items]
    assert sorted(order) == sorted(clear + blended)
    assert set(order[:len(blended)]) == set(blended), [(Path(i.path).name, round(i.score, 3)) for i in ranking.items]
    assert [i.rank for i in ranking.items] == list(range(1, len(order) + 1))
    for item in ranking.items:  # the guess for a clear example is its class
        if Path(item.path) in clear:
            assert item.label in Path(item.path).name and item.score < 0.9
        assert 0 <= item.score <= 1 and item.top_k[0] == (item.label, item.confidence)
    assert [s.path.name for s in ranking.skipped] == ["notes.txt"]


def test_scores_follow_their_definitions():
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.2, 0.2]])
    torch.testing.assert_close(uncertainty(probs, "margin"), torch.tensor([1.0, 0.15, 1.0, 0.6]))
    entropy = uncertainty(probs, "entropy")
    assert entropy[2] == pytest.approx(1.0) and entropy[0] == pytest.approx(np.log(2) / np.log(3), rel=1e-4)
    assert entropy[1] < entropy[0] < entropy[3] < entropy[2]
    # why margin is the default: torn between two classes (row 0) comes before fairly sure of one (row 3);
    # entropy puts them the other way round, because the sure one spreads its rest over two classes
    margin = uncertainty(probs, "margin")
    assert margin[0] > margin[3] and entropy[0] < entropy[3]
    with pytest.raises(ParameterError, match="choose one of: margin, entropy"):
        uncertainty(probs, "confidence")


def test_diversity_moves_a_near_duplicate_down_the_list():
    scores = torch.tensor([0.95, 0.94, 0.80, 0.10])
    features = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.01, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert diverse_order(scores, features, 0.0) == [0, 1, 2, 3]
    assert diverse_order(scores, features, 0.3) == [0, 2, 1, 3], "the copy of #1 waits until a distinct image"


def test_support_images_are_not_ranked_again_and_bad_input_says_what_to_do(world, tmp_path):
    clf, pool, clear, _ = world
    support_image = Path(clf.support_paths[0])
    ranking = rank_images(clf, [support_image, clear[0]])
    assert [Path(i.path) for i in ranking.items] == [clear[0]] and ranking.already_labelled == [support_image]

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoImagesError, match="no usable images in .*empty; give a folder of image files"):
        rank_images(clf, [empty])
    (empty / "a.txt").write_text("x")
    with pytest.raises(NoImagesError, match=r"1 file skipped: .*a.txt: not an image file"):
        rank_images(clf, [empty])
    with pytest.raises(NoImagesError, match="already one of the model's support images"):
        rank_images(clf, [support_image])
    with pytest.raises(ImageError, match="not found; give a folder of images"):
        rank_images(clf, [tmp_path / "nowhere"])
    with pytest.raises(ParameterError, match="diversity must be between 0 and 1"):
        RankRun(clf, [pool], diversity=2)


def test_cancelled_ranking_stops_before_the_next_batch(world):
    clf, pool, _, _ = world
    forget(clf)
    clear_feature_cache()  # nothing known about these images, in memory or on disk
    run = RankRun(clf, [pool], batch_size=2)
    first = next(iter_ := iter(run))
    assert first == Stage("embedding images", 0, 12)
    run.cancel()
    assert list(iter_) == [] and run.result is None


def test_images_are_embedded_once_per_model(world, monkeypatch):
    clf, pool, clear, blended = world
    forget(clf)
    clear_feature_cache()
    seen = []
    features = clf.features
    monkeypatch.setattr(clf, "features", lambda x: (seen.append(x.shape[0]), features(x))[1])
    by_margin = rank_images(clf, [pool], "margin", diversity=0)
    assert sum(seen) == len(clear) + len(blended)
    by_entropy = rank_images(clf, [pool], "entropy", diversity=0)
    emap.embedding_map(clf, [pool])
    assert sum(seen) == len(clear) + len(blended), "ranking again and the map reuse the features"
    assert {i.path: i.margin for i in by_margin.items} == {i.path: i.margin for i in by_entropy.items}
    forget(clf)
    rank_images(clf, clear[:2])
    assert sum(seen) == len(clear) + len(blended), "the feature cache still knows them"
    forget(clf)
    clear_feature_cache()
    rank_images(clf, clear[:2])
    assert sum(seen) == len(clear) + len(blended) + 2


def test_pca_separates_well_separated_classes(world):
    clf, pool, clear, blended = world
    result = emap.embedding_map(clf, clear)
    n_support = len(clf.support_paths)
    assert result.coords.shape == (n_support + len(clear), 2) and result.coords.dtype == np.float32
    assert result.kinds == ["support"] * n_support + ["query"] * len(clear)
    assert result.paths[:n_support] == clf.support_paths
    assert all(c is None for c in result.confidence[:n_support]) and all(result.confidence[n_support:])
    assert 0 < result.explained[1] <= result.explained[0] < 1
    centroids, spread = {}, []
    for name in CLASSES:
        points = result.coords[result.indices(label=name)]
        assert len(points) == 4 + 3, "support images and the clear queries predicted as that class"
        centroids[name] = points.mean(0)
        spread.append(np.linalg.norm(points - centroids[name], axis=1).mean())
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for i, a in enumerate(CLASSES) for b in CLASSES[i + 1:]]
    assert min(gaps) > 2 * max(spread), (gaps, spread)
    again = emap.embedding_map(clf, clear)
    np.testing.assert_array_equal(again.coords, result.coords)


def test_map_files_and_t_sne_without_scikit_learn(world, tmp_path, monkeypatch):
    clf, _, clear, _ = world
    result = emap.embedding_map(clf, clear[:2])
    csv_text = result.save(tmp_path / "map.csv").read_text()
    assert csv_text.splitlines()[0] == "kind,path,label,x,y,confidence" and len(csv_text.splitlines()) == len(result) + 1
    import json

    data = json.loads(result.save(tmp_path / "map.json").read_text())
    assert data["method"] == "pca" and len(data["points"]) == len(result)
    with pytest.raises(emap.EmbeddingMapError, match=r"\.csv or \.json"):
        result.save(tmp_path / "map.txt")
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setattr(emap, "tsne_available", lambda: False)
    with pytest.raises(emap.EmbeddingMapError, match=r"pip install 'fewshot-studio\[tsne\]'.*or use PCA"):
        emap.EmbeddingMapRun(clf, clear, method="tsne")


def test_t_sne_when_scikit_learn_is_installed(world):
    pytest.importorskip("sklearn")
    clf, _, clear, _ = world
    result = emap.embedding_map(clf, clear, method="tsne")
    assert result.coords.shape == (len(clf.support_paths) + len(clear), 2) and result.explained is None
