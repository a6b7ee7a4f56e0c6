"""kgrec's GNN on the toy graph: every fusion and loss finds the known right answers."""

from __future__ import annotations

import functools

import pytest
import torch

from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.trainer import Trainer
from tests.twotastes import COLD_ROWS as COLD
from tests.twotastes import NUM_ITEMS, NUM_USERS, taste, toy_snapshot, toy_split, user_taste

FAST = {
    "dim": 16,
    "layers": 2,
    "lr": 0.02,
    "batch_size": 64,
    "epochs": 40,
    "patience": 40,
    "eval_every": 5,
    "id_dropout": 0.1,  # the cold-start recipe: cold films are scored without an id embedding
}


@functools.cache
def _trained_once(fusion: str, loss: str) -> tuple:
    return _trained(fusion=fusion, loss=loss, modalities=["text"])


def _trained(**overrides: object):
    torch.set_num_threads(1)
    config = TrainConfig(**{**FAST, **overrides})
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config))
    Trainer(model, split, config).fit()
    return model, Evaluator(split, ks=(1, 5))


def _taste_precision(model, k: int = 5) -> float:
    """Share of each user's top-k unseen films that match the user's taste."""
    split = toy_split()
    with torch.no_grad():
        scores = model.score_users(model.embed(), torch.arange(NUM_USERS))
    scores[split.train[0], split.train[1]] = float("-inf")
    top = scores.topk(k, dim=1).indices
    right = [[taste(int(i)) == user_taste(u) for i in row] for u, row in enumerate(top)]
    return float(torch.tensor(right, dtype=torch.float).mean())


@pytest.mark.parametrize("fusion", ["none", "early", "late", "hybrid"])
@pytest.mark.parametrize("loss", ["bpr", "bce"])
def test_each_fusion_and_loss_ranks_the_held_out_film_of_the_users_taste(fusion: str, loss: str) -> None:
    model, _ = _trained_once(fusion, loss)
    assert _taste_precision(model) >= 0.95


@pytest.mark.parametrize("fusion", ["none", "early", "late", "hybrid"])
def test_cold_films_are_ranked_by_graph_and_content(fusion: str) -> None:
    model, evaluator = _trained_once(fusion, "bpr")
    cold = evaluator.evaluate(model, "cold")
    # which of the two cold films comes first: 0.5 without any signal
    assert cold["cold_only/hit@1"] >= 0.85, cold


def test_without_graph_or_content_a_cold_film_gets_no_signal() -> None:
    with_kg, evaluator = _trained(fusion="none")
    without, _ = _trained(fusion="none", kg=False)
    state = without.embed()
    cold_vectors = state.item[list(COLD)]
    assert torch.count_nonzero(cold_vectors) == 0  # no interactions, no graph, no content: nothing to go on
    assert (
        evaluator.evaluate(with_kg, "cold")["cold_only/hit@1"] > evaluator.evaluate(without, "cold")["cold_only/hit@1"]
    )


def test_missing_modalities_are_masked_not_fatal() -> None:
    config = TrainConfig(**{**FAST, "epochs": 2}, fusion="hybrid", modalities=["text", "audio"])
    snapshot, split = toy_snapshot(text_for={0, 1, 16, 17}), toy_split()
    data = training_graph(snapshot, split, config)
    model = build_model(config, split, data)
    assert model.modalities == ["text"]  # audio: absent from the graph, skipped
    Trainer(model, split, config).fit()
    state = model.embed()
    weights = state.weights  # (items, graph + text)
    assert torch.all(weights[[2, 3, 4], 1] == 0)  # items without text give it no weight
    assert torch.all(weights[[0, 1], 1] > 0)
    assert torch.allclose(weights.sum(1), torch.ones(NUM_ITEMS))
    assert torch.isfinite(model.score_users(state, torch.arange(NUM_USERS))).all()


def test_scores_agree_between_pairs_and_full_ranking() -> None:
    config = TrainConfig(**{**FAST, "epochs": 1}, fusion="hybrid", modalities=["text"])
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config)).eval()
    state = model.embed()
    users = torch.tensor([0, 3, 9])
    full = model.score_users(state, users)
    pairs = model.score_pairs(state, users.repeat_interleave(NUM_ITEMS), torch.arange(NUM_ITEMS).repeat(3))
    assert torch.allclose(full.reshape(-1), pairs, atol=1e-5)
