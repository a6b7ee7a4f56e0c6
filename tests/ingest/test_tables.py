from pathlib import Path

import pytest

from kgrec.errors import InputDataError
from kgrec.ingest.mapping import map_chunk
from kgrec.ingest.spec import Table
from kgrec.ingest.tables import LINE, read_table
from tests.conftest import write

USERS = Table.model_validate(
    {
        "file": "u.csv",
        "delimiter": "|",
        "header": False,
        "columns": ["id", "age", "name"],
        "nodes": [
            {
                "label": "User",
                "key": {"column": "id", "type": "int"},
                "properties": {"age": {"column": "age", "type": "int"}, "name": "name"},
            }
        ],
    }
)


def _read(path: Path, table: Table = USERS, **kw: object) -> tuple[list[dict], list]:
    rows, bad = [], []
    for chunk in read_table(path, table, **kw):  # type: ignore[arg-type]
        rows += chunk.frame.to_dict("records")
        bad += chunk.bad
    return rows, bad


def test_reads_lines_with_numbers_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", b"1|20|ann\r\n\r\n2|30|bob\r\n")
    rows, bad = _read(path)
    assert bad == []
    assert [(r["id"], r["name"], r[LINE]) for r in rows] == [("1", "ann", 1), ("2", "bob", 3)]


def test_wrong_field_count_is_reported_with_line(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", "1|20|ann\n2|30\n3|40|cy|extra\n4|50|dee\n")
    rows, bad = _read(path)
    assert [r["id"] for r in rows] == ["1", "4"]
    assert [(b.line, b.reason) for b in bad] == [
        (2, "expected 3 fields, found 2"),
        (3, "expected 3 fields, found 4"),
    ]
    assert str(bad[0]).startswith(f"{path}:2: ")


def test_invalid_utf8_is_reported_with_line(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", b"1|20|ann\n2|30|b\xffb\n")
    rows, bad = _read(path)
    assert [r["id"] for r in rows] == ["1"]
    assert bad[0].line == 2 and "invalid byte sequence" in bad[0].reason


def test_latin1_and_header_with_renamed_columns(tmp_path: Path) -> None:
    table = USERS.model_copy(update={"header": True, "encoding": "latin-1", "delimiter": ";"})
    path = write(tmp_path / "u.csv", "ID;AGE;NAME\n1;20;Jos\xe9\n".encode("latin-1"))
    rows, bad = _read(path, table)
    assert bad == [] and rows[0]["name"] == "José" and rows[0][LINE] == 2


def test_quoted_newlines_keep_line_numbers_right(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", '1|20|"two\nlines"\n2|x|bob\n')
    rows, _ = _read(path)
    batch, bad = map_chunk(__import__("pandas").DataFrame(rows), USERS, "u.csv")
    assert rows[0]["name"] == "two\nlines"
    assert [(b.line, b.reason) for b in bad] == [(3, "column 'age': not an integer: 'x'")]


def test_chunks_and_skip(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", "".join(f"{i}|{i}|n{i}\n" for i in range(1, 11)))
    chunks = list(read_table(path, USERS, chunk_size=4, skip=3))
    assert [len(c.frame) for c in chunks] == [4, 3]
    assert chunks[0].frame["id"].tolist()[0] == "4"


def test_mapping_rejects_whole_record_on_any_bad_value(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", "1|20|ann\n|30|nokey\n3|old|cy\n4||dee\n")
    rows, _ = _read(path)
    batch, bad = map_chunk(__import__("pandas").DataFrame(rows), USERS, "u.csv")
    assert [r["key"] for r in batch.nodes[0].rows] == [1, 4]
    assert batch.nodes[0].rows[1]["props"] == {"name": "dee"}  # empty age -> not set
    assert [(b.line, b.reason) for b in bad] == [
        (2, "missing key in column 'id'"),
        (3, "column 'age': not an integer: 'old'"),
    ]


def test_json_array_and_errors(tmp_path: Path) -> None:
    table = Table.model_validate(
        {
            "file": "d.json",
            "format": "json",
            "nodes": [{"label": "Item", "key": {"column": "id", "type": "int"}, "properties": {"d": "desc"}}],
        }
    )
    good = write(tmp_path / "d.json", '[{"id": 1, "desc": "a"}, {"id": 2, "desc": null}]')
    rows, bad = _read(good, table)
    assert [r["id"] for r in rows] == ["1", "2"] and bad == []
    broken = write(tmp_path / "e.json", '[{"id": 1,\n "desc": }]')
    with pytest.raises(InputDataError, match=r"e.json:2: invalid JSON"):
        _read(broken, table)


def test_empty_relationship_type_rejects_the_record() -> None:
    import pandas as pd

    table = Table.model_validate(
        {
            "file": "t.tsv",
            "columns": ["h", "r", "t"],
            "relationships": [
                {"type_column": "r", "start": {"label": "E", "column": "h"}, "end": {"label": "E", "column": "t"}}
            ],
        }
    )
    frame = pd.DataFrame([["a", "film.film.actor", "b", 2], ["a", "", "c", 3]], columns=["h", "r", "t", LINE])
    batch, bad = map_chunk(frame, table, "t.tsv")
    assert [g.type for g in batch.rels] == ["FILM_FILM_ACTOR"]
    assert [(b.line, b.reason) for b in bad] == [(3, "column 'r': missing relationship type")]


def test_prefetch_keeps_order_and_passes_errors() -> None:
    from kgrec.ingest.load import prefetch

    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))

    def failing():  # type: ignore[no-untyped-def]
        yield 1
        raise ValueError("bad batch")

    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for x in prefetch(failing()):
            got.append(x)
    assert got == [1]
    early = prefetch(iter(range(10**6)), depth=2)
    assert next(early) == 0
    early.close()  # the producer stops instead of blocking forever


MESSY = (
    "1|20|ann\n"
    "\n"
    "# a comment\n"
    "2|21\n"  # too few fields
    "3|22|b\xffd\n"  # undecodable in utf-8
    "4|23|dee\r\n"
    "   \n"  # one blank-looking field
    "5|24|eve|extra\n" + "".join(f"{i}|{i}|n{i}\n" for i in range(6, 40))
)


def _chunks(path: Path, table: Table, **kw: object) -> list[tuple[list[list[object]], list[tuple], int]]:
    return [
        (c.frame.values.tolist(), [(b.line, b.reason) for b in c.bad], c.records)
        for c in read_table(path, table, **kw)  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize("kw", [{}, {"chunk_size": 4}, {"chunk_size": 5, "skip": 3}, {"chunk_size": 3, "stop": 9}])
def test_line_block_reader_gives_the_record_readers_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kw: dict[str, int]
) -> None:
    from kgrec.ingest import tables

    path = tmp_path / "u.csv"
    path.write_bytes(MESSY.encode("utf-8").replace("\xff".encode(), b"\xff"))
    table = USERS.model_copy(update={"comment": "#"})
    fast = _chunks(path, table, **kw)
    monkeypatch.setattr(tables, "_contains", lambda *a: True)  # as if a quote were in the file
    slow = _chunks(path, table, **kw)
    assert fast == slow
    reasons = [r for _, bad, _ in fast for _, r in bad]
    if not kw:
        assert reasons == [
            "expected 3 fields, found 2",
            "invalid byte sequence for the file's encoding in field 3",
            "expected 3 fields, found 1",
            "expected 3 fields, found 4",
        ]


def test_stop_reads_no_further(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", "".join(f"{i}|{i}|n{i}\n" for i in range(1, 11)))
    chunks = list(read_table(path, USERS, chunk_size=4, skip=2, stop=7))
    assert [c.frame["id"].tolist() for c in chunks] == [["3", "4", "5", "6"], ["7"]]
