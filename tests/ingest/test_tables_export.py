"""Tables as people export them: BOM, CRLF, quoting, header spaces, missing columns, compression, spec errors.

Unit tests: files are read and mapped without a database.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import pytest

from kgrec.errors import InputDataError, SpecError
from kgrec.ingest.link import read_link_file
from kgrec.ingest.mapping import map_chunk
from kgrec.ingest.spec import Link, Table, load_spec
from kgrec.ingest.tables import LINE, read_table
from tests.conftest import write

ITEMS = Table.model_validate(
    {
        "file": "items.csv",
        "nodes": [{"label": "Item", "key": {"column": "item_id", "type": "int"}, "properties": {"title": "title"}}],
    }
)


def _records(path: Path, table: Table = ITEMS) -> tuple[list[dict[str, object]], list[str]]:
    rows: list[dict[str, object]] = []
    bad: list[str] = []
    for chunk in read_table(path, table, chunk_size=3):
        rows += chunk.frame.to_dict("records")
        bad += [str(b) for b in chunk.bad]
    return rows, bad


def test_bom_and_crlf_as_spreadsheets_write_them(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", b"\xef\xbb\xbfitem_id,title\r\n1,Heat\r\n2,Alien\r\n")
    rows, bad = _records(path)
    assert bad == []
    assert [(r["item_id"], r["title"], r[LINE]) for r in rows] == [("1", "Heat", 2), ("2", "Alien", 3)]
    batch, rejected = map_chunk(next(read_table(path, ITEMS)).frame, ITEMS, str(path))
    assert rejected == [] and [r["key"] for r in batch.nodes[0].rows] == [1, 2]


def test_quoted_delimiters_newlines_and_header_spaces(tmp_path: Path) -> None:
    text = ' item_id ,  title \r\n1,"Crouching Tiger, Hidden Dragon"\r\n2,"two\r\nlines"\r\n3,"say ""hi"""\r\n4,Up\r\n'
    path = write(tmp_path / "items.csv", text.encode())
    rows, bad = _records(path)
    assert bad == []
    assert [(r["title"], r[LINE]) for r in rows] == [
        ("Crouching Tiger, Hidden Dragon", 2),
        ("two\r\nlines", 3),
        ('say "hi"', 5),
        ("Up", 6),
    ]


def test_missing_column_is_rejected_on_line_1_before_any_record(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", "id,title\n1,Heat\nbroken line with \"quote\n")
    with pytest.raises(InputDataError) as e:
        next(read_table(path, ITEMS))
    assert str(e.value) == f"{path}:1: missing column(s) 'item_id'; the file has: 'id', 'title'"


def test_missing_column_without_header_names_the_spec_columns(tmp_path: Path) -> None:
    table = ITEMS.model_copy(update={"header": False, "columns": ["id", "title"]})
    path = write(tmp_path / "items.csv", "1,Heat\n")
    with pytest.raises(InputDataError, match=r":1: missing column\(s\) 'item_id'; the file has: 'id', 'title'"):
        next(read_table(path, table))


def test_quotechar_off_reads_quotes_as_data(tmp_path: Path) -> None:
    table = ITEMS.model_copy(update={"quotechar": "", "delimiter": "\t"})
    path = write(tmp_path / "items.tsv", 'item_id\ttitle\n1\t"Weird Al" Yankovic\n2\tRoyce da 5\'9"\n3\t"a\n')
    rows, bad = _records(path, table)
    assert bad == []
    assert [r["title"] for r in rows] == ['"Weird Al" Yankovic', "Royce da 5'9\"", '"a']
    with pytest.raises(ValueError, match="exactly one character"):
        Table.model_validate({**ITEMS.model_dump(), "quotechar": "''"})


def test_bare_quotes_with_default_quoting_are_bad_records(tmp_path: Path) -> None:
    path = write(tmp_path / "items.tsv", 'item_id\ttitle\n1\t"Weird Al" Yankovic\n2\tUp\n')
    rows, bad = _records(path, ITEMS.model_copy(update={"delimiter": "\t"}))
    assert [r["title"] for r in rows] == ["Up"]
    assert len(bad) == 1 and bad[0].startswith(f"{path}:2: unparsable record")


@pytest.mark.realdata
def test_lastfm_artists_with_bare_quotes_read_with_quoting_off(data_dir: Path) -> None:
    path = data_dir / "lastfm-hetrec" / "artists.dat"
    if not path.is_file():
        pytest.skip(f"{path} not in the dataset mirror")
    table = Table.model_validate(
        {
            "file": "artists.dat",
            "delimiter": "\t",
            "quotechar": "",
            "nodes": [{"label": "Artist", "key": {"column": "id", "type": "int"}, "properties": {"name": "name"}}],
        }
    )
    names: dict[str, str] = {}
    for chunk in read_table(path, table):
        assert chunk.bad == []
        names.update(zip(chunk.frame["id"], chunk.frame["name"]))
    assert names["1686"] == '"Weird Al" Yankovic'
    assert names["3147"] == 'Lee "Scratch" Perry'
    assert len(names) == 17632


@pytest.mark.parametrize("suffix, compress", [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)])
def test_compressed_tables_read_as_the_plain_file(tmp_path: Path, suffix: str, compress: object) -> None:
    text = b"\xef\xbb\xbfitem_id,title\r\n1,\"a, b\"\r\n2,x\r\nthree,y\r\n"
    plain = write(tmp_path / "items.csv", text)
    packed = write(tmp_path / f"items.csv{suffix}", compress(text))  # type: ignore[operator]
    rows, bad = _records(packed)
    assert [(r["item_id"], r["title"], r[LINE]) for r in rows] == [("1", "a, b", 2), ("2", "x", 3), ("three", "y", 4)]
    assert (rows, [b.replace(suffix, "") for b in bad]) == _records(plain)


def test_compressed_jsonl_and_damaged_archive(tmp_path: Path) -> None:
    table = ITEMS.model_copy(update={"format": "jsonl"})
    path = write(tmp_path / "items.jsonl.gz", gzip.compress(b'{"item_id": 1, "title": "Heat"}\n{"item_id": 2}\n'))
    rows, bad = _records(path, table)
    assert [(r["item_id"], r.get("title")) for r in rows][0] == ("1", "Heat") and bad == []
    whole = gzip.compress(b"item_id,title\n" + "".join(f"{i},{i * i}\n" for i in range(5000)).encode())
    damaged = write(tmp_path / "cut.csv.gz", whole[: len(whole) // 2])
    with pytest.raises(InputDataError, match=r"cut\.csv\.gz: cannot decompress"):
        _records(damaged)


def test_json_records_lacking_a_field_are_mapped_as_empty(tmp_path: Path) -> None:
    table = ITEMS.model_copy(update={"format": "jsonl"})
    path = write(tmp_path / "items.jsonl", '{"item_id": 1}\n{"item_id": 2}\n')
    chunk = next(read_table(path, table))
    batch, bad = map_chunk(chunk.frame, table, str(path))
    assert bad == [] and batch.nodes[0].rows == [{"key": 1, "props": {}}, {"key": 2, "props": {}}]


def test_unknown_key_lists_the_valid_keys(tmp_path: Path) -> None:
    spec = write(
        tmp_path / "s.toml",
        """
name = "s"
[[tables]]
file = "a.csv"
  [[tables.relationships]]
  type = "T"
  stat = "typo"
  start = { label = "U", column = "u" }
  end = { label = "I", column = "i" }
""",
    )
    with pytest.raises(SpecError) as e:
        load_spec(spec)
    assert str(e.value).startswith(f"{spec}: tables.0.relationships.0.stat: unknown key (valid: properties, type,")
    assert "end_flag_columns" in str(e.value) and "count" in str(e.value)
    node = '{ label = "U", key = { column = "u", kolumn = 1 } }'
    write(spec, f'name = "s"\n[[tables]]\nfile = "a.csv"\nnodes = [{node}]\n')
    with pytest.raises(SpecError, match=r"tables\.0\.nodes\.0\.key\.kolumn: unknown key \(valid: column, property"):
        load_spec(spec)


LINK = {
    "file": "links.tsv",
    "delimiter": "\t",
    "item_column": "item",
    "entity_column": "iri",
    "entity_prefix": "http://x/",
}


def test_link_file_without_header_uses_columns(tmp_path: Path) -> None:
    link = Link.model_validate({**LINK, "header": False, "columns": ["item", "iri"]})
    path = write(tmp_path / "links.tsv", "1\tHeat\n2\tAlien\n3\tHeat\n")
    lm = read_link_file(path, link)
    assert lm.targets == {"http://x/Heat": [1, 3], "http://x/Alien": [2]}
    with pytest.raises(ValueError, match="'columns' is required when 'header' is false"):
        Link.model_validate({**LINK, "header": False})


def test_link_file_compressed_with_bom_and_a_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "links.tsv.xz", lzma.compress(b"\xef\xbb\xbf item \tiri\r\n1\tHeat\r\n"))
    assert read_link_file(path, Link.model_validate(LINK)).targets == {"http://x/Heat": [1]}
    wrong = write(tmp_path / "wrong.tsv", "item\tentity\n1\tHeat\n")
    with pytest.raises(InputDataError, match=r"wrong\.tsv:1: missing column\(s\) 'iri'; the file has: 'item', 'ent"):
        read_link_file(wrong, Link.model_validate(LINK))
