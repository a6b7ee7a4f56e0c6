"""Relationships of a bulk load, kept as columns and written to the import files a chunk at a time.

Every relationship group of every batch is kept as columns (start keys, end
keys, one column per property) in one spill file, in the order the units stated
them, with a 64-bit hash of each row's identity (start and end compared as the
import compares ids: as text, so ``1`` and ``"1"`` are one id). The hashes stay
in memory (8 bytes a relationship). Once every unit is read, the identities
stated more than once are known (hashes seen twice), and:

* every other row is one relationship as stated: its properties, its
  ``kgrec_sources`` the one spec, a ``count`` property 1. Whole chunks of such
  rows go to the CSV files at once (:meth:`AdminCsvWriter.relationship_columns`);
* the rows of a repeated identity (or of a hash collision) are filed by identity
  into partitions and combined the way ``MERGE`` + ``SET`` combine them
  (:func:`combined`), one partition in memory at a time.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kgrec.ingest.bulk_csv import AdminCsvWriter
from kgrec.ingest.bulk_types import Kinds, Same, kinds_of
from kgrec.ingest.partitioned import Partitioned

PARTITIONS = 64
BUFFERED_ROWS = 500_000
"""Relationship rows held in memory before they are appended to the spill file."""

SOURCES = "kgrec_sources"
"""Provenance, as the transactional path records it (see ``cypher/ingest/merge_nodes.cypher``)."""

_INT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
"""Decimal text that is one int64 id (what an integer key is written as)."""
_GOLDEN, _M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@dataclass(slots=True)
class RelChunk:
    """Rows of one relationship file stated by one unit, as columns."""

    file: int
    source: str
    unit: int
    count: str | None
    names: tuple[str, ...]
    starts: Sequence[Any]
    ends: Sequence[Any]
    props: list[Sequence[Any]]
    """One column per name (``None``: not stated)."""
    hashes: np.ndarray


class RelSpill:
    """The relationship chunks of a bulk load, in statement order, and the identity hashes of their rows.

    Args:
        folder: A private temporary folder for the spill and partition files.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._path = folder / "rels.pkl"
        self._held: list[RelChunk] = []
        self._held_rows = 0
        self._hashes: dict[int, list[np.ndarray]] = {}
        self.rows = 0

    def add(self, chunk: RelChunk) -> None:
        """Keep ``chunk`` (appended to the spill file once enough rows are held)."""
        self._hashes.setdefault(chunk.file, []).append(chunk.hashes)
        self._held.append(chunk)
        self._held_rows += len(chunk.starts)
        self.rows += len(chunk.starts)
        if self._held_rows >= BUFFERED_ROWS:
            self._flush()

    def write(self, writer: AdminCsvWriter, kinds: Kinds) -> None:
        """Write every relationship once: single rows by the chunk, repeated identities combined.

        Raises:
            ValueError: A value the import cannot hold (see :mod:`kgrec.ingest.bulk_csv`).
        """
        repeated = {f: _repeated(np.concatenate(hs)) for f, hs in self._hashes.items()}
        parts = Partitioned(PARTITIONS, lambda: self._folder, name="rels", buffered=BUFFERED_ROWS)
        for c in self._chunks():
            twice = repeated[c.file]
            single = np.arange(len(c.starts)) if not twice.size else np.flatnonzero(~np.isin(c.hashes, twice))
            if twice.size:
                for i in np.flatnonzero(np.isin(c.hashes, twice)).tolist():
                    start, end, values = c.starts[i], c.ends[i], tuple(p[i] for p in c.props)
                    row = (c.file, start, end, c.names, values, c.count, c.unit, c.source)
                    parts.add(hash((c.file, str(start), str(end))) % PARTITIONS, row)
            if len(single) == len(c.starts):
                _write_single(writer, kinds, c, c.starts, c.ends, c.props)
            elif len(single):
                pick = single.tolist()
                _write_single(writer, kinds, c, [c.starts[i] for i in pick], [c.ends[i] for i in pick],
                              [[p[i] for i in pick] for p in c.props])  # fmt: skip
        for rows in parts.each():
            for file, start, end, props in combined(rows):
                writer.relationship(file, start, end, props)

    def _flush(self) -> None:
        with self._path.open("ab") as f:  # our own file, in a folder only we can read
            pickle.dump(self._held, f, protocol=pickle.HIGHEST_PROTOCOL)
        self._held, self._held_rows = [], 0

    def _chunks(self) -> Iterator[RelChunk]:
        if self._path.exists():
            with self._path.open("rb") as f:
                while True:
                    try:
                        chunks: list[RelChunk] = pickle.load(f)
                    except EOFError:
                        break
                    yield from chunks
            self._path.unlink()
        yield from self._held
        self._held = []


def _write_single(
    writer: AdminCsvWriter, kinds: Kinds, c: RelChunk, starts: Sequence[Any], ends: Sequence[Any],
    props: list[Sequence[Any]],
) -> None:  # fmt: skip
    """Rows each stating a relationship no other row states: as they are, plus their provenance."""
    columns: dict[str, Sequence[Any] | Same] = dict(zip(c.names, props))
    columns[SOURCES] = Same([c.source])
    if c.count is not None:
        columns[c.count] = Same(1)
    if not kinds.mixed(("r", c.file)):
        writer.relationship_columns(c.file, starts, ends, columns)
        return
    for i, (start, end) in enumerate(zip(starts, ends)):  # a property of several types: files by type
        row = {k: v.value if isinstance(v, Same) else v[i] for k, v in columns.items()}
        writer.relationship(c.file, start, end, {k: v for k, v in row.items() if v is not None and v != ""})


def combined(rows: list[Any]) -> Iterator[tuple[int, Any, Any, dict[str, Any]]]:
    """Rows of one partition combined into one relationship per identity (file, start, end), in row order.

    Properties: per name the last value stated (an empty one never removes it); ``kgrec_sources``:
    the specs that state it, in order; a ``count`` property: how many rows of the last unit that
    counted it stated it.
    """
    merged: dict[tuple[int, str, str], tuple[Any, Any, dict[str, Any]]] = {}
    counted: dict[tuple[int, str, str], dict[str, tuple[int, int]]] = {}
    for file, start, end, names, values, count, unit, src in rows:
        ident = (file, str(start), str(end))
        cur = merged.get(ident)
        if cur is None:
            cur = merged[ident] = (start, end, {SOURCES: [src]})
        elif src not in cur[2][SOURCES]:
            cur[2][SOURCES].append(src)
        cur[2].update((k, v) for k, v in zip(names, values) if v is not None and v != "")
        if count is not None:
            seen = counted.setdefault(ident, {})
            last_unit, n = seen.get(count, (unit, 0))
            seen[count] = (unit, n + 1 if last_unit == unit else 1)
    for ident, by_prop in counted.items():
        merged[ident][2].update({prop: n for prop, (_, n) in by_prop.items()})
    for (file, _, _), (start, end, props) in merged.items():
        yield file, start, end, props


def identity_hashes(starts: Sequence[Any], ends: Sequence[Any]) -> np.ndarray:
    """A 64-bit hash per row of (start, end), ids compared as the import compares them."""
    with np.errstate(over="ignore"):
        return _mix(key_hashes(starts) ^ _mix(key_hashes(ends) + _GOLDEN))


def key_hashes(keys: Sequence[Any]) -> np.ndarray:
    """A 64-bit hash per key, as text: an integer and the text of its digits hash alike."""
    if kinds_of(keys) == {"long"}:
        try:
            return _mix(np.asarray(keys, dtype=np.int64).view(np.uint64))
        except (OverflowError, TypeError, ValueError):  # beyond int64, or a None among them
            pass
    texts = [k if type(k) is str else str(k) for k in keys]
    out = pd.util.hash_array(np.asarray(texts, dtype=object))
    digits = [i for i, t in enumerate(texts) if _INT_TEXT.fullmatch(t)]
    if digits:
        out[digits] = _mix(np.asarray([int(texts[i]) for i in digits], dtype=np.int64).view(np.uint64))
    return out


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every bit of the input spread over the output."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """The hashes that occur more than once, sorted."""
    if hashes.size < 2:
        return hashes[:0]
    s = np.sort(hashes)
    return np.unique(s[1:][s[1:] == s[:-1]])
