"""The metric functions against values computed by hand (RecBole's definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kgrec.learn.metrics import hit_at_k, mrr_at_k, ndcg_at_k, recall_at_k

# Three users, top 4 ranked items each; 1 = the item is a positive of that user.
HITS = np.array(
    [
        [1, 0, 1, 0],  # user 0: positives at ranks 1 and 3, 3 positives in all
        [0, 0, 0, 1],  # user 1: one positive at rank 4, 1 positive in all
        [0, 0, 0, 0],  # user 2: no hit, 2 positives in all
    ],
    dtype=bool,
)
N_POS = np.array([3, 1, 2])


def test_recall_counts_hits_over_all_positives() -> None:
    assert recall_at_k(HITS, N_POS, 2) == pytest.approx([1 / 3, 0.0, 0.0])
    assert recall_at_k(HITS, N_POS, 4) == pytest.approx([2 / 3, 1.0, 0.0])


def test_ndcg_by_hand() -> None:
    # user 0 at k=4: DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5
    #   IDCG over min(3, 4) = 3 ideal positions = 1 + 1/log2(3) + 1/log2(4) = 1 + 0.63093 + 0.5 = 2.13093
    # user 1 at k=4: DCG = 1/log2(5) = 0.43068; IDCG = 1 (one positive)
    idcg0 = 1 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(HITS, N_POS, 4) == pytest.approx([1.5 / idcg0, 1 / math.log2(5), 0.0])
    # k=2: user 0 DCG = 1; IDCG over min(3, 2) = 2 positions = 1 + 1/log2(3)
    assert ndcg_at_k(HITS, N_POS, 2) == pytest.approx([1 / (1 + 1 / math.log2(3)), 0.0, 0.0])


def test_ndcg_is_one_for_a_perfect_ranking() -> None:
    perfect = np.array([[1, 1, 0, 0]], dtype=bool)
    assert ndcg_at_k(perfect, np.array([2]), 4) == pytest.approx([1.0])
    # More positives than k: IDCG is capped at k positions, so a full top-k is perfect.
    assert ndcg_at_k(np.array([[1, 1]], dtype=bool), np.array([5]), 2) == pytest.approx([1.0])


def test_hit_and_mrr_by_hand() -> None:
    assert hit_at_k(HITS, 2) == pytest.approx([1.0, 0.0, 0.0])
    assert hit_at_k(HITS, 4) == pytest.approx([1.0, 1.0, 0.0])
    # user 0's first hit at rank 1 -> 1/1; user 1's at rank 4 -> 1/4 (outside k=3 -> 0)
    assert mrr_at_k(HITS, 4) == pytest.approx([1.0, 0.25, 0.0])
    assert mrr_at_k(HITS, 3) == pytest.approx([1.0, 0.0, 0.0])
    assert mrr_at_k(np.array([[0, 1, 1]], dtype=bool), 3) == pytest.approx([0.5])


def test_user_without_positives_scores_zero() -> None:
    hits = np.zeros((1, 3), dtype=bool)
    assert recall_at_k(hits, np.array([0]), 3) == pytest.approx([0.0])
    assert ndcg_at_k(hits, np.array([0]), 3) == pytest.approx([0.0])


def test_k_beyond_the_ranking_is_an_error() -> None:
    with pytest.raises(ValueError, match="k must be"):
        hit_at_k(HITS, 5)


def test_chance_ndcg_and_recall_equal_the_mean_over_every_permutation() -> None:
    from itertools import permutations

    from kgrec.learn.metrics import chance_ndcg_at_k, chance_recall_at_k

    for n, n_pos, k in ((4, 2, 2), (5, 1, 3), (3, 3, 2), (4, 1, 6)):
        rankings = np.array([[item < n_pos for item in perm] for perm in permutations(range(n))])
        padded = np.pad(rankings, ((0, 0), (0, max(0, k - n))))
        ndcg = ndcg_at_k(padded, np.full(len(padded), n_pos), k).mean()
        recall = recall_at_k(padded, np.full(len(padded), n_pos), k).mean()
        assert chance_ndcg_at_k(np.array([n_pos]), n, k)[0] == pytest.approx(ndcg)
        assert chance_recall_at_k(np.array([n_pos]), n, k)[0] == pytest.approx(recall)
