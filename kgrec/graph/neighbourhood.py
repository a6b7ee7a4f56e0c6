"""An in-memory copy of the relationships explanation paths walk, read from Neo4j in one pass.

Explanation paths (user -> rated film -> director -> recommended film, through
a similar user, or through a friend) are short walks over three kinds of
relationships, all named by the graph's declared schema: knowledge-graph hops
between items and entities, interactions (users -> items) and social
relationships between users. Finding them with Cypher on every
request costs several round trips and thousands of rows per answer; the
:class:`Neighbourhood` instead streams those relationships once (three
statements under ``cypher/explain/neighbourhood_*``) and answers "who is next to
this node" from memory, so a recommendation with explanations needs one or two
round trips to Neo4j, for what must be current: the user's own ratings and the
item filters.

Every hop in the neighbourhood is a stored relationship, so every path built from
it exists in the graph as loaded. The copy is refreshed when it is older than
``max_age`` seconds (or on :meth:`NeighbourhoodCache.refresh`); a user's own
ratings are always read live.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kgrec.graph.answers import AnswerGraph, node_key
from kgrec.graph.names import check_property
from kgrec.schema import GraphSchema

log = logging.getLogger(__name__)


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


@dataclass
class Neighbourhood:
    """Knowledge-graph hops and ratings, indexed for path search.

    Nodes are numbered ``0..N-1`` (:attr:`nodes`); :meth:`id_of` finds a node's
    number from its (label, key).
    """

    schema: GraphSchema = field(default_factory=GraphSchema)
    """The declared schema the neighbourhood was read with (labels, the interaction type)."""
    nodes: list[NodeRef] = field(default_factory=list)
    hops: list[list[Hop]] = field(default_factory=list)
    """Node -> its knowledge-graph hops (interactions are kept apart, in :attr:`ratings` and :attr:`raters`)."""
    ratings: dict[Any, dict[Any, float | None]] = field(default_factory=dict)
    """User key -> {item key: interaction weight (``None``: binary)}."""
    raters: dict[Any, dict[Any, float | None]] = field(default_factory=dict)
    """Item key -> {user key: interaction weight}."""
    friends: dict[Any, list[tuple[Any, str, bool]]] = field(default_factory=dict)
    """User key -> (other user, social type, stored from this user) of each social relationship."""
    duplicates: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    """Item key -> the other items with the same title and year (a catalogue listing one film twice)."""
    loaded_at: float = 0.0
    _ids: dict[tuple[str, Any], int] = field(default_factory=dict, repr=False)
    edge_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64), repr=False)
    """CSR over :attr:`hops`: node ``n``'s hops are edges ``edge_ptr[n]..edge_ptr[n+1]-1``."""
    edge_next: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    """Edge -> the node it leads to."""
    edge_hop: list[Hop] = field(default_factory=list, repr=False)
    """Edge -> its :class:`Hop`."""
    named: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)
    """Node -> whether a person can read it (a name or title; users read as ``user 42``)."""
    degree: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    """Node -> its item degree: the items one knowledge hop away (a user: the items they interacted
    with). How specific a reason through the node is: a director of 4 films says more than Drama."""
    item_count: int = 0
    """How many items the neighbourhood holds."""
    element_ids: list[str] = field(default_factory=list, repr=False)
    """Node -> its Neo4j element id (users: ``""``, they are written by key)."""

    @property
    def interaction(self) -> str:
        """The interaction type (hops of collaborative and social paths)."""
        return self.schema.interaction_type or ""

    def edges(self, node: int) -> np.ndarray:
        """The edge numbers of ``node``'s hops."""
        return np.arange(self.edge_ptr[node], self.edge_ptr[node + 1])

    def edges_into(self, sources: list[int], wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every hop from one of ``sources`` to a node in ``wanted``: (position in ``sources``, edge)."""
        empty = np.zeros(0, dtype=np.int64)
        if not sources or not len(wanted):
            return empty, empty
        src = np.asarray(sources, dtype=np.int64)
        lo, hi = self.edge_ptr[src], self.edge_ptr[src + 1]
        owner = np.repeat(np.arange(len(src)), hi - lo)
        edges = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)])
        keep = np.isin(self.edge_next[edges], wanted)
        return owner[keep], edges[keep]

    def around(self, nodes: Iterable[int]) -> np.ndarray:
        """The sorted ids of the nodes one hop from any of ``nodes``."""
        parts = [self.edge_next[self.edge_ptr[n] : self.edge_ptr[n + 1]] for n in nodes]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _index(self) -> None:
        lengths = [len(h) for h in self.hops]
        self.edge_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.edge_hop = list(itertools.chain.from_iterable(self.hops))
        self.edge_next = np.fromiter((h.node for h in self.edge_hop), dtype=np.int64, count=len(self.edge_hop))
        users, items = self.schema.users, self.schema.items
        self.named = np.fromiter((bool(n.name) or n.label == users for n in self.nodes), dtype=bool)
        is_item = np.fromiter((n.label == items for n in self.nodes), dtype=bool, count=len(self.nodes))
        owner = np.repeat(np.arange(len(self.nodes)), lengths)
        self.degree = np.bincount(owner[is_item[self.edge_next]], minlength=len(self.nodes)).astype(np.int64)
        self.item_count = int(is_item.sum())
        for user, rated in self.ratings.items():
            at = self._ids.get((users, user))
            if at is not None:
                self.degree[at] = len(rated)

    def id_of(self, label: str, key: Any) -> int | None:
        """The number of the node (``label``, ``key``), or ``None`` when it is not in the neighbourhood."""
        return self._ids.get((label, key))

    def co_raters(self, a: Any, b: Any, levels: tuple[float | None, float | None], but: Any = None) -> list[Any]:
        """Users (other than ``but``) who interacted with both items ``a`` and ``b``, with a weight of at
        least ``levels[0]`` on ``a`` and ``levels[1]`` on ``b`` (``None``: any), sorted by key."""
        on_a, on_b = self.raters.get(a, {}), self.raters.get(b, {})
        found = [u for u, w in on_a.items() if u != but and u in on_b and _at(w, levels[0]) and _at(on_b[u], levels[1])]
        return sorted(found, key=str)

    def item_title(self, key: Any) -> str:
        """An item's title (``film 267``, the items' noun and key, when it has none or is unknown)."""
        n = self.id_of(self.schema.items, key)
        name = self.nodes[n].name if n is not None else None
        return name or f"{self.schema.noun(self.schema.items)} {key}"

    @classmethod
    def load(cls, graph: AnswerGraph, types: Iterable[str]) -> Neighbourhood:
        """Stream the nodes, the relationships of ``types`` (interactions and social ones apart), the
        interactions and the social relationships from ``graph``, as its declared schema names them."""
        started = time.perf_counter()
        hood = cls(schema=graph.schema())
        element = hood._load_nodes(graph)
        s = hood.schema
        kg_types = sorted(t for t in set(types) if s.role(t) == "knowledge")
        weak = {t: d for t, d in s.relationships.items() if d.min_count is not None and d.count and t in kg_types}
        rels = graph.rows(
            "explain/neighbourhood_rels",
            types=kg_types,
            min_counts={t: d.min_count for t, d in weak.items()},
            count_props={t: check_property(d.count or "") for t, d in weak.items()},
        )
        for start, end, rel_type in _listed(rels):
            a, b = element.get(start), element.get(end)
            if a is None or b is None or a == b:
                continue
            hood.hops[a].append(Hop(b, rel_type, True))
            hood.hops[b].append(Hop(a, rel_type, False))
        for user, item, weight in _listed(graph.rows("explain/neighbourhood_ratings", weight=graph.weight())):
            hood._user(user, None)  # users are numbered too (middle nodes of collaborative paths)
            hood.ratings.setdefault(user, {})[item] = weight
            hood.raters.setdefault(item, {})[user] = weight
        hood._load_social(graph)
        hood._index()
        hood.loaded_at = time.monotonic()
        log.info(
            "neighbourhood: %d nodes, %d hops, %d interactions, %d social in %.1f s",
            len(hood.nodes),
            sum(map(len, hood.hops)) // 2,
            sum(map(len, hood.ratings.values())),
            sum(map(len, hood.friends.values())) // 2,
            time.perf_counter() - started,
        )
        return hood

    def _load_nodes(self, graph: AnswerGraph) -> dict[str, int]:
        """Number every non-user node; returns element id -> number."""
        s, element = self.schema, {}
        labels = [lbl for lbl in s.node_types() if lbl != s.users]
        named = {lbl: s.node(lbl).name for lbl in labels}
        props = list(dict.fromkeys([*s.keys.values(), *filter(None, named.values()), "name", "title", "year"]))
        titles: dict[tuple[Any, Any], list[Any]] = defaultdict(list)
        rows = graph.rows("explain/neighbourhood_nodes", labels=labels, props=[check_property(p) for p in props])
        for eid, node_labels, values in _listed(rows):
            got = dict(zip(props, values))
            label, key = node_key(s, node_labels, got)
            name = got.get(named.get(label) or "name") or got.get("name") or got.get("title")
            name = None if _id_like(name) else name
            element[eid] = len(self.nodes)
            self.element_ids.append(eid)
            self._ids[label, key] = len(self.nodes)
            self.nodes.append(NodeRef(label, key, None if name is None else str(name)))
            self.hops.append([])
            if label == s.items and name:
                titles[name, got.get("year")].append(key)
        for keys in titles.values():
            for key in keys if len(keys) > 1 else ():
                self.duplicates[key] = tuple(k for k in keys if k != key)
        return element

    def _load_social(self, graph: AnswerGraph) -> None:
        types = self.schema.of_role("social")
        if not types:
            return
        name = check_property(self.schema.node(self.schema.users).name or "name")
        rows = graph.rows("explain/neighbourhood_social", types=types, user_name=name)
        for a, b, rel_type, a_name, b_name in _listed(rows):
            self._user(a, a_name)
            self._user(b, b_name)
            self.friends.setdefault(a, []).append((b, rel_type, True))
            self.friends.setdefault(b, []).append((a, rel_type, False))

    def _user(self, key: Any, name: Any) -> None:
        """Number user ``key`` (once), keeping a name once one is known."""
        at = self._ids.get((self.schema.users, key))
        if at is None:
            self._ids[self.schema.users, key] = len(self.nodes)
            self.nodes.append(NodeRef(self.schema.users, key, None if name is None else str(name)))
            self.hops.append([])
            self.element_ids.append("")
        elif name is not None and self.nodes[at].name is None:
            self.nodes[at] = NodeRef(self.schema.users, key, str(name))


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


def _at(weight: float | None, level: float | None) -> bool:
    return level is None or (weight is not None and weight >= level)


def _listed(rows: list[dict[str, Any]]) -> Iterable[list[Any]]:
    """The entries of a statement that returns its records as one list column ``rows``."""
    for row in rows:
        yield from row["rows"]
