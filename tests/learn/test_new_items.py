"""The new-item map: never-rated items get vectors on the rated items' scale."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from kgrec.errors import ConfigError
from kgrec.learn.bundle import load_bundle
from kgrec.learn.config import TrainConfig
from kgrec.learn.kgrec_model import KGRecModel
from kgrec.learn.new_items import NewItemMap
from kgrec.learn.run import train_run
from tests.learn.test_cold_simulation import _cold_above_other_taste
from tests.learn.test_kgrec_model import FAST, _trained
from tests.twotastes import COLD_ROWS as COLD
from tests.twotastes import toy_snapshot, toy_split


def test_the_map_recovers_a_linear_relation() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=gen)
    w, b = torch.randn(5, 3, generator=gen), torch.randn(3, generator=gen)
    mapping = NewItemMap(5, 3, ridge=1e-6)
    mapping.fit(x, x @ w + b)
    assert bool(mapping.fitted)
    assert torch.allclose(mapping(x), x @ w + b, atol=1e-4)
    assert torch.allclose(mapping.bias, b, atol=1e-4)  # the intercept is not shrunk


def test_a_strong_ridge_predicts_the_mean_item() -> None:
    x, y = torch.randn(50, 4), torch.randn(50, 2)
    mapping = NewItemMap(4, 2, ridge=1e9)
    mapping.fit(x, y)
    assert torch.allclose(mapping(x), y.mean(0).expand(50, 2), atol=1e-4)


def _mapped(**overrides: object) -> KGRecModel:
    model, _ = _trained(fusion="late", modalities=["text"], new_item_ridge=1.0, **overrides)
    assert isinstance(model, KGRecModel)
    fitted = model.fit_new_items(seed=0)
    assert fitted == int(model.item_seen.sum())  # every rated item hidden in some pass
    return model.eval()


def test_the_map_changes_new_items_only() -> None:
    model = _mapped()
    users = torch.arange(4)
    with torch.no_grad():
        mapped = model.score_users(model.embed(), users)
        fitted = model.new_items.fitted.clone()
        model.new_items.fitted.fill_(False)
        plain = model.score_users(model.embed(), users)
        model.new_items.fitted.copy_(fitted)
    warm = model.item_seen
    assert torch.equal(mapped[:, warm], plain[:, warm])
    assert not torch.allclose(mapped[:, list(COLD)], plain[:, list(COLD)])


def test_mapped_new_films_compete_with_rated_films_of_the_other_taste() -> None:
    assert _cold_above_other_taste(_mapped()) >= 0.9


def test_no_map_no_fit() -> None:
    model, _ = _trained(fusion="none", epochs=1)
    with pytest.raises(ConfigError, match="new_item_ridge"):
        model.fit_new_items()


def test_the_fitted_map_travels_in_the_bundle(tmp_path: Path) -> None:
    snapshot, split = toy_snapshot(), toy_split()
    config = TrainConfig(**{**FAST, "epochs": 5, "fusion": "late", "modalities": ["text"], "new_item_ridge": 1.0})
    train_run(snapshot, config, tmp_path / "run", split=split)
    bundle = load_bundle(tmp_path / "run")
    assert isinstance(bundle.model, KGRecModel) and bool(bundle.model.new_items.fitted)
    with torch.no_grad():
        state = bundle.model.embed()
    assert state.new is not None
    assert torch.count_nonzero(bundle.model.new_items.weight) > 0
