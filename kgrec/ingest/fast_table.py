"""Reads a delimited file in large blocks with pandas' C parser, falling back to the exact reader where needed.

A file is cut into blocks of whole lines (bytes, several MiB each). A block that
is plainly one record per line is parsed by ``pandas.read_csv`` (C engine) into
string columns: every line has exactly the table's number of fields (counted
per line, vectorised), the bytes decode strictly in the file's encoding, and
there is no quote character, NUL, comment or lone carriage return. Any other
block is read by the record-by-record reader of :mod:`kgrec.ingest.tables`
(:func:`~kgrec.ingest.tables.read_lines`), which knows every rule and reason, and
so is a block whose values then fail to convert (:meth:`FastBlock.exact`). From
the first block holding the quote character on, the rest of the file is read by
:func:`~kgrec.ingest.tables.read_table` (quoted fields may span lines).

Either way the records, their line numbers and the rejected records are those
the exact reader gives. BOM, CRLF, header spaces and compressed files are read
as :mod:`kgrec.ingest.tables` reads them.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from kgrec.errors import BadRecord, InputDataError
from kgrec.ingest.compressed import DECOMPRESS_ERRORS, is_compressed, open_binary
from kgrec.ingest.spec import Table
from kgrec.ingest.tables import LINE, Chunk, check_columns, csv_options, header_columns, read_lines, read_table

BLOCK_BYTES = 8 << 20
"""Bytes per block (cut after a line break)."""

_CODECS = {"utf-8", "utf-8-sig", "iso8859-1", "ascii", "cp1252"}
"""Encodings where a delimiter, quote or line-break byte is always that character."""
_BOM = codecs.BOM_UTF8
_DIGITS = b"0123456789\r\n"


@dataclass(slots=True)
class FastBlock:
    """A block parsed whole: string columns (plus ``LINE``), one record per line."""

    frame: pd.DataFrame
    raw: bytes
    line: int
    """Line number of the block's first line."""
    records: int
    _reader: _Reader

    def exact(self) -> Iterator[Chunk]:
        """The block read again record by record (for the exact reasons of what is wrong in it)."""
        return self._reader.exact(self.raw, self.line)


def fast_readable(table: Table) -> bool:
    """Whether ``table`` can be read in blocks (delimited, an encoding where ASCII bytes are ASCII, 2+ columns)."""
    if table.format != "csv" or _codec(table.encoding) not in _CODECS:
        return False
    if len(table.delimiter) != 1 or not table.delimiter.isascii() or table.delimiter in "\r\n\x00":
        return False
    if table.quotechar and not table.quotechar.isascii():
        return False
    if table.comment and not table.comment.isascii():
        return False
    return table.header or len(table.columns or []) >= 2


def read_blocks(
    path: Path, table: Table, *, chunk_size: int, int_columns: set[str] | None = None, block_bytes: int = BLOCK_BYTES
) -> Iterator[FastBlock | Chunk]:
    """Yield ``path`` as parsed blocks and, where a block is not plain, as the exact reader's chunks.

    Args:
        path: The file.
        table: Its spec entry.
        chunk_size: Records per chunk of the exact reader.
        int_columns: Columns read as ``int64`` in blocks where every field is ASCII digits
            (the caller converts them to ``int`` anyway); other columns are text.
        block_bytes: About how many bytes a block holds.

    Raises:
        InputDataError: A missing column, a bad header, or a file that cannot be decompressed.
        DataNotFoundError: No such file.
    """
    if not path.is_file():
        yield from read_table(path, table, chunk_size=chunk_size)  # raises its error
        return
    try:
        with open_binary(path) as f:
            yield from _Reader(path, table, chunk_size, int_columns or set()).blocks(f, block_bytes)
    except DECOMPRESS_ERRORS as e:
        if not is_compressed(path):
            raise
        raise InputDataError([BadRecord(str(path), None, f"cannot decompress: {e}")]) from e


class _Reader:
    def __init__(self, path: Path, table: Table, chunk_size: int, int_columns: set[str]) -> None:
        self.path, self.table, self.chunk_size, self.int_columns = path, table, chunk_size, int_columns
        self.codec = _codec(table.encoding)
        self.columns: list[str] = []
        self.quote = table.quotechar.encode("ascii") if table.quotechar else None
        self.comment = table.comment.encode("ascii") if table.comment else None

    def blocks(self, f: BinaryIO, block_bytes: int) -> Iterator[FastBlock | Chunk]:
        first = f.readline()
        if self.codec.startswith("utf-8") and first.startswith(_BOM):
            first = first[len(_BOM) :]
        line = 1
        if not first:  # an empty file
            yield from read_table(self.path, self.table, chunk_size=self.chunk_size)
            return
        if self.table.header:
            quoted = self.quote is not None and self.quote in first
            if quoted or first.count(b"\r") != first.count(b"\r\n"):  # the exact reader throughout
                yield from read_table(self.path, self.table, chunk_size=self.chunk_size)
                return
            text = first.decode(self.codec.replace("-sig", ""), "surrogateescape")
            self.columns = header_columns(
                self.path, csv.reader([text], **csv_options(self.table)),  # type: ignore[call-overload]
                header=True, columns=self.table.columns,
            )  # fmt: skip
            first, line = b"", 2
        else:
            self.columns = list(self.table.columns or [])
        check_columns(self.path, self.columns, self.table.used_columns())
        records = 0
        while True:
            raw = first + f.read(block_bytes)
            first = b""
            if raw and not raw.endswith(b"\n"):
                raw += f.readline()
            if not raw:
                return
            if self.quote and self.quote in raw:  # quoted fields may span lines: exact reader from here on
                yield from read_table(self.path, self.table, chunk_size=self.chunk_size, skip=records)
                return
            frame = self._parse(raw, line)
            if frame is not None:
                yield FastBlock(frame, raw, line, len(frame), self)
                records += len(frame)
                line += len(frame)
                continue
            for chunk in self.exact(raw, line):
                records += chunk.records
                yield chunk
            line += len(_lines(raw, self.codec))

    def exact(self, raw: bytes, line: int) -> Iterator[Chunk]:
        lines = _lines(raw, self.codec)
        return read_lines(iter(lines), self.path, self.table, self.columns, line, self.chunk_size, 0, None)

    def _parse(self, raw: bytes, line: int) -> pd.DataFrame | None:
        """``raw`` as string columns, or ``None`` when any line is not one plain record."""
        if b"\x00" in raw or raw.count(b"\r") != raw.count(b"\r\n"):
            return None
        if self.comment and (raw.startswith(self.comment) or b"\n" + self.comment in raw):
            return None
        if not raw.isascii():
            try:
                raw.decode(self.codec.replace("-sig", ""))
            except UnicodeDecodeError:
                return None
        n = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        delimiter = self.table.delimiter.encode("ascii")
        if not _fields_per_line(raw, delimiter, len(self.columns)):
            return None
        frame = None
        if self.int_columns and not raw.translate(None, _DIGITS + delimiter):  # every field digits (or empty)
            frame = self._read_csv(raw, dict.fromkeys(self.int_columns, np.int64))
        if frame is None:
            frame = self._read_csv(raw, {})
        if frame is None or len(frame) != n:
            return None
        frame[LINE] = range(line, line + n)
        return frame

    def _read_csv(self, raw: bytes, types: dict[str, type]) -> pd.DataFrame | None:
        """Every column as text, but those in ``types`` (of digits alone: their values are ``int()``'s)."""
        try:
            return pd.read_csv(
                io.BytesIO(raw), sep=self.table.delimiter, header=None, names=self.columns, index_col=False,
                usecols=self.table.used_columns(), dtype={c: types.get(c, object) for c in self.columns},
                na_filter=False, skip_blank_lines=False, quoting=csv.QUOTE_NONE, engine="c",
                encoding=self.codec.replace("-sig", ""),
            )  # fmt: skip
        except (ValueError, OverflowError, UnicodeDecodeError, pd.errors.ParserError):
            return None


def _fields_per_line(raw: bytes, delimiter: bytes, width: int) -> bool:
    """Whether every line of ``raw`` has exactly ``width - 1`` delimiters (so no line is blank or short)."""
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    if raw.count(delimiter) != lines * (width - 1):
        return False
    data = np.frombuffer(raw, dtype=np.uint8)
    if raw.endswith(b"\n"):
        data = data[:-1]
    starts = np.concatenate(([0], np.flatnonzero(data == ord("\n")) + 1))
    if starts[-1] >= data.size:  # an empty last line
        return False
    per_line = np.add.reduceat((data == delimiter[0]).astype(np.int32), starts)
    return bool(np.all(per_line == width - 1))


def _lines(raw: bytes, codec: str) -> list[str]:
    """The lines of ``raw`` as the file reader splits them (``\\n``, ``\\r\\n`` or ``\\r``, ends kept)."""
    return list(io.StringIO(raw.decode(codec.replace("-sig", ""), "surrogateescape"), newline=""))


def _codec(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return ""
