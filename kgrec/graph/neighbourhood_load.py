"""Reading a :class:`~kgrec.graph.neighbourhood.Neighbourhood` from Neo4j, page by page, into arrays.

Three passes of keyset-paginated statements (``cypher/explain/neighbourhood_*_first``
and ``_next``; each page one record holding a list of rows and the page's last
key, so the server never collects the whole graph and the client holds one page
of Python rows at a time):

* nodes, per primary label in the schema's key order (a node with an earlier label
  and its key is read on that label's pages), numbered in key order;
* knowledge hops, per start node's label: each page's element ids are turned into
  node numbers at once and kept as ``int64``/``int16`` arrays;
* interactions, per page of users in key order: users are numbered as they come
  (pages are disjoint and ascending, so no map from user key to number is needed),
  items found by binary search over the items' sorted keys.

Social relationships (users befriending users) are few and read in one statement.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import numpy as np

from kgrec.graph.answers import AnswerGraph, node_key
from kgrec.graph.names import check_label, check_property
from kgrec.graph.neighbourhood import Interactions, KeyIndex, Neighbourhood, _id_like, typed_keys
from kgrec.schema import GraphSchema

log = logging.getLogger(__name__)

NODES_PER_PAGE = 50_000
"""Nodes per page of the node pass."""
STARTS_PER_PAGE = 10_000
"""Start nodes (with all their knowledge hops) per page of the hop pass."""
USERS_PER_PAGE = 20_000
"""Users (with all their interactions) per page of the interaction pass."""

H = TypeVar("H", bound=Neighbourhood)


class _Builder:
    """Nodes as they are read: label codes, keys and names in Python lists until :meth:`arrays`."""

    def __init__(self, schema: GraphSchema) -> None:
        self.schema = schema
        self.labels = [lbl for lbl in schema.keys if lbl != schema.users] + [schema.users]
        self.code = {lbl: i for i, lbl in enumerate(self.labels)}
        self.label: list[int] = []
        self.key: list[Any] = []
        self.name: list[str | None] = []
        self.titles: dict[tuple[Any, Any], list[Any]] = defaultdict(list)
        self.user_keys = np.zeros(0, dtype=object)  # users numbered by the interaction pass, ascending
        self.user_numbers = np.zeros(0, dtype=np.int64)  # their numbers
        self.extra_users: dict[Any, int] = {}  # users met only in social relationships

    def add(self, label: str, key: Any, name: Any) -> int:
        self.label.append(self.code[label])
        self.key.append(key)
        self.name.append(None if name is None else str(name))
        return len(self.key) - 1

    def user(self, key: Any, name: Any) -> int:
        """The number of user ``key`` (numbered now if new), keeping a name once one is known."""
        at = _find(self.user_keys, key)
        n = int(self.user_numbers[at]) if at is not None else self.extra_users.get(key)
        if n is None:
            n = self.extra_users[key] = self.add(self.schema.users, key, name)
        elif name is not None and self.name[n] is None:
            self.name[n] = str(name)
        return n


def load_neighbourhood(cls: type[H], graph: AnswerGraph, types: Iterable[str]) -> H:
    """Read the neighbourhood of ``graph`` (knowledge hops of ``types``) into arrays."""
    started = time.perf_counter()
    s = graph.schema()
    b = _Builder(s)
    element = _read_nodes(graph, b)
    items = np.flatnonzero(np.asarray(b.label, dtype=np.int16) == b.code[s.items])
    item_keys = typed_keys(_objects([b.key[i] for i in items.tolist()]))
    item_order = np.argsort(item_keys, kind="stable") if item_keys.dtype != object else None
    kg_types = sorted(t for t in set(types) if s.role(t) == "knowledge")
    starts, ends, kinds = _read_hops(graph, b, element, kg_types)
    del element
    users, rated, weights, integral = _read_interactions(graph, b, item_keys, items, item_order)
    friends = _read_social(graph, b)
    hood = cls(schema=s, labels=b.labels, friends=friends, rel_types=kg_types)
    hood.node_label = np.asarray(b.label, dtype=np.int16)
    hood.node_key = _objects(b.key)
    hood.node_name = _objects(b.name)
    n = len(b.key)
    hood.edge_ptr, hood.edge_next, hood.edge_type, hood.edge_forward = _hop_csr(n, starts, ends, kinds)
    hood.by_user = _csr(n, users, rated, weights, integral)
    hood.by_item = _csr(n, rated, users, weights, integral)
    twins = [keys for keys in b.titles.values() if len(keys) > 1]
    hood.duplicates = {key: tuple(k for k in keys if k != key) for keys in twins for key in keys}
    _index(hood)
    hood.loaded_at = time.monotonic()
    log.info(
        "neighbourhood: %d nodes, %d hops, %d interactions, %d social in %.1f s",
        n,
        len(hood.edge_next) // 2,
        len(hood.by_user.cols),
        sum(map(len, friends.values())) // 2,
        time.perf_counter() - started,
    )
    return hood


def _pages(graph: AnswerGraph, name: str, names: dict[str, str] | None, limit: int, **params: Any) -> Iterator[list]:
    """The row lists of the pages of ``explain/<name>_first`` and ``_next`` (keyset pagination)."""
    page = graph.values(f"explain/{name}_first", names, limit=limit, **params)[0]
    while page["last"] is not None:
        yield page["rows"]
        page = graph.values(f"explain/{name}_next", names, after=page["last"], limit=limit, **params)[0]


def _by_label(b: _Builder) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    """Per non-user label in primary-label order: its placeholders and its shadowing parameters."""
    s, order = b.schema, b.labels[:-1]
    for i, label in enumerate(order):
        names = {"LABEL": check_label(label), "KEY": check_property(s.keys[label])}
        yield names, {"shadowing": order[:i], "keys": {lbl: s.keys[lbl] for lbl in order[:i]}}


def _read_nodes(graph: AnswerGraph, b: _Builder) -> dict[str, int]:
    """Number every non-user node; returns element id -> number (used by the hop pass only)."""
    s, element = b.schema, {}
    labels = [lbl for lbl in s.node_types() if lbl != s.users]
    named = {lbl: s.node(lbl).name for lbl in labels}
    props = list(dict.fromkeys([*s.keys.values(), *filter(None, named.values()), "name", "title", "year"]))
    checked = [check_property(p) for p in props]
    for names, shadow in _by_label(b):
        for page in _pages(graph, "neighbourhood_nodes", names, NODES_PER_PAGE, labels=labels, props=checked, **shadow):
            for eid, node_labels, values in page:
                got = dict(zip(props, values))
                label, key = node_key(s, node_labels, got)
                name = got.get(named.get(label) or "name") or got.get("name") or got.get("title")
                name = None if _id_like(name) else name
                element[eid] = b.add(label, key, name)
                if label == s.items and name:
                    b.titles[name, got.get("year")].append(key)
    return element


def _read_hops(
    graph: AnswerGraph, b: _Builder, element: dict[str, int], kg_types: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every knowledge hop between numbered nodes: (start, end, type code) arrays."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if kg_types:
        s, code = b.schema, {t: i for i, t in enumerate(kg_types)}
        weak = {t: d for t, d in s.relationships.items() if d.min_count is not None and d.count and t in kg_types}
        params = {
            "types": kg_types,
            "min_counts": {t: d.min_count for t, d in weak.items()},
            "count_props": {t: check_property(d.count or "") for t, d in weak.items()},
        }
        for names, shadow in _by_label(b):
            for page in _pages(graph, "neighbourhood_rels", names, STARTS_PER_PAGE, **params, **shadow):
                a = np.fromiter((element.get(r[0], -1) for r in page), dtype=np.int64, count=len(page))
                z = np.fromiter((element.get(r[1], -1) for r in page), dtype=np.int64, count=len(page))
                t = np.fromiter((code[r[2]] for r in page), dtype=np.int16, count=len(page))
                keep = (a >= 0) & (z >= 0) & (a != z)
                parts.append((a[keep], z[keep], t[keep]))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int16)
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def _read_interactions(
    graph: AnswerGraph, b: _Builder, item_keys: np.ndarray, items: np.ndarray, order: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Every interaction with a known item: (user node, item node, weight) arrays and whether the
    weights are whole numbers. Users are numbered in key order, page by page."""
    users, rated, weights, integral = [], [], [], True
    keys, numbered = [], []
    for page in _pages(graph, "neighbourhood_ratings", None, USERS_PER_PAGE, weight=graph.weight()):
        if not page:
            continue
        u_keys, u_index = _unique([r[0] for r in page])
        numbers = np.asarray([b.add(b.schema.users, k, None) for k in u_keys], dtype=np.int64)
        keys += u_keys
        numbered.append(numbers)
        item = _lookup(item_keys, order, [r[1] for r in page])
        raw = [r[2] for r in page]
        integral = integral and all(type(w) is int for w in raw if w is not None)
        w = np.asarray([np.nan if v is None else v for v in raw], dtype=np.float64)
        known = item >= 0
        users.append(numbers[u_index][known])
        rated.append(items[item[known]])
        weights.append(w[known])
    user_keys = typed_keys(_objects(keys))
    by_key = np.argsort(user_keys, kind="stable") if user_keys.dtype != object else np.arange(len(keys))
    b.user_keys = user_keys[by_key]
    b.user_numbers = np.concatenate(numbered)[by_key] if numbered else np.zeros(0, np.int64)
    if not users:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64), integral
    return np.concatenate(users), np.concatenate(rated), np.concatenate(weights), integral


def _read_social(graph: AnswerGraph, b: _Builder) -> dict[Any, list[tuple[Any, str, bool]]]:
    types = b.schema.of_role("social")
    friends: dict[Any, list[tuple[Any, str, bool]]] = {}
    if not types:
        return friends
    name = check_property(b.schema.node(b.schema.users).name or "name")
    for row in graph.values("explain/neighbourhood_social", types=types, user_name=name):
        for x, y, rel_type, x_name, y_name in row["rows"]:
            b.user(x, x_name)
            b.user(y, y_name)
            friends.setdefault(x, []).append((y, rel_type, True))
            friends.setdefault(y, []).append((x, rel_type, False))
    return friends


def _hop_csr(
    n: int, starts: np.ndarray, ends: np.ndarray, kinds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each hop seen from both ends, grouped by node (arrival order kept within a node)."""
    owner = np.stack([starts, ends], axis=1).ravel()
    order = np.argsort(owner, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))]).astype(np.int64)
    nxt = np.stack([ends, starts], axis=1).ravel()[order]
    forward = np.tile(np.array([True, False]), len(starts))[order]
    return ptr, nxt.astype(np.int64), np.repeat(kinds, 2)[order], forward


def _csr(n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, integral: bool) -> Interactions:
    """Rows -> columns ascending; a (row, column) pair stated twice keeps its last weight."""
    order = np.lexsort((cols, rows))  # stable: the last statement of a pair comes last
    rows, cols, weights = rows[order], cols[order], weights[order]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, weights = rows[last], cols[last], weights[last]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
    return Interactions(ptr, cols, weights, integral)


def _index(hood: Neighbourhood) -> None:
    """Node flags and degrees, and the (label, key) index."""
    s = hood.schema
    users, items = hood.labels.index(s.users), hood.labels.index(s.items) if s.items in hood.labels else -1
    names = hood.node_name
    hood.named = np.fromiter((v is not None and v != "" for v in names), dtype=bool, count=len(names))
    hood.named |= hood.node_label == users
    is_item = hood.node_label == items
    owner = np.repeat(np.arange(len(hood.node_label)), np.diff(hood.edge_ptr))
    hood.degree = np.bincount(owner[is_item[hood.edge_next]], minlength=len(hood.node_label)).astype(np.int64)
    counts = np.diff(hood.by_user.ptr)
    hood.degree[counts > 0] = counts[counts > 0]
    hood.item_count = int(is_item.sum())
    hood.keys = KeyIndex(hood.labels, hood.node_label, hood.node_key)


def _unique(values: list[Any]) -> tuple[list[Any], np.ndarray]:
    """The distinct values in order of first appearance, and each value's position among them."""
    first: dict[Any, int] = {}
    index = np.fromiter((first.setdefault(v, len(first)) for v in values), dtype=np.int64, count=len(values))
    return list(first), index


def _lookup(keys: np.ndarray, order: np.ndarray | None, wanted: list[Any]) -> np.ndarray:
    """Positions in ``keys`` of ``wanted`` (``-1``: not there)."""
    if order is None:  # keys of several types: a dict
        at = {k: i for i, k in enumerate(keys.tolist())}
        return np.fromiter((at.get(k, -1) for k in wanted), dtype=np.int64, count=len(wanted))
    out = np.full(len(wanted), -1, dtype=np.int64)
    try:
        values = np.asarray(wanted, dtype=keys.dtype)
    except (TypeError, ValueError):
        return _lookup(_objects(keys.tolist()), None, wanted)
    sorted_keys = keys[order]
    pos = np.minimum(np.searchsorted(sorted_keys, values), max(len(keys) - 1, 0))
    hit = (sorted_keys[pos] == values) if len(keys) else np.zeros(len(wanted), dtype=bool)
    out[hit] = order[pos[hit]]
    return out


def _find(sorted_keys: np.ndarray, key: Any) -> int | None:
    """Position of ``key`` in ascending ``sorted_keys`` (``None``: not there)."""
    if not len(sorted_keys):
        return None
    if sorted_keys.dtype == object:
        hits = [i for i, k in enumerate(sorted_keys.tolist()) if k == key]
        return hits[0] if hits else None
    try:
        at = int(np.searchsorted(sorted_keys, key))
    except (TypeError, ValueError):
        return None
    return at if at < len(sorted_keys) and sorted_keys[at] == key else None


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-D object array of ``values`` (lists and tuples stay single entries)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
