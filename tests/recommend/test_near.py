"""Near users: the exact scan, and the approximate index above a size, against plain numpy."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from kgrec.recommend.near import NearUsers


def _users(n: int = 4000, dim: int = 16, groups: int = 30) -> np.ndarray:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((groups, dim))
    v = centres[rng.integers(0, groups, n)] + 0.3 * rng.standard_normal((n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _truth(unit: np.ndarray, query: np.ndarray, n: int) -> list[int]:
    return np.argsort(-(unit.astype(np.float64) @ query), kind="stable")[:n].tolist()


def test_below_the_limit_every_user_is_scanned() -> None:
    unit = _users()
    near = NearUsers(unit)
    assert near.ready and near.recall is None
    for row in (0, 17, 3999):
        assert near.nearest(unit[row] * 3.0, 11).tolist() == _truth(unit, unit[row], 11)  # any length: cosine


def test_above_the_limit_an_index_finds_most_of_the_nearest_best_first() -> None:
    pytest.importorskip("faiss")
    unit = _users()
    near = NearUsers(unit, exact_limit=1000, recall=0.9, neighbours=21)
    assert not near.ready
    near.prepare()
    assert near.ready and near.recall is not None and near.recall >= 0.9
    assert "clusters" in near.described
    found = [near.nearest(unit[row], 21) for row in range(0, 4000, 40)]
    recall = np.mean(
        [len(set(f.tolist()) & set(_truth(unit, unit[r], 21))) / 21 for r, f in zip(range(0, 4000, 40), found)]
    )
    assert recall >= 0.8  # users other than the calibration sample: near its recall
    for row, f in zip(range(0, 4000, 40), found):
        sims = unit[f] @ unit[row]
        assert len(f) == 21 and np.all(np.diff(sims) <= 1e-6)  # best first, in exact order


def test_without_faiss_or_a_good_enough_index_answers_scan_every_user(monkeypatch: pytest.MonkeyPatch) -> None:
    unit = _users()
    unreachable = NearUsers(unit, exact_limit=1000, recall=1.01)
    unreachable.prepare()
    assert unreachable.recall is None and "no index" in unreachable.described
    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss raises ImportError
    missing = NearUsers(unit, exact_limit=1000)
    assert missing.nearest(unit[5], 7).tolist() == _truth(unit, unit[5], 7)
    assert missing.recall is None and "kgrec[scale]" in missing.described
