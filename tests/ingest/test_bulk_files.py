"""``--bulk``'s import files without Neo4j: relationships stated once or several times, ids, types."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup
from kgrec.ingest.bulk_csv import AdminCsvWriter, ImportFiles
from kgrec.ingest.bulk_rels import key_hashes
from kgrec.ingest.bulk_spill import GraphSpill

USER, ITEM, TAG = NodeKey("User", "id"), NodeKey("Item", "id"), NodeKey("Tag", "id")
US = "\x1f"  # the array delimiter of the import files


def _spill(tmp_path: Path, *units: tuple[str, list[RelGroup]]) -> GraphSpill:
    spill = GraphSpill(tmp_path)
    spill.add(Batch(nodes=[NodeGroup(USER, rows=[{"key": 1, "props": {}}])]))
    for i, (source, groups) in enumerate(units):
        spill.unit, spill.source = i, source
        spill.add(Batch(rels=groups))
    return spill


def _files(spill: GraphSpill, folder: Path) -> ImportFiles:
    writer = AdminCsvWriter(folder, list(spill.spaces), list(spill.rel_files), spill.kinds)
    spill.rels.write(writer, spill.kinds)
    return writer.close()


def _read(arg: str) -> tuple[list[str], list[list[str]]]:
    header, data = arg.split(",")
    with open(header, encoding="utf-8", newline="") as h, open(data, encoding="utf-8", newline="") as d:
        return next(csv.reader(h)), sorted(csv.reader(d))


def _rated(rows: list[list[Any]]) -> RelGroup:
    return RelGroup(USER, "RATED", ITEM, rows=rows, columns=("rating", "note"))


def test_relationships_stated_again_are_combined_and_the_others_written_as_stated(tmp_path: Path) -> None:
    spill = _spill(
        tmp_path,
        ("a", [_rated([[1, 10, 5, "x"], [2, 10, 3, None], [1, 11, 4, ""]])]),
        ("b", [_rated([["1", 10, None, "two\nlines"], [3, 12, 2, None]])]),  # "1": the same id as 1
    )
    files = _files(spill, tmp_path)
    assert files.rel_count == 4 and files.multiline == [files.relationships[0].split(",")[1]]
    header, rows = _read(files.relationships[0])
    assert header == [
        ":START_ID(User)",
        ":END_ID(Item)",
        ":TYPE",
        "kgrec_sources:string[]",
        "note:string",
        "rating:long",
    ]
    assert rows == [
        ["1", "10", "RATED", f"a{US}b", "two\nlines", "5"],
        ["1", "11", "RATED", "a", "", "4"],
        ["2", "10", "RATED", "a", "", "3"],
        ["3", "12", "RATED", "b", "", "2"],
    ]


def test_a_counted_relationship_holds_the_records_of_the_last_unit_that_counts_it(tmp_path: Path) -> None:
    def tagged(*pairs: tuple[int, str]) -> RelGroup:
        return RelGroup(USER, "TAGGED", TAG, rows=[{"start": s, "end": e, "props": {}} for s, e in pairs], count="n")

    spill = _spill(
        tmp_path, ("a", [tagged((1, "fun"), (1, "fun"), (1, "sad"))]), ("a", [tagged((1, "sad"), (2, "fun"))])
    )
    header, rows = _read(_files(spill, tmp_path).relationships[0])
    assert header == [":START_ID(User)", ":END_ID(Tag)", ":TYPE", "kgrec_sources:string[]", "n:long"]
    assert rows == [
        ["1", "fun", "TAGGED", "a", "2"],
        ["1", "sad", "TAGGED", "a", "1"],
        ["2", "fun", "TAGGED", "a", "1"],
    ]


def test_a_property_of_two_types_goes_to_one_file_per_type(tmp_path: Path) -> None:
    spill = _spill(tmp_path, ("a", [_rated([[1, 10, 5, None], [1, 11, "five", None]])]))
    read = sorted(_read(arg) for arg in _files(spill, tmp_path).relationships)
    assert [(h[-1], r) for h, r in read] == [
        ("rating:long", [["1", "10", "RATED", "a", "5"]]),
        ("rating:string", [["1", "11", "RATED", "a", "five"]]),
    ]


def test_integer_ids_only_when_every_key_and_endpoint_is_an_integer(tmp_path: Path) -> None:
    assert _spill(tmp_path, ("a", [_rated([[1, 10, 5, None]])])).integer_ids()
    assert not _spill(tmp_path / "t", ("a", [_rated([[1, "10", 5, None]])])).integer_ids()


def test_ids_hash_as_the_import_compares_them() -> None:
    assert list(key_hashes([1, 22, -3])) == list(key_hashes(["1", "22", "-3"]))
    assert len(set(key_hashes(["01", "1", "1.0", "a", 2**70]))) == 5


def test_integer_columns_are_written_as_the_csv_module_writes_them(tmp_path: Path) -> None:
    spill = _spill(tmp_path, ('spec "a", b{0}', [_rated([[1, 10, 5, None], [2, 11, -3, None], [3, 12, 10**20, None]])]))
    files = _files(spill, tmp_path)
    data = files.relationships[0].split(",")[1]
    expected = tmp_path / "expected.csv"
    with expected.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerows([[s, e, "RATED", 'spec "a", b{0}', r] for s, e, r in [(1, 10, 5), (2, 11, -3), (3, 12, 10**20)]])
    assert Path(data).read_text(encoding="utf-8") == expected.read_text(encoding="utf-8")
