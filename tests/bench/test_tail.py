"""bench.tail: ranks of held-out pairs, grouped by their item's training degree."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from bench.tail import ranks, summary
from kgrec.learn.recommender import Recommender
from kgrec.learn.split import Split


class FixedScores(Recommender):
    """Scores from a fixed user x item matrix."""

    def __init__(self, scores: np.ndarray) -> None:
        super().__init__(*scores.shape)
        self.register_buffer("scores", torch.as_tensor(scores, dtype=torch.float32))

    def embed(self) -> Tensor:
        return self.scores

    def score_pairs(self, state: Tensor, users: Tensor, items: Tensor) -> Tensor:
        return state[users, items]

    def score_users(self, state: Tensor, users: Tensor) -> Tensor:
        return state[users]


def _split(train: list[tuple[int, int]], valid: list[tuple[int, int]], users: int, items: int) -> Split:
    pairs = lambda p: np.array(sorted(p), dtype=np.int64).reshape(-1, 2).T  # noqa: E731
    empty = np.zeros((2, 0), dtype=np.int64)
    return Split(np.arange(users), np.arange(items), pairs(train), pairs(valid), empty, np.zeros(0, np.int64), empty, 0)


def test_ranks_count_better_items_the_user_has_not_trained_on() -> None:
    rng = np.random.default_rng(3)
    users, items = 6, 40
    train = [(u, int(i)) for u in range(users) for i in rng.choice(30, 8, replace=False)]  # items 30+ never trained
    trained = {p for p in train}
    valid = [(u, i) for u in range(users) for i in (rng.choice(items, 4, replace=False)) if (u, int(i)) not in trained]
    valid = [(u, int(i)) for u, i in valid]
    split = _split(train, valid, users, items)
    scores = rng.normal(size=(users, items))
    all_ranks, new_ranks = ranks(FixedScores(scores), split, split.valid, seed=0)
    new = np.ones(items, dtype=bool)
    new[split.train[1]] = False
    for j, (u, i) in enumerate(split.valid.T):
        open_items = [x for x in range(items) if (u, x) not in trained]
        assert all_ranks[j] == sum(scores[u, x] > scores[u, i] for x in open_items)
        expected_new = sum(scores[u, x] > scores[u, i] for x in np.flatnonzero(new)) if new[i] else -1
        assert new_ranks[j] == expected_new


def test_ties_are_broken_at_random_not_by_item_id() -> None:
    split = _split([(0, 0)], [(0, 5)], users=1, items=8)
    flat = np.zeros((1, 8))  # every item tied: item 5's rank among the 7 open items is uniform over 0..6
    seen = {int(ranks(FixedScores(flat), split, split.valid, seed=s)[0][0]) for s in range(60)}
    assert seen == set(range(7))


def test_summary_groups_pairs_by_training_degree_and_states_chance_for_new_items() -> None:
    # item 0: 3 trainings, item 1: 1, items 2..9: none
    train = [(0, 0), (1, 0), (2, 0), (0, 1)]
    valid = [(1, 1), (0, 2), (1, 3), (2, 1)]
    split = _split(train, valid, users=3, items=10)
    all_ranks = np.array([0, 12, 15, 25])  # in split.valid order: (0,2) (1,1) (1,3) (2,1)
    new_ranks = np.array([4, -1, 0, -1])
    out = summary(split, split.valid, all_ranks, new_ranks)
    assert out["buckets"]["0"] == {"pairs": 2, "share": 0.5, "in_top10": 0.5, "in_top20": 1.0}
    assert out["buckets"]["1-5"] == {"pairs": 2, "share": 0.5, "in_top10": 0.0, "in_top20": 0.5}
    assert out["buckets"]["6-20"]["pairs"] == 0 and out["buckets"][">20"]["pairs"] == 0
    assert out["new_items"] == {
        "count": 8, "median_rank_among_new": 2.0, "random_median": 3.5, "in_new_top10": 1.0, "random_in_new_top10": 1.0
    }  # fmt: skip
