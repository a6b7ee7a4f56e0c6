"""The ranking of a user's items is sorted only as far as asked, and reads as the whole stable sort would:
best first, ties in the model's order, left-out items skipped, on every page."""

from __future__ import annotations

import numpy as np

from kgrec.recommend.service import Ranking


def _whole(keys: np.ndarray, scores: np.ndarray, keep: np.ndarray) -> list:
    ranked = np.argsort(-scores, kind="stable")
    return keys[ranked[keep[ranked]]].tolist()


def test_pages_of_the_partial_ranking_are_those_of_the_whole_sort() -> None:
    rng = np.random.default_rng(3)
    keys = np.empty(500, dtype=object)
    keys[:] = [f"item {j}" for j in range(500)]
    scores = rng.integers(0, 40, size=500).astype(float)  # many ties
    keep = rng.random(500) > 0.2
    whole = _whole(keys, scores, keep)
    ranking = Ranking(keys, scores, np.flatnonzero(~keep))
    assert len(ranking) == len(whole)
    assert ranking[:50] == whole[:50]
    assert ranking[50:250] == whole[50:250]  # a later page sorts further
    assert ranking[390:10_000] == whole[390:]
    assert Ranking(keys, scores, np.flatnonzero(~keep))[: len(whole) + 5] == whole


def test_a_first_page_that_ends_inside_a_tie_keeps_the_model_order() -> None:
    keys = np.arange(10).astype(object)
    scores = np.array([1.0, 5.0, 5.0, 3.0, 5.0, 5.0, 0.0, 5.0, 2.0, 5.0])
    keep = np.ones(10, dtype=bool)
    keep[4] = False
    assert Ranking(keys, scores, np.flatnonzero(~keep))[:3] == [1, 2, 5]
    assert Ranking(keys, scores, np.flatnonzero(~keep))[:8] == _whole(keys, scores, keep)[:8]


def test_items_scored_minus_infinity_stay_ranked_last_and_left_out_items_stay_out() -> None:
    keys = np.arange(8).astype(object)
    scores = np.array([2.0, -np.inf, 4.0, 1.0, -np.inf, 3.0, 0.5, 4.0])
    keep = np.ones(8, dtype=bool)
    keep[[1, 2]] = False
    whole = _whole(keys, scores, keep)
    assert whole == [7, 5, 0, 3, 6, 4]
    for stop in range(1, 9):
        assert Ranking(keys, scores, np.flatnonzero(~keep))[:stop] == whole[:stop]
