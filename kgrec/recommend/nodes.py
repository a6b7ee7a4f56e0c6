"""What the answers ask of a neighbourhood's nodes again and again, kept per neighbourhood: each node's row
in the model and its kind as a middle node, the hops of its edges, the people of a crowd.

A :class:`NodeTable` is made when a neighbourhood is first searched and dropped with it (the
neighbourhood is read again every ``max_age`` seconds); what it keeps per answer is bounded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kgrec.graph.neighbourhood import Hop, Neighbourhood
from kgrec.recommend.model import ModelScores

__all__ = [
    "BROAD", "BROAD_UNNAMED", "FRIEND", "PERSON", "SPECIFIC", "SPECIFIC_UNNAMED", "UNNAMED", "NodeTable",
]  # fmt: skip

SPECIFIC, FRIEND, PERSON, SPECIFIC_UNNAMED, BROAD, BROAD_UNNAMED = range(6)
"""Kinds of reason, by their (last) middle node, in the order answers rank them: a specific named node (a
director), a friend, another user, a specific node without a name, a broad node (next to more than
``broad`` items), a broad node without a name."""
UNNAMED = frozenset({SPECIFIC_UNNAMED, BROAD_UNNAMED})
"""Kinds of reason through a node without a name."""

HOPS = 1_000_000
"""Hops a :class:`NodeTable` keeps, at most."""
CROWDS = 1_000_000
"""People a :class:`NodeTable` keeps as the crowds of (film, item, levels), at most."""


class NodeTable:
    """Per neighbourhood node: its row in the model's stacked order (``-1``: the model lacks it) and the
    kind of reason it makes as a middle node (``tier``: :data:`SPECIFIC`, :data:`PERSON`,
    :data:`SPECIFIC_UNNAMED`, :data:`BROAD` or :data:`BROAD_UNNAMED`)."""

    def __init__(self, hood: Neighbourhood, scores: ModelScores | None, broad: int) -> None:
        self.hood = hood
        self.stacked = np.full(len(hood.node_label), -1, dtype=np.int64)
        offsets = scores.messages.offsets if scores is not None and scores.messages is not None else {}
        for code, label in enumerate(hood.labels):
            rows = scores.rows.get(label) if scores is not None and label in offsets else None
            if rows:
                ids = np.flatnonzero(hood.node_label == code)
                at = rows.rows_of(hood.node_key[ids].tolist())
                self.stacked[ids] = np.where(at >= 0, at + offsets[label], -1)
        users = hood.node_label == (hood.labels.index(hood.schema.users) if hood.schema.users in hood.labels else -1)
        specific = hood.degree <= broad
        named = np.where(specific, SPECIFIC, BROAD)
        tier = np.where(hood.named, named, np.where(specific, SPECIFIC_UNNAMED, BROAD_UNNAMED))
        self.tier = np.where(users, PERSON, tier)
        self._hops: dict[int, Hop] = {}
        self._co_raters: dict[tuple[Any, Any, tuple[float | None, float | None]], np.ndarray] = {}
        self._people = 0

    def co_raters(self, a: Any, b: Any, levels: tuple[float | None, float | None]) -> np.ndarray:
        """:meth:`Neighbourhood.co_raters` (kept: a user's crowds share their films, and popular pairs recur)."""
        found = self._co_raters.get((a, b, levels))
        if found is None:
            found = self.hood.co_raters(a, b, levels)
            if self._people + len(found) > CROWDS:
                self._co_raters, self._people = {}, 0
            self._co_raters[a, b, levels], self._people = found, self._people + len(found) + 1
        return found

    def hop(self, e: int, origin: int | None = None) -> Hop:
        """Edge ``e`` as a hop from its node; with ``origin`` (the edge's own node), seen from its other end,
        back to ``origin`` (kept: answers walk the same edges again and again)."""
        key = e if origin is None else ~e
        found = self._hops.get(key)
        if found is None:
            if len(self._hops) >= HOPS:
                self._hops.clear()
            found = self._hops[key] = _hop(self.hood, e, origin)
        return found


def _hop(hood: Neighbourhood, e: int, origin: int | None = None) -> Hop:
    """Edge ``e`` as a hop from its node; with ``origin``, seen from its other end, back to ``origin``."""
    rel, forward = hood.rel_types[int(hood.edge_type[e])], bool(hood.edge_forward[e])
    return Hop(int(hood.edge_next[e]), rel, forward) if origin is None else Hop(origin, rel, not forward)
