"""The block reader (kgrec.ingest.fast_table) against the record-by-record reader it must agree with."""

import bz2
import gzip
from pathlib import Path
from typing import Any

import pytest

from kgrec.errors import InputDataError
from kgrec.ingest.fast_table import FastBlock, read_blocks
from kgrec.ingest.spec import Table
from kgrec.ingest.tables import LINE, read_table
from tests.conftest import write

_MAPS = {
    "relationships": [
        {
            "type": "RATED",
            "start": {"label": "User", "column": "u", "type": "int"},
            "end": {"label": "Item", "column": "i", "type": "int"},
            "properties": {"r": {"column": "r", "type": "int"}, "note": "note"},
        }
    ]
}
TSV = Table.model_validate(
    {"file": "r.tsv", "delimiter": "\t", "header": False, "columns": ["u", "i", "r", "note"], **_MAPS}
)
CSV = Table.model_validate({"file": "r.csv", "comment": "#", **_MAPS})


def _records(items: Any, used: list[str]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    """(line, fields...) of the good records, (line, reason) of the bad ones, and the records counted."""
    good, bad, count = [], [], 0
    for item in items:
        count += item.records
        for row in item.frame.to_dict("records"):
            good.append((row[LINE], *(str(row[c]) for c in used)))
        bad += [] if isinstance(item, FastBlock) else [(b.line, b.reason) for b in item.bad]
    return good, bad, count


def _both(path: Path, table: Table, block_bytes: int) -> tuple[Any, Any, int]:
    used = table.used_columns()
    exact = _records(read_table(path, table, chunk_size=3), used)
    blocks = list(read_blocks(path, table, chunk_size=3, block_bytes=block_bytes, int_columns={"u", "i", "r"}))
    return exact, _records(blocks, used), sum(isinstance(b, FastBlock) for b in blocks)


ROWS = b"".join(b"%d\t%d\t%d\tn%d\n" % (u, u % 7, u % 5, u) for u in range(1, 40))
CASES = {
    "plain": ROWS,
    "crlf": ROWS.replace(b"\n", b"\r\n"),
    "no final newline": ROWS[:-1],
    "blank lines": ROWS[:40] + b"\n\r\n" + ROWS[40:],
    "short and long rows": ROWS[:60] + b"1\t2\n3\t4\t5\t6\t7\n" + ROWS[60:],
    "bad utf-8": ROWS[:100] + b"9\t9\t9\t\xff\xfe\n" + ROWS[100:],
    "nul": ROWS[:100] + b"9\t9\t9\ta\x00b\n" + ROWS[100:],
    "lone cr": ROWS[:100] + b"9\t9\t9\tx\r8\t8\t8\ty\n" + ROWS[100:],
    "quote mid-file": ROWS[:200] + b'9\t9\t9\t"two\nlines"\n' + ROWS[200:],
    "numbers python reads": ROWS[:80] + b" 7\t+8\t-1\t1e3\n007\t1.0\t\xc2\xa03\tx\n" + ROWS[80:],
    "numbers nobody reads": ROWS[:80] + b"1e3\t1.0\t0x1\tx\n99999999999999999999\t1_0\t\tz\n" + ROWS[80:],
    "missing key": ROWS[:80] + b"\t5\t5\tx\n" + ROWS[80:],
    "utf-8 text": ROWS[:80] + "5\t5\t5\tcafé ☕\n".encode() + ROWS[80:],
}


@pytest.mark.parametrize("block_bytes", [1, 64, 1 << 20])
@pytest.mark.parametrize("case", sorted(CASES))
def test_blocks_give_the_exact_readers_records_lines_and_rejects(tmp_path: Path, case: str, block_bytes: int) -> None:
    path = write(tmp_path / "r.tsv", CASES[case])
    exact, blocks, parsed = _both(path, TSV, block_bytes)
    assert blocks == exact
    assert exact[0], "the case has good records"
    if case == "plain":
        assert parsed > 0, "plain blocks are parsed whole"


def test_ints_are_parsed_only_where_python_reads_them_alike(tmp_path: Path) -> None:
    digits = b"".join(b"%d\t%d\t%d\t%d\n" % (u, u, u, u) for u in range(9))
    path = write(tmp_path / "r.tsv", digits + b"007\t8\t9\t0012\n")
    frame = next(read_blocks(path, TSV, chunk_size=3, int_columns={"u", "i"})).frame  # type: ignore[union-attr]
    assert str(frame["u"].dtype) == "int64" and frame["u"].tolist()[-1] == 7
    assert frame["note"].tolist()[-1] == "0012" and frame["r"].tolist()[-1] == "9"  # not asked for: text
    path = write(tmp_path / "s.tsv", digits + b"1\t2\t3\tx\n")  # not all digits: every column is text
    frame = next(read_blocks(path, TSV, chunk_size=3, int_columns={"u", "i"})).frame  # type: ignore[union-attr]
    assert frame["u"].tolist()[:2] == ["0", "1"]


@pytest.mark.parametrize("opener", ["plain", "gz", "bz2"])
def test_header_bom_crlf_spaces_comments_and_compression(tmp_path: Path, opener: str) -> None:
    text = b"\xef\xbb\xbf u , i,r ,note\r\n" + b"".join(b"%d,%d,%d,n\r\n" % (k, k, k) for k in range(30))
    text += b"# a comment\r\n5,5,5,last\r\n"
    data = {"plain": text, "gz": gzip.compress(text), "bz2": bz2.compress(text)}[opener]
    path = write(tmp_path / f"r.csv{'' if opener == 'plain' else '.' + opener}", data)
    exact, blocks, parsed = _both(path, CSV, 64)
    assert blocks == exact
    assert exact[0][0] == (2, "0", "0", "0", "n") and exact[0][-1] == (33, "5", "5", "5", "last")
    assert parsed > 0


def test_a_missing_column_is_reported_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "u,i,rating,note\n1,2,3,x\n")
    with pytest.raises(InputDataError, match=r"r.csv:1: missing column\(s\) 'r'; the file has: 'u', 'i', 'rating'"):
        list(read_blocks(path, CSV, chunk_size=3))


def test_a_damaged_compressed_file_is_one_error(tmp_path: Path) -> None:
    path = write(tmp_path / "r.tsv.gz", gzip.compress(ROWS)[:-20])
    with pytest.raises(InputDataError, match="cannot decompress"):
        list(read_blocks(path, TSV, chunk_size=3, block_bytes=64))


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_single_byte_encodings(tmp_path: Path, encoding: str) -> None:
    table = TSV.model_copy(update={"encoding": encoding})
    lines = ROWS.splitlines(keepends=True)
    path = write(tmp_path / "r.tsv", b"".join([*lines[:5], b"5\t5\t5\tcaf\xe9 \x81\n", *lines[5:]]))  # 0x81: not cp1252
    exact, blocks, parsed = _both(path, table, 64)
    assert blocks == exact and parsed > 0
    if encoding == "latin-1":
        assert (6, "5", "5", "5", "caf\xe9 \x81") in exact[0]
    else:
        assert [b[0] for b in exact[1]] == [6]
