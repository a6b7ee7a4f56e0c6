"""Decides whether a unit's relationships may be written with ``CREATE`` instead of ``MERGE``.

``MERGE (a)-[:T]->(b)`` makes one relationship per (start node, type, end node),
however often a source states it. ``CREATE`` gives the same graph only when no
such triple occurs twice in the unit and none is in the graph already. This
module checks the first part, over every row of the unit: each type must join
one pair of node keys (so equal key values mean equal nodes) and no
(type, start key, end key) may repeat. Rows are compared by 64-bit hash, so a
collision can only make the check say no (and the unit is merged as usual),
never let a duplicate through.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

from kgrec.graph.batch import Batch, NodeKey, RelGroup

_START = {True: itemgetter(0), False: itemgetter("start")}
_END = {True: itemgetter(1), False: itemgetter("end")}


class PairCheck:
    """Collects the relationship triples of one unit, batch by batch."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[NodeKey, NodeKey]] = {}
        self._hashes: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        self._ok = True

    @property
    def types(self) -> set[str]:
        """Relationship types seen so far."""
        return set(self._keys)

    def add(self, batch: Batch) -> None:
        """Take in the relationships of ``batch``."""
        for group in batch.rels:
            if group.rows and self._ok:
                self._add(group)

    def unique(self) -> bool:
        """True when no (type, start, end) was seen twice and each type joins one pair of node keys."""
        if not self._ok:
            return False
        if not self._hashes:
            return True
        hashes = np.concatenate(self._hashes)
        hashes.sort()
        return not bool(np.any(hashes[1:] == hashes[:-1]))

    def _add(self, group: RelGroup) -> None:
        if self._keys.setdefault(group.type, (group.start, group.end)) != (group.start, group.end):
            self._ok = False
            return
        lists = group.columns is not None
        starts = map(_START[lists], group.rows)
        ends = map(_END[lists], group.rows)
        try:
            hashes = np.fromiter(map(hash, zip(repeat(group.type), starts, ends)), np.int64, len(group.rows))
        except TypeError:  # an unhashable key value: do not decide on it
            self._ok = False
            return
        self._hashes.append(hashes)
