"""The array helpers of path support and masking effects, against plain Python."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.recommend import csr
from kgrec.recommend.csr import BySender


def test_by_sender_finds_each_senders_entries_in_row_order() -> None:
    rng = np.random.default_rng(5)
    ptr = np.array([0, 0, 7, 300, 301])
    src = rng.integers(0, 40, size=ptr[-1])
    index = BySender(ptr, src, budget=10)  # smaller than a row: kept rows are dropped, answers stay right
    for row in (2, 1, 3, 2, 0):
        wanted = np.array([3, 39, 3, 41, -1, *rng.integers(0, 40, size=5)])
        entries, many, begin = index.find(row, wanted)
        row_entries = range(ptr[row], ptr[row + 1])
        for j, sender in enumerate(wanted.tolist()):
            expected = [e for e in row_entries if src[e] == sender]
            assert entries[begin[j] : begin[j] + many[j]].tolist() == expected
        assert len(entries) == many.sum()


def test_by_sender_drops_the_least_recently_asked_row_first() -> None:
    ptr, src = np.array([0, 5, 10, 15, 40]), np.arange(40) % 3
    index = BySender(ptr, src, budget=10)  # room for two rows of five
    first, second = index.row(0), index.row(1)
    assert index.row(0) is first  # kept, and now the most recently asked
    index.row(2)  # row 1 goes, not row 0
    assert index.row(0) is first and index.row(1) is not second
    huge = index.row(3)  # larger than the budget: made, answered, not kept, nothing dropped for it
    assert index.row(3) is not huge and index.row(1) is index.row(1)


def test_sums_by_key_are_the_same_from_the_dense_table_and_from_sorting(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    keys, weights = rng.integers(0, 50, size=400), rng.standard_normal(400)
    expected = {k: sum(w for kk, w in zip(keys.tolist(), weights.tolist()) if kk == k) for k in set(keys.tolist())}
    for dense in (1 << 22, 10):  # the table, then sorting (a key space above DENSE)
        monkeypatch.setattr(csr, "DENSE", dense)
        found, totals = csr.sum_by_key(keys, weights, 50)
        assert found.tolist() == sorted(expected)
        assert totals == pytest.approx([expected[k] for k in sorted(expected)])


def test_group_orders_entries_by_row_keeping_their_order_within_a_row() -> None:
    rows = np.array([2, 0, 2, 4, 0, 2])  # rows 1 and 3 empty
    order, ptr = csr.group(rows, 5)
    assert ptr.tolist() == [0, 2, 2, 5, 5, 6]
    assert [order[ptr[r] : ptr[r + 1]].tolist() for r in range(5)] == [[1, 4], [], [0, 2, 5], [], [3]]
