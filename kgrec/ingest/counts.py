"""Counts how many records of a unit state each relationship (``count = "times"`` on a relationship map).

``MERGE`` makes one relationship however often a file states it; a user who
tags an artist with three tags, or listens to a song twice, states one
relationship several times. The count is taken over the whole unit before
anything is written (the unit is read whole before writing anyway, see
:mod:`kgrec.ingest.load`), and every row of a batch carries the unit-wide total,
which the store *sets*. So a re-run, a ``--force`` reload and a run resumed
after a checkpoint all leave the same count: nothing is ever added to a stored
value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from kgrec.graph.batch import Batch, NodeKey, RelGroup, Row

_Pair = tuple[NodeKey, str, NodeKey, Any, Any]


class RelCounts:
    """Records per counted relationship of one unit, filled into its batches before writing."""

    def __init__(self) -> None:
        self._seen: Counter[_Pair] = Counter()

    def add(self, batch: Batch) -> None:
        """Count the relationships of ``batch``'s counted groups (each row is one record stating one)."""
        for g in batch.rels:
            if g.count is not None:
                self._seen.update((g.start, g.type, g.end, r["start"], r["end"]) for r in _dict_rows(g))

    def fill(self, batch: Batch) -> Batch:
        """``batch`` with each counted group reduced to one row per relationship, carrying its count.

        Of rows stating the same relationship the last one's properties are kept
        (as consecutive ``MERGE`` + ``SET`` would leave them).
        """
        if not any(g.count is not None for g in batch.rels):
            return batch
        return Batch(batch.nodes, [self._filled(g) if g.count is not None else g for g in batch.rels])

    def _filled(self, g: RelGroup) -> RelGroup:
        assert g.count is not None
        rows: dict[tuple[Any, Any], Row] = {}
        for r in _dict_rows(g):
            n = self._seen[(g.start, g.type, g.end, r["start"], r["end"])]
            rows[(r["start"], r["end"])] = {"start": r["start"], "end": r["end"], "props": {**r["props"], g.count: n}}
        return replace(g, rows=list(rows.values()), columns=None)


def _dict_rows(g: RelGroup) -> list[Row]:
    if g.columns is None:
        return g.rows  # type: ignore[return-value]
    return [{"start": r[0], "end": r[1], "props": dict(zip(g.columns, r[2:]))} for r in g.rows]  # type: ignore[index]
