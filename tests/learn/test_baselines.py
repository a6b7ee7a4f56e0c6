"""Popularity, BPR-MF and LightGCN: the Recommender contract, closed-form popularity, learning a planted structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kgrec.learn.bpr_mf import BPRMF
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.lightgcn import LightGCN, normalised_adjacency
from kgrec.learn.popularity import Popularity
from kgrec.learn.recommender import Recommender
from kgrec.learn.sampling import NegativeSampler, bpr_batches
from kgrec.learn.split import Split, make_split

CLUSTERS, USERS_PER, ITEMS_PER, LIKES = 4, 15, 20, 10


def _planted() -> Split:
    """Users of cluster c interact only with items of cluster c (10 of its 20 at random)."""
    rng = np.random.default_rng(0)
    pairs = []
    for u in range(CLUSTERS * USERS_PER):
        c = u // USERS_PER
        pairs += [(u, c * ITEMS_PER + int(i)) for i in rng.choice(ITEMS_PER, LIKES, replace=False)]
    inter = np.array(pairs).T
    return make_split(np.arange(CLUSTERS * USERS_PER), np.arange(CLUSTERS * ITEMS_PER), inter, seed=3)


def _models(split: Split) -> list[Recommender]:
    torch.manual_seed(0)
    return [
        Popularity(split),
        BPRMF(split.num_users, split.num_items, dim=8),
        LightGCN(split.num_users, split.num_items, split.train, dim=8),
    ]


def _train(model: Recommender, split: Split, epochs: int, lr: float) -> None:
    """A minimal BPR loop (the trainer's job, written out here)."""
    optim = torch.optim.Adam(model.parameters(), lr=lr)
    sampler = NegativeSampler(split.train, split.num_items, seed=0)
    model.train()
    for epoch in range(epochs):
        for users, pos, neg in bpr_batches(split.train, sampler, 128, seed=0, epoch=epoch):
            state = model.embed()
            diff = model.score_pairs(state, users, pos) - model.score_pairs(state, users, neg)
            loss = -F.logsigmoid(diff).mean() + model.regularisation(state, users, pos, neg)
            optim.zero_grad()
            loss.backward()
            optim.step()


@pytest.mark.parametrize("index", [0, 1, 2], ids=["pop", "bprmf", "lightgcn"])
def test_contract_shapes_and_consistent_scores(index: int) -> None:
    split = _planted()
    model = _models(split)[index]
    with torch.no_grad():
        state = model.embed()
        users = torch.tensor([0, 5, 59])
        full = model.score_users(state, users)
        assert full.shape == (3, split.num_items)
        items = torch.tensor([1, 40, 79])
        assert torch.allclose(model.score_pairs(state, users, items), full[torch.arange(3), items])
        reg = model.regularisation(state, users, items, items)
        assert reg.shape == () or reg.numel() == 1


def test_popularity_scores_train_counts_and_recommends_the_most_popular_unseen() -> None:
    # items 0..3; train counts: item 0 -> 3, item 1 -> 2, item 2 -> 1, item 3 -> 0
    edges = np.array([[0, 1, 2, 0, 1, 0, 3], [0, 0, 0, 1, 1, 2, 3]])
    split = Split(
        user_keys=np.arange(4),
        item_keys=np.arange(4),
        train=edges[:, [0, 1, 2, 3, 4, 5]],
        valid=np.empty((2, 0), dtype=np.int64),
        test=np.array([[1, 2, 3], [2, 1, 0]]),  # u1 -> item 2, u2 -> item 1, u3 -> item 0
        cold_items=np.empty(0, dtype=np.int64),
        cold_test=np.empty((2, 0), dtype=np.int64),
        seed=0,
    )
    model = Popularity(split)
    assert not model.trainable and list(model.parameters()) == []
    assert model.embed().tolist() == [3.0, 2.0, 1.0, 0.0]
    metrics = Evaluator(split, ks=(1,)).evaluate(model, "test")
    # u1 has seen 0, 1 -> top is 2 (hit); u2 has seen 0 -> top is 1 (hit); u3 has seen nothing -> top is 0 (hit)
    assert metrics["hit@1"] == 1.0 and metrics["ndcg@1"] == 1.0


def test_adjacency_is_symmetric_normalised_from_train_only() -> None:
    train = np.array([[0, 0, 1], [0, 1, 1]])  # user 0: items 0, 1; user 1: item 1
    dense = normalised_adjacency(train, 2, 2).to_dense()
    # nodes: u0, u1, i0 (=2), i1 (=3); deg u0 = 2, u1 = 1, i0 = 1, i1 = 2
    expected = torch.zeros(4, 4)
    for u, i, w in [(0, 2, 1 / np.sqrt(2 * 1)), (0, 3, 1 / np.sqrt(2 * 2)), (1, 3, 1 / np.sqrt(1 * 2))]:
        expected[u, i] = expected[i, u] = w
    assert torch.allclose(dense, expected)
    model = LightGCN(2, 2, train, dim=4)
    assert "adjacency" not in model.state_dict()


@pytest.mark.parametrize(("index", "epochs", "lr"), [(1, 40, 0.05), (2, 40, 0.05)], ids=["bprmf", "lightgcn"])
def test_training_learns_the_planted_clusters(index: int, epochs: int, lr: float) -> None:
    torch.set_num_threads(1)
    split = _planted()
    evaluator = Evaluator(split, ks=(10,))
    model = _models(split)[index]
    before = evaluator.evaluate(model, "test")["ndcg@10"]
    _train(model, split, epochs, lr)
    after = evaluator.evaluate(model, "test")["ndcg@10"]
    popularity = evaluator.evaluate(_models(split)[0], "test")["ndcg@10"]
    assert after > before + 0.15 and after > 2 * before
    assert after > popularity + 0.1


@pytest.mark.realdata
def test_popularity_on_movielens_beats_chance(data_dir: Path) -> None:
    raw = np.loadtxt(data_dir / "movielens-100k" / "u.data", dtype=np.int64)
    users, u = np.unique(raw[:, 0], return_inverse=True)
    items, i = np.unique(raw[:, 1], return_inverse=True)
    split = make_split(users, items, np.stack([u, i]), seed=2020)
    metrics = Evaluator(split).evaluate(Popularity(split), "test")
    # Chance: ~10 test items among ~1,600 candidates -> recall@20 ~ 20 / 1600 = 0.0125.
    assert metrics["recall@20"] > 5 * 20 / 1600
    assert 0 < metrics["ndcg@10"] < 1 and 0 < metrics["mrr@10"] <= metrics["hit@10"]
