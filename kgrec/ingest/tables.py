"""Reads delimited text and JSON files as chunks of string columns with line numbers.

Tokenising is done by Python's streaming ``csv`` reader, which knows the exact
line and field count of every record (pandas pads short rows silently); each
chunk then becomes a pandas ``DataFrame`` of strings, converted column-wise by
:mod:`kgrec.ingest.mapping`. Memory use is bounded by the chunk size.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kgrec.errors import BadRecord, InputDataError
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


def read_table(path: Path, table: Table, *, chunk_size: int = 20_000, skip: int = 0) -> Iterator[Chunk]:
    """Yield chunks of ``path`` read as ``table`` says.

    Args:
        path: The file.
        table: Its spec entry (format, delimiter, header, encoding, columns).
        chunk_size: Records per chunk.
        skip: Records to skip from the start (resuming after a checkpoint).
    """
    if not path.is_file():
        from kgrec.errors import DataNotFoundError

        raise DataNotFoundError(f"{path}: no such file")
    if table.format == "csv":
        yield from _read_csv(path, table, chunk_size, skip)
    else:
        yield from _read_json(path, table, chunk_size, skip)


def _read_csv(path: Path, table: Table, chunk_size: int, skip: int) -> Iterator[Chunk]:
    with path.open("r", encoding=table.encoding, errors="surrogateescape", newline="") as f:
        reader = csv.reader(f, delimiter=table.delimiter, quotechar=table.quotechar, strict=True)
        columns = _columns(path, table, reader)
        rows: list[list[str]] = []
        bad: list[BadRecord] = []
        count = 0
        line = reader.line_num + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                bad.append(BadRecord(str(path), line, f"unparsable record: {e}"))
                count += 1
                line = reader.line_num + 1
                continue
            start, line = line, reader.line_num + 1
            if not fields or (table.comment and fields[0].startswith(table.comment)):
                continue  # blank or comment line
            count += 1
            if count <= skip:
                continue
            problem = _check_fields(fields, len(columns))
            if problem:
                bad.append(BadRecord(str(path), start, problem, table.delimiter.join(fields)[:500]))
            else:
                rows.append([*fields, start])  # type: ignore[list-item]
            if len(rows) + len(bad) >= chunk_size:
                yield _chunk(rows, columns, bad, len(rows) + len(bad))
                rows, bad = [], []
        if rows or bad:
            yield _chunk(rows, columns, bad, len(rows) + len(bad))


def _columns(path: Path, table: Table, reader: csv._reader) -> list[str]:  # type: ignore[name-defined]
    if not table.header:
        return list(table.columns or [])
    try:
        header = next(reader)
    except StopIteration as e:
        raise InputDataError([BadRecord(str(path), 1, "empty file: expected a header line")]) from e
    if table.columns is None:
        return header
    if len(header) != len(table.columns):
        raise InputDataError(
            [BadRecord(str(path), 1, f"header has {len(header)} columns, the spec names {len(table.columns)}")]
        )
    return list(table.columns)


def _check_fields(fields: list[str], expected: int) -> str | None:
    if len(fields) != expected:
        return f"expected {expected} fields, found {len(fields)}"
    if _UNDECODABLE.search("".join(fields)):
        i = next(i for i, v in enumerate(fields) if _UNDECODABLE.search(v))
        return f"invalid byte sequence for the file's encoding in field {i + 1}"
    return None


def _chunk(rows: list[list[str]], columns: list[str], bad: list[BadRecord], records: int) -> Chunk:
    frame = pd.DataFrame(rows, columns=[*columns, LINE], dtype=object)
    return Chunk(frame, bad, records)


def _read_json(path: Path, table: Table, chunk_size: int, skip: int) -> Iterator[Chunk]:
    records: list[dict[str, object]] = []
    bad: list[BadRecord] = []
    count = 0
    for line, item in _json_items(path, table):
        count += 1
        if count <= skip:
            continue
        if isinstance(item, BadRecord):
            bad.append(item)
        elif not isinstance(item, dict):
            bad.append(BadRecord(str(path), line, f"expected a JSON object, found {type(item).__name__}"))
        else:
            records.append({k: _json_str(v) for k, v in item.items()} | {LINE: line})
        if len(records) + len(bad) >= chunk_size:
            yield Chunk(pd.DataFrame(records, dtype=object), bad, len(records) + len(bad))
            records, bad = [], []
    if records or bad:
        yield Chunk(pd.DataFrame(records, dtype=object), bad, len(records) + len(bad))


def _json_items(path: Path, table: Table) -> Iterator[tuple[int, object]]:
    if table.format == "jsonl":
        with path.open("r", encoding=table.encoding) as f:
            for n, text in enumerate(f, start=1):
                if text.strip():
                    try:
                        yield n, json.loads(text)
                    except json.JSONDecodeError as e:
                        yield n, BadRecord(str(path), n, f"invalid JSON: {e.msg}", text[:500])
        return
    try:
        data = json.loads(path.read_text(encoding=table.encoding))
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
