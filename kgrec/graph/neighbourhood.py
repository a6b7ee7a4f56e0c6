"""An in-memory copy of the relationships explanation paths walk, read from Neo4j page by page into arrays.

Explanation paths (user -> rated film -> director -> recommended film, through
a similar user, or through a friend) are short walks over three kinds of
relationships, all named by the graph's declared schema: knowledge-graph hops
between items and entities, interactions (users -> items) and social
relationships between users. Finding them with Cypher on every
request costs several round trips and thousands of rows per answer; the
:class:`Neighbourhood` instead streams those relationships once, in pages
(:mod:`kgrec.graph.neighbourhood_load`), and answers "who is next to this node"
from memory, so a recommendation with explanations needs one or two round trips
to Neo4j, for what must be current: the user's own ratings and the item filters.

Everything that grows with the graph is a numpy array: the nodes' labels, the
knowledge hops as CSR (``edge_ptr``, ``edge_next``, ``edge_type``,
``edge_forward``), the interactions by user and by item as CSR with their
weights. :class:`Hop` and :class:`NodeRef` objects, and the ``{key: weight}``
mappings of :attr:`Neighbourhood.ratings` and :attr:`Neighbourhood.raters`, are
made when asked for, never stored.

Every hop in the neighbourhood is a stored relationship, so every path built from
it exists in the graph as loaded. The copy is refreshed when it is older than
``max_age`` seconds (or on :meth:`NeighbourhoodCache.refresh`); a user's own
ratings are always read live.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kgrec.graph.answers import AnswerGraph
from kgrec.schema import GraphSchema


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A node as paths show it: primary label, key and what a person reads."""

    label: str
    key: Any
    name: str | None


@dataclass(frozen=True, slots=True)
class Hop:
    """One stored relationship seen from one of its ends: the other end, the type, and its direction."""

    node: int
    rel_type: str
    forward: bool
    """True when the relationship is stored from this end to ``node``."""


class KeyIndex:
    """(label, key) -> node number, by binary search over each label's sorted keys."""

    def __init__(self, labels: list[str], node_label: np.ndarray, keys: np.ndarray) -> None:
        self._by_label: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._mixed: dict[str, dict[Any, int]] = {}  # labels whose keys have several types
        self._table: dict[str, tuple[int, np.ndarray]] = {}  # labels with dense integer keys
        for code, label in enumerate(labels):
            ids = np.flatnonzero(node_label == code)
            values = typed_keys(keys[ids])
            if values.dtype == object:
                self._mixed[label] = dict(zip(values.tolist(), ids.tolist()))
                continue
            order = np.argsort(values, kind="stable")
            self._by_label[label] = values[order], ids[order]
            if values.dtype == np.int64 and len(values):
                self._dense(label, values, ids)

    def _dense(self, label: str, values: np.ndarray, ids: np.ndarray) -> None:
        """Integer keys in a narrow range (ids 1..N): a direct table, one index per lookup."""
        low, high = int(values.min()), int(values.max())
        if high - low < 4 * len(values) + 1024:
            table = np.full(high - low + 1, -1, dtype=np.int64)
            table[values - low] = ids
            self._table[label] = (low, table)

    def get(self, label: str, key: Any) -> int | None:
        """The node number, or ``None``."""
        if label in self._mixed:
            return self._mixed[label].get(key)
        dense = self._table.get(label)
        if dense is not None and type(key) is int:
            at = key - dense[0]
            found_id = int(dense[1][at]) if 0 <= at < len(dense[1]) else -1
            return found_id if found_id >= 0 else None
        found = self._by_label.get(label)
        if found is None or key is None:
            return None
        keys, ids = found
        try:
            at = int(np.searchsorted(keys, key))
            hit = at < len(keys) and keys[at] == key
        except (TypeError, ValueError):  # a key of another type than the label's
            return None
        return int(ids[at]) if hit and type(key) is not bool else None


@dataclass
class Interactions:
    """Weighted (row node -> column node) lists as CSR, columns ascending within a row."""

    ptr: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    """Float weights; NaN where an interaction has none (binary)."""
    integral: bool = False
    """Weights were whole numbers: they are handed out as ``int``."""

    def row(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """The columns and weights of ``node``'s row."""
        lo, hi = self.ptr[node], self.ptr[node + 1]
        return self.cols[lo:hi], self.weights[lo:hi]

    def weight(self, w: float) -> float | int | None:
        """One stored weight as the graph held it."""
        if np.isnan(w):
            return None
        return int(w) if self.integral else float(w)


class _Row(Mapping[Any, "float | int | None"]):
    """One node's interactions as ``{other node's key: weight}``, read from the arrays.

    Looking a key up builds the row's dict once (answers ask many keys of the same few
    rows); :class:`_Side` keeps recently used rows, up to :data:`ROW_CACHE` entries in all.
    """

    def __init__(self, hood: Neighbourhood, table: Interactions, node: int) -> None:
        self._hood, self._table = hood, table
        self._cols, self._weights = table.row(node)
        self._dict: dict[Any, float | int | None] | None = None

    def _lookup(self) -> dict[Any, float | int | None]:
        if self._dict is None:
            keys = self._hood.node_key[self._cols].tolist()
            weight = self._table.weight
            self._dict = {k: weight(w) for k, w in zip(keys, self._weights.tolist())}
        return self._dict

    def __getitem__(self, key: Any) -> float | int | None:
        return self._lookup()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._lookup()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._hood.node_key[self._cols].tolist())

    def __len__(self) -> int:
        return len(self._cols)


class _Side(Mapping[Any, _Row]):
    """``{key: _Row}`` over the nodes of one label with at least one interaction."""

    def __init__(self, hood: Neighbourhood, table: Interactions, label: str) -> None:
        self._hood, self._table, self._label = hood, table, label

    def _node(self, key: Any) -> int | None:
        node = self._hood.id_of(self._label, key)
        if node is None or self._table.ptr[node] == self._table.ptr[node + 1]:
            return None
        return node

    def __getitem__(self, key: Any) -> _Row:
        node = self._node(key)
        if node is None:
            raise KeyError(key)
        return self._hood.row_cache.get(self._hood, self._table, node)

    def __contains__(self, key: object) -> bool:
        return self._node(key) is not None

    def __iter__(self) -> Iterator[Any]:
        nodes = np.flatnonzero(np.diff(self._table.ptr) > 0)
        return iter([self._hood.node_key[n] for n in nodes.tolist()])

    def __len__(self) -> int:
        return int(np.count_nonzero(np.diff(self._table.ptr)))


class _Nodes(Sequence[NodeRef]):
    def __init__(self, hood: Neighbourhood) -> None:
        self._hood = hood

    def __len__(self) -> int:
        return len(self._hood.node_label)

    def __getitem__(self, n: int) -> NodeRef:  # type: ignore[override]
        h = self._hood
        return NodeRef(h.labels[int(h.node_label[n])], h.node_key[n], h.node_name[n])


class _Edges(Sequence[Hop]):
    def __init__(self, hood: Neighbourhood) -> None:
        self._hood = hood

    def __len__(self) -> int:
        return len(self._hood.edge_next)

    def __getitem__(self, e: int) -> Hop:  # type: ignore[override]
        h = self._hood
        return Hop(int(h.edge_next[e]), h.rel_types[int(h.edge_type[e])], bool(h.edge_forward[e]))


class _HopLists(Sequence[list[Hop]]):
    def __init__(self, hood: Neighbourhood) -> None:
        self._hood = hood

    def __len__(self) -> int:
        return len(self._hood.node_label)

    def __getitem__(self, n: int) -> list[Hop]:  # type: ignore[override]
        return self._hood.hop_cache.get(self._hood, int(n))


ROW_CACHE = 1_000_000
"""Interactions kept as dicts by the rows recently asked for (about 100 bytes each), at most."""


class HopCache:
    """Hop lists asked for lately (a hub's thousands of hops are made once, not per answer); emptied
    when they hold more than :data:`ROW_CACHE` hops."""

    def __init__(self) -> None:
        self._lists: dict[int, list[Hop]] = {}
        self._size = 0

    def get(self, hood: Neighbourhood, n: int) -> list[Hop]:
        """Node ``n``'s hops (a copy of the kept list: callers may change theirs)."""
        found = self._lists.get(n)
        if found is None:
            lo, hi = int(hood.edge_ptr[n]), int(hood.edge_ptr[n + 1])
            parts = (hood.edge_next[lo:hi].tolist(), hood.edge_type[lo:hi].tolist(), hood.edge_forward[lo:hi].tolist())
            names = hood.rel_types
            found = [Hop(node, names[t], forward) for node, t, forward in zip(*parts)]
            if self._size + len(found) > ROW_CACHE:
                self._lists, self._size = {}, 0
            self._lists[n], self._size = found, self._size + len(found)
        return list(found)


class RowCache:
    """Rows of interactions asked for lately (emptied when they hold more than :data:`ROW_CACHE`)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, int], _Row] = {}
        self._size = 0

    def get(self, hood: Neighbourhood, table: Interactions, node: int) -> _Row:
        """The row of ``node`` in ``table`` (kept for the next call)."""
        row = self._rows.get((id(table), node))
        if row is None:
            row = _Row(hood, table, node)
            if self._size + len(row) > ROW_CACHE:
                self._rows, self._size = {}, 0
            self._rows[id(table), node] = row
            self._size += len(row)
        return row


def _empty(dtype: type) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


def _no_interactions() -> Interactions:
    return Interactions(np.zeros(1, dtype=np.int64), _empty(np.int64), _empty(np.float64))


@dataclass
class Neighbourhood:
    """Knowledge-graph hops and interactions, indexed for path search.

    Nodes are numbered ``0..N-1`` (:attr:`nodes`); :meth:`id_of` finds a node's
    number from its (label, key).
    """

    schema: GraphSchema = field(default_factory=GraphSchema)
    """The declared schema the neighbourhood was read with (labels, the interaction type)."""
    labels: list[str] = field(default_factory=list)
    """Label code -> label."""
    node_label: np.ndarray = field(default_factory=lambda: _empty(np.int16))
    """Node -> its primary label's code in :attr:`labels`."""
    node_key: np.ndarray = field(default_factory=lambda: _empty(object))
    """Node -> its key."""
    node_name: np.ndarray = field(default_factory=lambda: _empty(object))
    """Node -> what a person reads (``None``: nothing readable)."""
    rel_types: list[str] = field(default_factory=list)
    """Type code -> knowledge relationship type."""
    edge_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64), repr=False)
    """CSR over the knowledge hops: node ``n``'s hops are edges ``edge_ptr[n]..edge_ptr[n+1]-1``."""
    edge_next: np.ndarray = field(default_factory=lambda: _empty(np.int64), repr=False)
    """Edge -> the node it leads to."""
    edge_type: np.ndarray = field(default_factory=lambda: _empty(np.int16), repr=False)
    """Edge -> its type's code in :attr:`rel_types`."""
    edge_forward: np.ndarray = field(default_factory=lambda: _empty(bool), repr=False)
    """Edge -> whether the relationship is stored from the edge's node to :attr:`edge_next`."""
    by_user: Interactions = field(default_factory=_no_interactions, repr=False)
    """User node -> item nodes and weights."""
    by_item: Interactions = field(default_factory=_no_interactions, repr=False)
    """Item node -> user nodes and weights."""
    friends: dict[Any, list[tuple[Any, str, bool]]] = field(default_factory=dict)
    """User key -> (other user, social type, stored from this user) of each social relationship."""
    duplicates: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    """Item key -> the other items with the same title and year (a catalogue listing one film twice)."""
    loaded_at: float = 0.0
    named: np.ndarray = field(default_factory=lambda: _empty(bool), repr=False)
    """Node -> whether a person can read it (a name or title; users read as ``user 42``)."""
    degree: np.ndarray = field(default_factory=lambda: _empty(np.int64), repr=False)
    """Node -> its item degree: the items one knowledge hop away (a user: the items they interacted
    with). How specific a reason through the node is: a director of 4 films says more than Drama."""
    item_count: int = 0
    """How many items the neighbourhood holds."""
    keys: KeyIndex | None = field(default=None, repr=False)
    row_cache: RowCache = field(default_factory=RowCache, repr=False)
    hop_cache: HopCache = field(default_factory=HopCache, repr=False)

    @property
    def interaction(self) -> str:
        """The interaction type (hops of collaborative and social paths)."""
        return self.schema.interaction_type or ""

    @property
    def nodes(self) -> Sequence[NodeRef]:
        """Node -> :class:`NodeRef` (made when read)."""
        return _Nodes(self)

    @property
    def edge_hop(self) -> Sequence[Hop]:
        """Edge -> its :class:`Hop` (made when read)."""
        return _Edges(self)

    @property
    def hops(self) -> Sequence[list[Hop]]:
        """Node -> its knowledge-graph hops (interactions are apart, in :attr:`ratings` and :attr:`raters`)."""
        return _HopLists(self)

    @property
    def ratings(self) -> Mapping[Any, Mapping[Any, float | int | None]]:
        """User key -> {item key: interaction weight (``None``: binary)}."""
        return _Side(self, self.by_user, self.schema.users)

    @property
    def raters(self) -> Mapping[Any, Mapping[Any, float | int | None]]:
        """Item key -> {user key: interaction weight}."""
        return _Side(self, self.by_item, self.schema.items)

    def edges(self, node: int) -> np.ndarray:
        """The edge numbers of ``node``'s hops."""
        return np.arange(self.edge_ptr[node], self.edge_ptr[node + 1])

    def id_of(self, label: str, key: Any) -> int | None:
        """The number of the node (``label``, ``key``), or ``None`` when it is not in the neighbourhood."""
        return None if self.keys is None else self.keys.get(label, key)

    def co_raters(self, a: Any, b: Any, levels: tuple[float | None, float | None]) -> np.ndarray:
        """The node numbers (ascending) of the users who interacted with both items ``a`` and ``b``, with a
        weight of at least ``levels[0]`` on ``a`` and ``levels[1]`` on ``b`` (``None``: any)."""
        s = self.schema
        na, nb = self.id_of(s.items, a), self.id_of(s.items, b)
        if na is None or nb is None:
            return np.zeros(0, dtype=np.int64)
        (ua, wa), (ub, wb) = self.by_item.row(na), self.by_item.row(nb)
        users, ia, ib = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
        return users[_at_least(wa[ia], levels[0]) & _at_least(wb[ib], levels[1])]

    def item_title(self, key: Any) -> str:
        """An item's title (``film 267``, the items' noun and key, when it has none or is unknown)."""
        n = self.id_of(self.schema.items, key)
        name = self.node_name[n] if n is not None else None
        return name or f"{self.schema.noun(self.schema.items)} {key}"

    @classmethod
    def load(cls, graph: AnswerGraph, types: Iterable[str]) -> Neighbourhood:
        """Stream the nodes, the relationships of ``types`` (interactions and social ones apart), the
        interactions and the social relationships from ``graph``, as its declared schema names them."""
        from kgrec.graph.neighbourhood_load import load_neighbourhood

        return load_neighbourhood(cls, graph, types)


def _at_least(weights: np.ndarray, level: float | None) -> np.ndarray:
    if level is None:
        return np.ones(len(weights), dtype=bool)
    return ~np.isnan(weights) & (weights >= level)


def typed_keys(values: np.ndarray) -> np.ndarray:
    """An object array of keys as a typed array (int64 or str) when every key has that type."""
    items = values.tolist()
    if all(type(v) is int for v in items):
        return np.asarray(items, dtype=np.int64)
    if all(isinstance(v, str) for v in items):
        return np.asarray(items, dtype=str)
    return values


class NeighbourhoodCache:
    """The current :class:`Neighbourhood`, loaded on first use and reloaded when older than ``max_age``.

    Thread-safe: concurrent requests wait for one load instead of each starting one.

    Args:
        load: Builds a fresh neighbourhood (reads Neo4j).
        max_age: Seconds before the copy is read again (default: ``600``).
    """

    def __init__(self, load: Callable[[], Neighbourhood], *, max_age: float = 600.0) -> None:
        self._load, self.max_age = load, max_age
        self._hood: Neighbourhood | None = None
        self._lock = threading.Lock()

    def get(self) -> Neighbourhood:
        """The neighbourhood, (re)loaded first when missing or stale."""
        hood = self._hood
        if hood is not None and time.monotonic() - hood.loaded_at < self.max_age:
            return hood
        with self._lock:
            hood = self._hood
            if hood is None or time.monotonic() - hood.loaded_at >= self.max_age:
                hood = self._hood = self._load()
            return hood

    @property
    def loaded(self) -> bool:
        """Whether a neighbourhood is in memory (fresh or not)."""
        return self._hood is not None

    def refresh(self) -> Neighbourhood:
        """Read the graph again now (after loading new knowledge or ratings)."""
        with self._lock:
            self._hood = self._load()
            return self._hood


_DOTTED_ID = re.compile(r"[a-z]{1,2}\.(?=[^.]*\d)[0-9a-z_ ]+")
"""A machine id such as a Freebase mid (``m.018yhr``; ``m.02 p5w`` once underscores became spaces)."""


def _id_like(name: Any) -> bool:
    """Whether ``name`` is nothing a person reads: an IRI or URN (``urn:satori:3864``) or a dotted
    machine id (``m.018yhr``), as an ingest without labels names entities from their IRIs."""
    text = "" if name is None else str(name).strip()
    return text.startswith("urn:") or "://" in text or bool(_DOTTED_ID.fullmatch(text))
