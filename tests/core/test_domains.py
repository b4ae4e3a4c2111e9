"""Meta-training on several base datasets (domains): episodes from one domain each, per-domain validation."""

from __future__ import annotations

import json

import pytest
import torch
from imagegen import make_look_dataset, shape_pool
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from fewshot_studio.core.domains import MultiDomainSampler, domain_names, mean_over_domains
from fewshot_studio.core.episodes import DatasetError, EpisodeSampler, TensorPool
from fewshot_studio.core.evaluation import EvalResult
from fewshot_studio.core.meta_train import MetaTrainConfig, MetaTrainRun, Validation


def small_pool(classes: int, per_class: int = 4, value: int = 0) -> TensorPool:
    data = [torch.full((per_class, 3, 8, 8), value, dtype=torch.uint8) for _ in range(classes)]
    return TensorPool(data, [f"c{i}" for i in range(classes)], [f"c{i}" for i in range(classes)])


def test_each_episode_comes_from_one_domain_by_weight_and_is_the_same_for_the_same_index():
    pools = {"a": small_pool(4, value=10), "b": small_pool(12, value=200)}
    uniform = MultiDomainSampler.from_pools(pools, 3, 1, 2, seed=5)
    again = MultiDomainSampler.from_pools(pools, 3, 1, 2, seed=5)
    domains = [uniform.domain(i) for i in range(2000)]
    assert domains == [again.domain(i) for i in range(2000)]  # deterministic in (seed, i): resume and DDP shards
    assert 0.45 < sum(domains) / 2000 < 0.55
    for i in (0, 7, 1234):
        ep = uniform.episode(i)
        values = set(torch.cat([ep.support, ep.query]).unique().tolist())
        assert values == {(10, 200)[uniform.domain(i)]}  # every image of an episode is from its one domain
        assert torch.equal(ep.query, again.episode(i).query)
    proportional = MultiDomainSampler.from_pools(pools, 3, 1, 2, seed=5, weighting="proportional")
    share = sum(proportional.domain(i) for i in range(2000)) / 2000
    assert 0.70 < share < 0.80  # 12 of the 16 classes are domain b's
    assert [MultiDomainSampler.from_pools(pools, 3, 1, 2, seed=6).domain(i) for i in range(50)] != domains[:50]


def test_one_domain_gives_exactly_the_single_dataset_episodes():
    pool = shape_pool(per_class=4, size=28)
    alone = EpisodeSampler(pool, 5, 1, 3, seed=3)
    multi = MultiDomainSampler.from_pools({"shapes": pool}, 5, 1, 3, seed=3)
    for i in (0, 1, 99):
        assert torch.equal(alone.episode(i).support, multi.episode(i).support)


def test_a_domain_with_too_few_classes_is_refused_by_name():
    with pytest.raises(DatasetError, match=r"^the dataset tiny has 2 classes .* 5-way episodes need 5$"):
        MultiDomainSampler.from_pools({"big": small_pool(10), "tiny": small_pool(2)}, 5, 1, 2)


def test_names_and_the_mean_over_domains():
    assert domain_names(["x/omniglot.npz", "y/fashion"]) == ["omniglot", "fashion"]
    assert domain_names(["x/data.npz", "y/data.npz"]) == ["x/data.npz", "y/data.npz"]
    mean = mean_over_domains({"a": EvalResult(0.8, 0.03, 10, 5, 1), "b": EvalResult(0.6, 0.04, 10, 5, 1)})
    assert mean.mean == pytest.approx(0.7) and mean.ci95 == pytest.approx(0.025) and mean.episodes == 20


@pytest.fixture
def two_looks(tmp_path):
    return [str(make_look_dataset(tmp_path / "light", "light")), str(make_look_dataset(tmp_path / "dark", "dark"))]


def small_config(datasets, tmp_path, **changes) -> MetaTrainConfig:
    base = dict(datasets=datasets, backbone="conv4", weights="random", image_size=28, ways=3, shots=1, queries=2,
                meta_batch=2, steps=2, val_every=2, val_episodes=3, val_fraction=0.5, device="cpu",
                output=str(tmp_path / "m.safetensors"))
    return MetaTrainConfig(**{**base, **changes})


def test_validation_is_per_domain_and_the_best_is_chosen_on_the_mean(two_looks, tmp_path):
    run = MetaTrainRun(small_config(two_looks, tmp_path, steps=4))
    validations = [e for e in run if isinstance(e, Validation)]
    assert [v.step for v in validations] == [2, 4]
    for v in validations:
        assert list(v.per_domain) == ["light", "dark"]
        assert v.result.mean == pytest.approx(sum(r.mean for r in v.per_domain.values()) / 2)
    with safe_open(str(tmp_path / "m.last.safetensors"), framework="pt") as f:
        meta = json.loads(f.metadata()["fewshot_studio"])
    assert meta["config"]["datasets"] == two_looks and set(meta["history"][-1]["per_domain"]) == {"light", "dark"}
    best = max(validations, key=lambda v: v.result.mean)
    assert run.best.mean == best.result.mean and meta["best"]["mean"] == best.result.mean
    assert meta["best"]["per_domain"]["dark"]["mean"] == best.per_domain["dark"].mean


def test_a_checkpoint_from_before_several_domains_still_resumes(two_looks, tmp_path):
    run = MetaTrainRun(small_config(two_looks[:1], tmp_path))
    run.run()
    last = tmp_path / "m.last.safetensors"
    with safe_open(str(last), framework="pt") as f:
        metadata = dict(f.metadata())
    meta = json.loads(metadata["fewshot_studio"])
    config = meta["config"]
    config["dataset"] = config.pop("datasets")[0]  # the saved config of a run made before several domains
    del config["dataset_weight"]
    for entry in meta["history"] + [meta["best"]]:
        entry.pop("per_domain")
    old = tmp_path / "old.last.safetensors"
    save_file(load_file(str(last)), str(old), metadata={**metadata, "fewshot_studio": json.dumps(meta)})
    resumed = MetaTrainRun(small_config(["ignored"], tmp_path, steps=4), resume=old)
    assert resumed.config.datasets == two_looks[:1]
    resumed.run()
    assert [h["step"] for h in resumed.history] == [2, 4] and list(resumed.history[-1]["per_domain"]) == ["light"]


def test_rotations_make_new_classes_of_a_folder_domain_too(tmp_path):
    # --rotations used to be applied to Omniglot files only: a folder domain kept its classes, so an Omniglot +
    # folder run with the characters' recipe (20-way, rotations) was refused for too few classes in the folder
    from fewshot_studio.core.episodes import folder_pool, open_pool
    from fewshot_studio.core.preprocess import Preprocess

    folder = make_look_dataset(tmp_path / "light", "light", classes=3, per_class=3)
    pre = Preprocess(28, 28, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    plain, rotated = folder_pool(folder, pre), open_pool(folder, pre, rotations=True)
    assert len(plain) == 3 and len(rotated) == 12 and rotated.count(7) == 3
    assert rotated.names[4] == f"{plain.names[1]}@90" and rotated.groups[4] == plain.groups[1]
    index = torch.arange(3)
    assert torch.equal(rotated.images(1, index), plain.images(1, index))
    assert torch.equal(rotated.images(7, index), torch.rot90(plain.images(1, index), 2, dims=(2, 3)))
    train, held = rotated.split(1 / 3)  # a class and its rotations stay on one side of the split
    assert len(train) == 8 and set(held.names) == {f"{plain.names[2]}@{a}" for a in (0, 90, 180, 270)}
    run = MetaTrainRun(small_config([str(folder)], tmp_path, ways=5, rotations=True, val_every=0, val_fraction=0.0))
    run.run()
    assert run.result.exists()
