"""The spool that keeps converted batches, and the check that allows CREATE."""

from __future__ import annotations

from pathlib import Path

from kgrec.graph.batch import Batch, NodeKey, RelGroup
from kgrec.ingest.pairs import PairCheck
from kgrec.ingest.spool import Spool

USER, ITEM = NodeKey("User", "id"), NodeKey("Item", "id")


def test_spool_keeps_order_in_memory_and_in_files(tmp_path: Path) -> None:
    with Spool(memory_rows=5, folder=tmp_path) as spool:
        first, second = spool.list(), spool.list()
        for i in range(4):
            first.append(("a", i), rows=2)  # 2 + 2 fit, then the budget is spent
            second.append(("b", i), rows=1)
        assert spool.spilled == 5
        assert list(first) == [("a", i) for i in range(4)]
        assert list(second) == [("b", i) for i in range(4)]
        assert len(list(tmp_path.iterdir())) == 1  # one private folder
    assert list(tmp_path.iterdir()) == []  # removed on close


def test_spool_without_memory_spills_everything(tmp_path: Path) -> None:
    with Spool(memory_rows=0, folder=tmp_path) as spool:
        kept = spool.list()
        kept.append({"x": [1, 2]}, rows=1)
        assert spool.spilled == 1 and list(kept) == [{"x": [1, 2]}]


def _rels(rows: list[list[int]], start: NodeKey = USER, type_: str = "RATED") -> Batch:
    return Batch(rels=[RelGroup(start, type_, ITEM, rows=rows, columns=())])


def test_pairs_unique_across_batches() -> None:
    check = PairCheck()
    check.add(_rels([[1, 1], [1, 2]]))
    check.add(_rels([[2, 1]]))
    check.add(_rels([[1, 1]], type_="LIKED"))  # another type: another relationship
    assert check.unique() and check.types == {"RATED", "LIKED"}
    check.add(_rels([[1, 2]]))
    assert not check.unique()


def test_pairs_dict_rows_and_equal_numbers() -> None:
    check = PairCheck()
    check.add(Batch(rels=[RelGroup(USER, "RATED", ITEM, rows=[{"start": 1, "end": 2, "props": {}}])]))
    assert check.unique()
    check.add(_rels([[1.0, 2]]))  # Neo4j matches 1.0 to 1: a duplicate
    assert not check.unique()


def test_pairs_refuse_a_type_between_two_key_pairs() -> None:
    check = PairCheck()
    check.add(_rels([[1, 1]]))
    check.add(_rels([[2, 2]], start=NodeKey("Person", "iri")))
    assert not check.unique()
