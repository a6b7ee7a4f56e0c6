"""The cold-start check: the old ascending-id rule against random tie-breaking on tied cold-item scores."""

from __future__ import annotations

import numpy as np
import pytest

from bench.cold_lightgcn import old_rule, tie_report
from kgrec.learn.split import Split


def _split() -> Split:
    """Two users; items 0-1 warm, items 2-13 cold; each user holds cold item 2 (the lowest cold id)."""
    return Split(
        user_keys=np.array([1, 2]),
        item_keys=np.arange(100, 114),
        train=np.array([[0, 1], [0, 1]]),
        valid=np.array([[0, 1], [1, 0]]),
        test=np.empty((2, 0), dtype=np.int64),
        cold_items=np.arange(2, 14),
        cold_test=np.array([[0, 1], [2, 2]]),
        seed=1,
    )


def test_equal_cold_scores_rank_the_lowest_id_first_under_the_old_rule_only() -> None:
    split = _split()
    tied = np.zeros((2, 14), dtype=np.float32)
    assert old_rule(tied, split) == pytest.approx(1.0)  # item 2 first among 12 equal scores
    assert tie_report(tied, split)["tied_share_mean"] == pytest.approx(11 / 12)
    distinct = np.tile(np.arange(14, dtype=np.float32), (2, 1))  # item 2 scored lowest of the cold items
    assert old_rule(distinct, split) == 0.0
    assert tie_report(distinct, split)["tied_share_mean"] == 0.0
