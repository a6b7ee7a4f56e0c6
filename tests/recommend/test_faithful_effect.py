"""The masking effect computed locally around a user and an item equals a full re-propagation's score drop
(``ModelScores.masked_score``, ``embed(silent=...)``), for kgrec's GNN in its variants; where the decoder
is not linear in the graph vectors there is no local effect."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from kgrec.learn.bundle import save_bundle
from kgrec.learn.config import TrainConfig
from kgrec.learn.factory import build_model, training_graph
from kgrec.recommend.effect import MaskingEffect
from kgrec.recommend.model import ModelScores, Node
from tests.twotastes import toy_snapshot, toy_split

VARIANTS = {
    "late-fusion": {"fusion": "late"},  # the MovieLens demo's decoder: graph score plus text score
    "no-fusion": {"fusion": "none"},  # the Last.fm demo's
    "attention-learned": {"fusion": "none", "kg_mode": "attention", "kg_inputs": "learned"},
    "three-layers": {"fusion": "late", "layers": 3},  # the layer-by-layer path (two layers have their own)
    "one-layer": {"fusion": "none", "layers": 1},
}


def _scores(tmp_path: Path, **options: object) -> ModelScores:
    """A kgrec GNN on the toy world with weights no fresh model has, saved and loaded as the answers load it."""
    config = TrainConfig(model="kgrec", dim=8, seed=4, **options)
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config))
    with torch.no_grad():
        gen = torch.Generator().manual_seed(99)
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen))
    save_bundle(tmp_path / "bundle", model.eval(), config, split, snapshot, {})
    return ModelScores.load(tmp_path / "bundle")


def _masks(fx: MaskingEffect, scores: ModelScores, user: object, item: object, rng: random.Random) -> list[list[Node]]:
    """Masks like explanation paths: a node next to the user (a rated film) with one next to the item, the
    item's neighbour with one of its own neighbours (adjacent silenced nodes), three at once, one alone."""
    node = {fx.offsets[t] + r: (t, k) for t, by_key in scores.rows.items() for k, r in by_key.items()}
    u = fx.offsets[scores.users] + scores.rows[scores.users][user]
    i = fx.offsets[scores.items] + scores.rows[scores.items][item]
    near_u = fx.in_src[fx.in_ptr[u] : fx.in_ptr[u + 1]].tolist()
    near_i = [n for n in fx.in_src[fx.in_ptr[i] : fx.in_ptr[i + 1]].tolist() if n != u]
    masks = [[rng.choice(near_u), rng.choice(near_i)] for _ in range(4)]
    x = rng.choice(near_i)
    beyond = [n for n in fx.out_dst[fx.out_ptr[x] : fx.out_ptr[x + 1]].tolist() if n not in (u, i)]
    masks += [[x, rng.choice(beyond)], [rng.choice(near_u), x, rng.choice(beyond)], [x]]
    return [[node[n] for n in m] for m in masks]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_local_effect_is_the_full_repropagation_drop(tmp_path: Path, name: str) -> None:
    scores = _scores(tmp_path, **VARIANTS[name])
    fx = MaskingEffect.of(scores)
    assert fx is not None
    rng = random.Random(3)
    for user, item in [(0, 3), (5, 20), (17, 9), (23, 30)]:
        user, item = scores.user_keys[user], scores.item_keys[item]
        masks = _masks(fx, scores, user, item, rng)
        base = scores.masked_score(user, item, [])
        full = np.array([base - scores.masked_score(user, item, m) for m in masks])
        local = np.array(fx.drops(user, item, masks))
        assert np.abs(full).max() > 1e-3  # the masks matter: the check is not between two zeros
        assert np.abs(local - full).max() < 1e-5


def test_no_local_effect_where_the_decoder_reads_the_item_vector(tmp_path: Path) -> None:
    # hybrid fusion weighs graph and text per item by an attention over the item's vector: not linear
    assert MaskingEffect.of(_scores(tmp_path, fusion="hybrid")) is None


def test_an_unknown_user_or_item_has_no_local_effect(tmp_path: Path) -> None:
    scores = _scores(tmp_path, fusion="none")
    fx = MaskingEffect.of(scores)
    assert fx is not None
    assert fx.drops("nobody", scores.item_keys[0], [[]]) is None
    assert fx.drops(scores.user_keys[0], "nothing", [[]]) is None


@pytest.mark.parametrize("name", ["late-fusion", "three-layers"])
def test_the_effects_for_many_items_of_one_user_at_once_are_each_pairs_own(tmp_path: Path, name: str) -> None:
    # the answers ask for all of a user's recommendations in one call: masks of different items share nodes
    scores = _scores(tmp_path, **VARIANTS[name])
    fx = MaskingEffect.of(scores)
    assert fx is not None
    rng = random.Random(5)
    user, items = scores.user_keys[7], [scores.item_keys[j] for j in (2, 11, 19, 28)]
    masks = [_masks(fx, scores, user, item, rng) for item in items]
    masks[1] += masks[0][:2]  # the same nodes silenced for two items
    together = fx.user_drops(user, items, masks)
    for item, item_masks, drops in zip(items, masks, together):
        base = scores.masked_score(user, item, [])
        full = [base - scores.masked_score(user, item, m) for m in item_masks]
        assert drops == pytest.approx(full, abs=1e-5)
