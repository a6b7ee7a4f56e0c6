"""Full-ranking evaluation: masking per phase, hand-computed metrics, cold items, model mode."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor

from kgrec.errors import ConfigError
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator, tie_broken, top_indices
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.kgrec_model import KGRecModel
from kgrec.learn.recommender import Recommender
from kgrec.learn.split import Split
from kgrec.learn.trainer import Trainer
from tests.twotastes import toy_snapshot, toy_split


class FixedScores(Recommender):
    """Scores read from a fixed (users x items) matrix; counts its calls."""

    def __init__(self, scores: list[list[float]]) -> None:
        table = torch.tensor(scores, dtype=torch.float32)
        super().__init__(*table.shape)
        self.register_buffer("table", table)
        self.embed_calls = 0
        self.batches: list[list[int]] = []
        self.modes: list[bool] = []

    def embed(self) -> Tensor:
        self.embed_calls += 1
        self.modes.append(self.training)
        return self.table

    def score_pairs(self, state: Any, users: Tensor, items: Tensor) -> Tensor:
        return state[users, items]

    def score_users(self, state: Any, users: Tensor) -> Tensor:
        self.batches.append(users.tolist())
        return state[users].clone()


def _edges(*pairs: tuple[int, int]) -> np.ndarray:
    return np.array(pairs, dtype=np.int64).reshape(-1, 2).T


def _toy(cold: bool = False) -> Split:
    # items 0..4 (plus cold items 5, 6); train: u0 {0}, u1 {1}, u2 {2}; valid: u0 {1}, u1 {2};
    # test: u0 {2, 3}, u1 {3}, u2 {4}; cold_test: u0 {5}, u2 {6}
    return Split(
        user_keys=np.arange(3),
        item_keys=np.arange(7 if cold else 5),
        train=_edges((0, 0), (1, 1), (2, 2)),
        valid=_edges((0, 1), (1, 2)),
        test=_edges((0, 2), (0, 3), (1, 3), (2, 4)),
        cold_items=np.array([5, 6] if cold else [], dtype=np.int64),
        cold_test=_edges((0, 5), (2, 6)) if cold else np.empty((2, 0), dtype=np.int64),
        seed=0,
    )


SCORES = [
    [5, 4, 3, 1, 2],  # u0: train item 0 and valid item 1 on top
    [1, 5, 4, 3, 2],  # u1: train item 1 then valid item 2 on top
    [5, 4, 9, 1, 2],  # u2: train item 2 on top
]


def test_test_phase_masks_train_and_valid_exactly_by_hand() -> None:
    metrics = Evaluator(_toy(), ks=(1, 3)).evaluate(FixedScores(SCORES), "test")
    # After masking, top 3: u0 -> items 2, 4, 3: hits [1, 0, 1], 2 positives
    #                      u1 -> items 3, 4, 0: hits [1, 0, 0], 1 positive
    #                      u2 -> items 0, 1, 4: hits [0, 0, 1], 1 positive
    ndcg_u0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))  # 1.5 / 1.63093 = 0.91972
    assert metrics["ndcg@3"] == pytest.approx((ndcg_u0 + 1.0 + 0.5) / 3)
    assert metrics["ndcg@1"] == pytest.approx((1 + 1 + 0) / 3)
    assert metrics["recall@1"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert metrics["recall@3"] == pytest.approx(1.0)
    assert metrics["hit@1"] == pytest.approx(2 / 3)
    assert metrics["mrr@3"] == pytest.approx((1 + 1 + 1 / 3) / 3)
    assert set(metrics) == {f"{m}@{k}" for m in ("recall", "ndcg", "hit", "mrr") for k in (1, 3)}


def test_a_train_item_scored_highest_gets_no_credit_and_takes_no_rank() -> None:
    # Valid phase: u0's train item 0 and u1's train item 1 score highest; masked, the valid
    # positive is ranked first. u2 has no valid item and is not evaluated.
    metrics = Evaluator(_toy(), ks=(1, 3)).evaluate(FixedScores(SCORES), "valid")
    assert metrics["ndcg@1"] == pytest.approx(1.0)
    assert metrics["hit@1"] == pytest.approx(1.0)
    # Without those train interactions nothing is masked and the same scores earn nothing at rank 1.
    no_train = replace(_toy(), train=np.empty((2, 0), dtype=np.int64))
    assert Evaluator(no_train, ks=(1,)).evaluate(FixedScores(SCORES), "valid")["hit@1"] == 0.0


def test_cold_phase_ranks_over_all_items_and_among_cold_items() -> None:
    scores = [[9, 8, 7, 6, 5, 4, 3], [1] * 7, [1, 2, 3, 4, 5, 6, 7]]
    metrics = Evaluator(_toy(cold=True), ks=(1, 3)).evaluate(FixedScores(scores), "cold")
    # u0: train/valid/test items 0-3 masked -> items 4, 5, 6: cold positive 5 at rank 2
    # u2: items 2, 4 masked -> 6, 5, 3: cold positive 6 at rank 1; u1 has no cold item
    assert metrics["ndcg@3"] == pytest.approx((1 / math.log2(3) + 1) / 2)
    assert metrics["recall@1"] == pytest.approx(0.5)
    # Among the cold items {5, 6} only, both users rank their positive first.
    assert metrics["cold_only/ndcg@3"] == pytest.approx(1.0)
    assert metrics["cold_only/recall@1"] == pytest.approx(1.0)
    assert metrics["cold_only/mrr@3"] == pytest.approx(1.0)


def test_cold_phase_needs_a_cold_hold_out() -> None:
    with pytest.raises(ConfigError, match="no interactions"):
        Evaluator(_toy()).evaluate(FixedScores(SCORES), "cold")
    with pytest.raises(ConfigError, match="unknown phase"):
        Evaluator(_toy()).evaluate(FixedScores(SCORES), "train")  # type: ignore[arg-type]


def test_embeds_once_in_eval_mode_batches_users_and_restores_mode() -> None:
    model = FixedScores(SCORES)
    model.train()
    Evaluator(_toy(), batch_size=2).evaluate(model, "test")
    assert model.embed_calls == 1 and model.modes == [False]
    assert model.batches == [[0, 1], [2]]
    assert model.training
    model.eval()
    Evaluator(_toy()).evaluate(model, "test", state=model.table)
    assert model.embed_calls == 1 and not model.training


def test_large_cut_offs_on_few_items_count_as_misses() -> None:
    metrics = Evaluator(_toy(), ks=(10, 20)).evaluate(FixedScores(SCORES), "test")
    assert metrics["recall@20"] == pytest.approx(1.0)
    assert metrics["hit@10"] == pytest.approx(1.0)


def _tied_world(users: int = 400, items: int = 50) -> tuple[Split, FixedScores]:
    """Every user has one test item, the low ids 0..4 hold all of them; every score is equal."""
    rng = np.random.default_rng(1)
    test = np.stack([np.arange(users), rng.integers(0, 5, users)])
    split = Split(
        user_keys=np.arange(users),
        item_keys=np.arange(items),
        train=np.empty((2, 0), dtype=np.int64),
        valid=np.empty((2, 0), dtype=np.int64),
        test=test,
        cold_items=np.empty(0, dtype=np.int64),
        cold_test=np.empty((2, 0), dtype=np.int64),
        seed=0,
    )
    return split, FixedScores([[0.5] * items] * users)


def test_all_equal_scores_rank_at_chance_not_by_ascending_id() -> None:
    split, model = _tied_world()
    ndcg = Evaluator(split).evaluate(model, "test")["ndcg@10"]
    # by ascending id every positive (ids 0..4) would rank in the top 5: NDCG@10 >= 1/log2(6) = 0.387
    chance = (1 / 50) * sum(1 / math.log2(r + 1) for r in range(1, 11))  # one positive among 50 items
    assert chance == pytest.approx(0.0909, abs=1e-4)
    # 400 users, per-user sd about 0.23: the mean is within 0.04 of chance far beyond 3 sd
    assert ndcg == pytest.approx(chance, abs=0.04)


def test_tie_breaking_is_seeded_and_leaves_distinct_scores_in_order() -> None:
    split, model = _tied_world()
    first = Evaluator(split, seed=7).per_user(model, "test")["ndcg@10"]
    again = Evaluator(split, seed=7).per_user(model, "test")["ndcg@10"]
    other = Evaluator(split, seed=8).per_user(model, "test")["ndcg@10"]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    # one float32 step above the tie: always ranked first, whatever the seed
    scores = model.table.clone()
    positives = torch.as_tensor(split.test[1])
    scores[torch.arange(len(positives)), positives] = torch.nextafter(torch.tensor(0.5), torch.tensor(1.0))
    lifted = FixedScores(scores.tolist())
    for seed in (7, 8):
        assert Evaluator(split, seed=seed).evaluate(lifted, "test")["ndcg@10"] == 1.0


def test_tied_pair_splits_first_place_evenly() -> None:
    # two items tied at the top for every user, the positive is item 0: ranked first about half the time
    split, _ = _tied_world(users=2000, items=2)
    split = replace(split, test=np.stack([np.arange(2000), np.zeros(2000, dtype=np.int64)]))
    mrr = Evaluator(split, ks=(1, 2)).per_user(FixedScores([[1.0, 1.0]] * 2000), "test")["mrr@1"]
    assert mrr.mean() == pytest.approx(0.5, abs=0.04)  # binomial sd 0.011


def test_top_indices_equal_the_fully_tie_broken_ranking() -> None:
    # rows 0-2: distinct scores (the fast path); row 3: a tie at the cut-off; row 4: one at the top
    scores = torch.rand(5, 300, generator=torch.Generator().manual_seed(3))
    scores[3, :2] = scores[3].max() + 1  # ranks 1 and 2 tied
    scores[4, 10:13] = scores[4].topk(5).values[-1]  # three copies of the 5th best: tie across k = 5
    full = torch.topk(tie_broken(scores, torch.Generator().manual_seed(9)), 5, dim=1).indices
    fast = top_indices(scores, 5, torch.Generator().manual_seed(9))
    assert torch.equal(fast[:3], full[:3])  # untied rows: identical, whatever the draws
    for row in (3, 4):  # tied rows: the same set of scores, each tie resolved within its group
        assert torch.equal(scores[row, fast[row]], scores[row, full[row]])
    assert set(fast[3, :2].tolist()) == {0, 1}


def test_tied_rankings_do_not_depend_on_the_batches() -> None:
    split, model = _tied_world(users=60)
    whole = Evaluator(split, seed=5).per_user(model, "test")
    for size in (1, 7):
        parts = Evaluator(split, seed=5, batch_size=size).per_user(model, "test")
        assert all(np.array_equal(whole[name], parts[name]) for name in whole)


def test_batches_never_hold_more_user_item_cells_than_max_cells() -> None:
    model = FixedScores(SCORES)  # 5 items: 11 cells fit 2 users
    Evaluator(_toy(), max_cells=11).evaluate(model, "test")
    assert model.batches == [[0, 1], [2]]
    with pytest.raises(ConfigError):
        Evaluator(_toy(), max_cells=0)


def _toy_world_model(**overrides: object) -> tuple[KGRecModel, Split]:
    torch.set_num_threads(1)
    config = TrainConfig(dim=16, layers=2, lr=0.02, batch_size=64, epochs=3, eval_every=3, **overrides)
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config))
    assert isinstance(model, KGRecModel)
    Trainer(model, split, config).fit()
    return model, split


@pytest.mark.parametrize("batching", ["full", "sampled"])
def test_chunked_evaluation_gives_the_unchunked_metrics_on_the_toy_world(batching: str) -> None:
    model, split = _toy_world_model(batching=batching)
    whole = {p: Evaluator(split, ks=(1, 5, 10)).per_user(model, p) for p in ("valid", "test", "cold")}
    with torch.no_grad():
        state = model.embed()
    biggest = max(getattr(model.prop, f"adj_{t}").values().numel() for t in model.prop.into)
    model.prop.chunk_edges = 3  # every adjacency is multiplied in many blocks
    assert biggest > 3 * 4
    with torch.no_grad():
        chunked_state = model.embed()
    for t, v in state.nodes.items():
        assert torch.allclose(chunked_state.nodes[t], v, atol=1e-6), t
    for phase, expected in whole.items():
        got = Evaluator(split, ks=(1, 5, 10), max_cells=1).per_user(model, phase)  # one user per batch
        assert got.keys() == expected.keys()
        for name, values in expected.items():
            np.testing.assert_allclose(got[name], values, atol=1e-6, err_msg=f"{phase} {name}")


def _distinct_world(users: int = 300, items: int = 40) -> tuple[Split, FixedScores]:
    """Every user has two test items and one train item; scores are distinct (no ties to draw)."""
    rng = np.random.default_rng(4)
    picks = np.stack([rng.choice(items, 3, replace=False) for _ in range(users)])
    split = Split(
        user_keys=np.arange(users),
        item_keys=np.arange(items),
        train=np.stack([np.arange(users), picks[:, 0]]),
        valid=np.empty((2, 0), dtype=np.int64),
        test=np.stack([np.repeat(np.arange(users), 2), picks[:, 1:].ravel()]),
        cold_items=np.empty(0, dtype=np.int64),
        cold_test=np.empty((2, 0), dtype=np.int64),
        seed=0,
    )
    return split, FixedScores(rng.permuted(np.tile(np.arange(items, dtype=np.float64), (users, 1)), axis=1).tolist())


def test_a_sample_of_everyone_is_the_full_evaluation() -> None:
    split, model = _tied_world(users=120)  # ties: the draws must follow the same users in the same order
    full = Evaluator(split, seed=3).per_user(model, "test")
    for size in (120, 10_000):
        everyone = Evaluator(split, seed=3, sample_users=size)
        got = everyone.per_user(model, "test")
        assert all(np.array_equal(full[name], got[name]) for name in full)
        assert everyone.coverage("test") == {"users": 120, "of": 120, "sample": False, "seed": 3}


def test_a_sample_is_seeded_nested_and_ranks_its_users_as_the_full_evaluation_does() -> None:
    split, model = _distinct_world()
    full = Evaluator(split).per_user(model, "test")
    sampled = Evaluator(split, sample_users=40)
    users = sampled.evaluated_users("test")
    assert len(users) == 40 and np.array_equal(users, np.unique(users))
    assert np.array_equal(users, Evaluator(split, sample_users=40).evaluated_users("test"))  # another run
    assert not np.array_equal(users, Evaluator(split, seed=9, sample_users=40).evaluated_users("test"))
    assert set(users) < set(Evaluator(split, sample_users=100).evaluated_users("test"))
    assert sampled.coverage("test") == {"users": 40, "of": 300, "sample": True, "seed": 2020}
    got = sampled.per_user(model, "test")  # every item ranked for the sampled users: their full-run values
    assert np.array_equal(got["users"], users)
    for name in full:
        np.testing.assert_array_equal(got[name], full[name][users], err_msg=name)
    assert sampled.evaluate(model, "test")["ndcg@10"] == pytest.approx(full["ndcg@10"][users].mean())


def test_a_sample_takes_only_users_with_a_positive_in_the_phase() -> None:
    # valid positives: u0 and u1 only; u2's place in the permutation must not let it in
    for seed in range(20):
        users = Evaluator(_toy(), seed=seed, sample_users=1).evaluated_users("valid")
        assert len(users) == 1 and users[0] in (0, 1)
    with pytest.raises(ConfigError, match="sample_users"):
        Evaluator(_toy(), sample_users=0)
