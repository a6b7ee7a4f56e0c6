"""Which of an item's candidate paths are shown: readable first, one reason per kind of middle node."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from kgrec.recommend.explain import PathFinder, _Candidate

HOP = SimpleNamespace(rel_type="X", forward=True)
# middle nodes: 0 and 5 users, 1 genre, 2 named person, 3 and 4 unnamed Freebase entities
HOOD = SimpleNamespace(
    named=np.array([True, True, True, False, False, True]),
    nodes=[SimpleNamespace(label=label) for label in ("User", "Genre", "Entity", "Entity", "Entity", "User")],
)


def _finder(per_item: int = 3) -> PathFinder:
    return PathFinder(lambda: HOOD, None, per_item=per_item)  # type: ignore[arg-type]


def _cand(middle: int, support: float) -> _Candidate:
    return _Candidate(support, 1, HOP, (middle,), HOP)  # type: ignore[arg-type]


def test_unnamed_entities_are_left_out_when_enough_readable_paths_exist() -> None:
    # the unnamed entity would be the only path of its kind; three readable paths win over it
    found = [_cand(3, 0.9), _cand(0, 0.5), _cand(5, 0.45), _cand(1, 0.4)]
    chosen = _finder()._chosen(HOOD, found)
    assert [c.middle for c in chosen] == [(0,), (5,), (1,)]  # by support, all readable


def test_unnamed_entities_fill_in_when_readable_paths_run_out() -> None:
    found = [_cand(3, 0.9), _cand(0, 0.5)]
    chosen = _finder()._chosen(HOOD, found)
    assert [c.middle for c in chosen] == [(3,), (0,)]


def test_one_reason_per_kind_before_a_second_of_the_same_kind() -> None:
    found = [_cand(0, 0.9), _cand(5, 0.8), _cand(1, 0.2), _cand(2, 0.1)]
    assert [c.middle for c in _finder(per_item=2)._chosen(HOOD, found)] == [(0,), (1,)]  # not the second user
    assert [c.middle for c in _finder(per_item=4)._chosen(HOOD, found)] == [(0,), (5,), (1,), (2,)]
