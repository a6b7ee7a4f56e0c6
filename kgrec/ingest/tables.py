"""Reads delimited text and JSON files as chunks of string columns with line numbers.

Tokenising is done by Python's streaming ``csv`` reader, which knows the exact
line and field count of every record (pandas pads short rows silently); each
chunk then becomes a pandas ``DataFrame`` of strings, converted column-wise by
:mod:`kgrec.ingest.mapping`. Memory use is bounded by the chunk size.

Files are read as spreadsheet programs write them: a UTF-8 byte-order mark is
dropped, header names are stripped, and compressed files (``.gz``, ``.bz2``,
``.xz``) are decompressed on the fly (:mod:`kgrec.ingest.compressed`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TextIO

import pandas as pd

from kgrec.errors import BadRecord, InputDataError
from kgrec.ingest.compressed import DECOMPRESS_ERRORS, is_compressed, open_text
from kgrec.ingest.spec import Table

LINE = "__line__"
"""Column holding each record's first line number in the file (1-based)."""

_UNDECODABLE = re.compile("[\udc80-\udcff]")
"""Bytes the codec could not decode, as ``surrogateescape`` leaves them."""

csv.field_size_limit(2**31 - 1)


@dataclass(slots=True)
class Chunk:
    """Up to ``chunk_size`` good records as strings, plus the records rejected while reading."""

    frame: pd.DataFrame
    bad: list[BadRecord] = field(default_factory=list)
    records: int = 0
    """Records read (good and bad), for progress and checkpoints."""


def read_table(
    path: Path, table: Table, *, chunk_size: int = 20_000, skip: int = 0, stop: int | None = None
) -> Iterator[Chunk]:
    """Yield chunks of ``path`` read as ``table`` says.

    Args:
        path: The file.
        table: Its spec entry (format, delimiter, header, encoding, columns).
        chunk_size: Records per chunk.
        skip: Records to skip from the start (resuming after a checkpoint).
        stop: Read no record after this one (``None``: to the end).
    """
    if not path.is_file():
        from kgrec.errors import DataNotFoundError

        raise DataNotFoundError(f"{path}: no such file")
    reader = _read_csv if table.format == "csv" else _read_json
    if not is_compressed(path):
        yield from reader(path, table, chunk_size, skip, stop)
        return
    try:
        yield from reader(path, table, chunk_size, skip, stop)
    except DECOMPRESS_ERRORS as e:
        raise InputDataError([BadRecord(str(path), None, f"cannot decompress: {e}")]) from e


def text_encoding(encoding: str) -> str:
    """The codec to read ``encoding`` with: UTF-8 files may start with a byte-order mark, which is dropped."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def csv_options(table: Table) -> dict[str, object]:
    """Keyword arguments of ``csv.reader`` for ``table`` (``quotechar = ""``: no quoting)."""
    if not table.quotechar:
        return {"delimiter": table.delimiter, "quoting": csv.QUOTE_NONE, "strict": True}
    return {"delimiter": table.delimiter, "quotechar": table.quotechar, "strict": True}


def _read_csv(path: Path, table: Table, chunk_size: int, skip: int, stop: int | None) -> Iterator[Chunk]:
    unquoted = not table.quotechar or not _contains(path, table.encoding, table.quotechar)
    with open_text(path, encoding=text_encoding(table.encoding), errors="surrogateescape") as f:
        reader = csv.reader(f, **csv_options(table))  # type: ignore[call-overload]
        columns = _columns(path, table, reader)
        if unquoted:
            yield from read_lines(f, path, table, columns, reader.line_num + 1, chunk_size, skip, stop)
            return
        width = len(columns)
        rows: list[list[str]] = []
        lines: list[int] = []
        bad: list[BadRecord] = []
        count = 0
        line = reader.line_num + 1
        while stop is None or count < stop:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                count += 1
                if count > skip:
                    bad.append(BadRecord(str(path), line, f"unparsable record: {e}"))
                line = reader.line_num + 1
                continue
            start, line = line, reader.line_num + 1
            if not fields or (table.comment and fields[0].startswith(table.comment)):
                continue  # blank or comment line
            count += 1
            if count <= skip:
                continue
            if len(fields) != width:
                bad.append(BadRecord(str(path), start, _field_count(fields, width), table.delimiter.join(fields)[:500]))
            else:
                rows.append(fields)
                lines.append(start)
            if len(rows) + len(bad) >= chunk_size:
                yield _chunk(path, table, rows, lines, columns, bad)
                rows, lines, bad = [], [], []
        if rows or bad:
            yield _chunk(path, table, rows, lines, columns, bad)


def read_lines(
    f: TextIO, path: Path, table: Table, columns: list[str], line: int, chunk_size: int, skip: int, stop: int | None
) -> Iterator[Chunk]:
    """The fast way for files without any quote character: one record per line, tokenised a block at a time.

    Yields exactly the chunks the record-by-record reader would (same records,
    line numbers, rejects and chunk boundaries). A block of plain records (no
    blank, comment or malformed line, nothing to skip) is taken whole.
    """
    width = len(columns)
    buf = _Buffer(path, table, columns, chunk_size)
    count = 0
    for block in iter(lambda: list(islice(f, chunk_size)), []):
        records = _tokenise(block, line, path, table)
        if _plain(records, width, table) and count >= skip and (stop is None or count + len(records) <= stop):
            count += len(records)
            yield from buf.extend(records, line)  # type: ignore[arg-type]
        else:
            for n, fields in enumerate(records, line):
                if not isinstance(fields, BadRecord) and (
                    not fields or (table.comment and fields[0].startswith(table.comment))
                ):
                    continue  # blank or comment line
                if stop is not None and count >= stop:
                    break
                count += 1
                if count > skip:
                    yield from buf.add(n, fields)
        line += len(block)
        if stop is not None and count >= stop:
            break
    yield from buf.flush()


class _Buffer:
    """Collects records into chunks of exactly ``chunk_size`` records (good and bad)."""

    def __init__(self, path: Path, table: Table, columns: list[str], chunk_size: int) -> None:
        self.path, self.table, self.columns, self.size = path, table, columns, chunk_size
        self.rows: list[list[str]] = []
        self.lines: list[int] = []
        self.bad: list[BadRecord] = []

    def add(self, n: int, fields: list[str] | BadRecord) -> Iterator[Chunk]:
        if isinstance(fields, BadRecord):
            self.bad.append(fields)
        elif len(fields) == len(self.columns):
            self.rows.append(fields)
            self.lines.append(n)
        else:
            text = self.table.delimiter.join(fields)[:500]
            self.bad.append(BadRecord(str(self.path), n, _field_count(fields, len(self.columns)), text))
        if len(self.rows) + len(self.bad) >= self.size:
            yield from self.flush()

    def extend(self, records: list[list[str]], line: int) -> Iterator[Chunk]:
        pos = 0
        while pos < len(records):
            take = min(len(records) - pos, self.size - len(self.rows) - len(self.bad))
            self.rows.extend(records[pos : pos + take])
            self.lines.extend(range(line + pos, line + pos + take))
            pos += take
            if len(self.rows) + len(self.bad) >= self.size:
                yield from self.flush()

    def flush(self) -> Iterator[Chunk]:
        if self.rows or self.bad:
            yield _chunk(self.path, self.table, self.rows, self.lines, self.columns, self.bad)
        self.rows, self.lines, self.bad = [], [], []


def _plain(records: list[list[str] | BadRecord], width: int, table: Table) -> bool:
    """Every record is a list of ``width`` fields (so none is blank or bad) and none can be a comment."""
    if table.comment and any(isinstance(r, list) and r and r[0].startswith(table.comment) for r in records):
        return False
    try:
        return set(map(len, records)) == {width}  # type: ignore[arg-type]
    except TypeError:  # a BadRecord has no len()
        return False


def _tokenise(block: list[str], line: int, path: Path, table: Table) -> list[list[str] | BadRecord]:
    """Split the lines of ``block`` (the first is line ``line``); a line csv rejects becomes a BadRecord."""
    opts = csv_options(table)
    try:
        return list(csv.reader(block, **opts))  # type: ignore[arg-type]
    except csv.Error:
        pass
    out: list[list[str] | BadRecord] = []
    for n, text in enumerate(block, line):
        try:
            out.append(next(csv.reader([text], **opts), []))  # type: ignore[arg-type]
        except csv.Error as e:
            out.append(BadRecord(str(path), n, f"unparsable record: {e}"))
    return out


def _contains(path: Path, encoding: str, char: str) -> bool:
    """Whether the decoded text of ``path`` holds ``char`` anywhere (read in blocks)."""
    with open_text(path, encoding=text_encoding(encoding), errors="surrogateescape") as f:
        return any(char in block for block in iter(lambda: f.read(1 << 22), ""))


def _columns(path: Path, table: Table, reader: csv._reader) -> list[str]:  # type: ignore[name-defined]
    """The record's column names (header, stripped, or ``columns``); every column the spec uses must be there."""
    columns = header_columns(path, reader, header=table.header, columns=table.columns)
    check_columns(path, columns, table.used_columns())
    return columns


def header_columns(path: Path, reader: csv._reader, *, header: bool, columns: list[str] | None) -> list[str]:  # type: ignore[name-defined]
    """Read the header line (when there is one) and return the column names to use.

    Raises:
        InputDataError: On line 1: an empty file, or a header whose width differs from ``columns``.
    """
    if not header:
        return list(columns or [])
    try:
        names = [name.strip() for name in next(reader)]
    except StopIteration as e:
        raise InputDataError([BadRecord(str(path), 1, "empty file: expected a header line")]) from e
    except csv.Error as e:
        raise InputDataError([BadRecord(str(path), 1, f"unparsable header: {e}")]) from e
    if columns is None:
        return names
    if len(names) != len(columns):
        raise InputDataError(
            [BadRecord(str(path), 1, f"header has {len(names)} columns, the spec names {len(columns)}")]
        )
    return list(columns)


def check_columns(path: Path, found: list[str], used: list[str]) -> None:
    """Raise on line 1 when a column the spec uses is not among the file's columns.

    Raises:
        InputDataError: Naming the missing columns and listing those found.
    """
    missing = [c for c in used if c not in found]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        shown = ", ".join(repr(c) for c in found) or "none"
        raise InputDataError([BadRecord(str(path), 1, f"missing column(s) {names}; the file has: {shown}")])


def _field_count(fields: list[str], expected: int) -> str:
    return f"expected {expected} fields, found {len(fields)}"


def _chunk(
    path: Path, table: Table, rows: list[list[str]], lines: list[int], columns: list[str], bad: list[BadRecord]
) -> Chunk:
    """A chunk of good rows; rows holding undecodable bytes join ``bad`` (one scan of the whole chunk)."""
    records = len(rows) + len(bad)
    if _UNDECODABLE.search("".join(map("".join, rows))):
        keep = [not _UNDECODABLE.search("".join(r)) for r in rows]
        for r, n, ok in zip(rows, lines, keep):
            if not ok:
                i = next(i for i, v in enumerate(r) if _UNDECODABLE.search(v))
                reason = f"invalid byte sequence for the file's encoding in field {i + 1}"
                bad.append(BadRecord(str(path), n, reason, table.delimiter.join(r)[:500]))
        bad.sort(key=lambda b: b.line or 0)
        rows = [r for r, ok in zip(rows, keep) if ok]
        lines = [n for n, ok in zip(lines, keep) if ok]
    frame = pd.DataFrame(rows, columns=columns, dtype=object) if rows else pd.DataFrame(columns=columns, dtype=object)
    frame[LINE] = lines
    return Chunk(frame, bad, records)


def _read_json(path: Path, table: Table, chunk_size: int, skip: int, stop: int | None) -> Iterator[Chunk]:
    records: list[dict[str, object]] = []
    bad: list[BadRecord] = []
    count = 0
    parsed = {key.column for _, key in table.list_keys()}  # list columns keep their JSON values
    for line, item in _json_items(path, table):
        if stop is not None and count >= stop:
            break
        count += 1
        if count <= skip:
            continue
        if isinstance(item, BadRecord):
            bad.append(item)
        elif not isinstance(item, dict):
            bad.append(BadRecord(str(path), line, f"expected a JSON object, found {type(item).__name__}"))
        else:
            records.append({k: v if k in parsed else _json_str(v) for k, v in item.items()} | {LINE: line})
        if len(records) + len(bad) >= chunk_size:
            yield Chunk(pd.DataFrame(records, dtype=object), bad, len(records) + len(bad))
            records, bad = [], []
    if records or bad:
        yield Chunk(pd.DataFrame(records, dtype=object), bad, len(records) + len(bad))


def _json_items(path: Path, table: Table) -> Iterator[tuple[int, object]]:
    if table.format == "jsonl":
        with open_text(path, encoding=text_encoding(table.encoding), newline=None) as f:
            for n, text in enumerate(f, start=1):
                if text.strip():
                    try:
                        yield n, json.loads(text)
                    except json.JSONDecodeError as e:
                        yield n, BadRecord(str(path), n, f"invalid JSON: {e.msg}", text[:500])
        return
    try:
        with open_text(path, encoding=text_encoding(table.encoding), newline=None) as f:
            data = json.loads(f.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        line = getattr(e, "lineno", None)
        raise InputDataError([BadRecord(str(path), line, f"invalid JSON: {e}")]) from e
    if not isinstance(data, list):
        raise InputDataError([BadRecord(str(path), 1, "expected a JSON array of objects")])
    # Records of a JSON array are numbered (1-based), not by line.
    yield from enumerate(data, start=1)


def _json_str(v: object) -> object:
    if v is None:
        return ""
    if isinstance(v, (list, dict)):
        return v
    return str(v)
