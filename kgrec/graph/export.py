"""Export the graph into a :class:`~kgrec.snapshot.GraphSnapshot` (arrays plus id maps).

Nodes are streamed per label and relationships per (start label, type) with
**keyset pagination on the node key** (``WHERE n.key > $after ORDER BY n.key
LIMIT $limit``), which the unique-key index answers without re-reading earlier
pages. Relationships are paged by their start node: a page holds up to
``batch_size`` start nodes with all their out-edges of the type. The (start label,
type) groups are read by up to ``threads`` threads side by side (the server works
on them in parallel); their pages are merged in a fixed order, so the snapshot
does not depend on which group finished first.

A node's type is its *primary label*: the first label of the key mapping that it
carries with that label's key property set (an ``Item`` that is also a ``Film``
is an ``Item``; a node that is ``Item`` and ``Entity`` with both ``id`` and
``iri`` is an ``Item`` under the default mapping order, one with only ``iri`` is
an ``Entity``). Nodes
with no mapped label, or without a value for their key, are left out, and so
are relationships touching them.

Only the stored direction of each relationship is exported: reverse edges (and
self-loops, normalisation, ...) are added on the learning side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from kgrec.errors import ConfigError, ExportError
from kgrec.graph import cypher
from kgrec.graph.names import check_label, check_property, check_rel_type
from kgrec.graph.store import INTERNAL_LABELS, GraphStore
from kgrec.snapshot import GraphSnapshot, column
from kgrec.types import EdgeType

log = logging.getLogger(__name__)

DEFAULT_KEYS: Mapping[str, str] = {"User": "id", "Item": "id", "Genre": "name", "Entity": "iri"}
"""kgrec's node types and their key properties, in primary-label order."""


class Progress(Protocol):
    """What the export needs from a progress bar (tqdm fits)."""

    def update(self, n: int) -> object: ...
    def close(self) -> None: ...


ProgressFactory = Callable[[str, "int | None"], Progress]


def export_snapshot(
    store: GraphStore,
    keys: Mapping[str, str] = DEFAULT_KEYS,
    *,
    node_props: Mapping[str, list[str]] | None = None,
    edge_props: Mapping[str, list[str]] | None = None,
    vectors: Mapping[str, list[str]] | None = None,
    exclude_types: Collection[str] = (),
    batch_size: int = 50_000,
    progress: ProgressFactory | None = None,
    threads: int = 4,
) -> GraphSnapshot:
    """Read the whole graph into a snapshot.

    Args:
        store: The graph to read.
        keys: Label -> key property; the order decides the primary label of a
            node with several mapped labels (default: :data:`DEFAULT_KEYS`).
        node_props: Label -> properties to export per node (default: none).
            Values must be all numbers, all booleans or all text (``None``
            allowed); a missing number becomes NaN.
        edge_props: Relationship type -> numeric properties to export per edge,
            e.g. ``{"RATED": ["rating", "timestamp"]}`` (default: none).
        vectors: Label -> vector properties to export per node, e.g.
            ``{"Item": ["feat_text", "feat_image"]}`` (default: none). Each lands in
            ``node_props[label][prop]`` as ``float32`` of shape ``(N, d)``, with a
            NaN row for a node that lacks the vector (``d`` is 0 when none has it).
        exclude_types: Relationship types to leave out, e.g. kgrec's own
            ``RECOMMENDED`` answers, which a model must never train on (default: none).
        batch_size: Nodes (or start nodes) per page (default: ``50_000``).
        progress: Makes a progress bar per label and per relationship group
            (default: none).
        threads: Relationship groups (start label, type) read side by side, each page
            by page (default: ``4``); the server answers them on its own cores.

    Returns:
        The snapshot, without reverse edges.

    Raises:
        ConfigError: A label, type or property name is invalid, an edge
            property is not numeric, or a vector property holds anything but
            float lists of one length.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    keys = _checked_keys(keys)
    present = {r["label"] for r in store.read(cypher.statement("graph/labels"))}
    order = list(keys)
    nodes: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    for i, label in enumerate(order):
        if label in present:
            props = _checked_props((node_props or {}).get(label, []))
            vecs = _checked_props((vectors or {}).get(label, []))
            if set(props) & set(vecs):
                raise ConfigError(f"{label}: a property is asked for both as a value and as a vector")
            found = _export_nodes(store, label, keys, order[:i], (props, vecs), batch_size, progress)
            if len(found[0]):
                nodes[label] = found
    node_keys = {label: k for label, (k, _) in nodes.items()}
    edges, e_props = _export_edges(
        store, keys, node_keys, dict(edge_props or {}), set(exclude_types), batch_size, progress, threads
    )
    n_props = {label: p for label, (_, p) in nodes.items() if p}
    return GraphSnapshot(node_keys, edges, n_props, e_props)


def _checked_keys(keys: Mapping[str, str]) -> dict[str, str]:
    try:
        return {check_label(lbl): check_property(k) for lbl, k in keys.items() if lbl not in INTERNAL_LABELS}
    except ValueError as e:
        raise ConfigError(f"key mapping: {e}") from e


def _checked_props(props: list[str]) -> list[str]:
    try:
        return [check_property(p) for p in props]
    except ValueError as e:
        raise ConfigError(f"export properties: {e}") from e


def _pages(
    store: GraphStore,
    name: str,
    names: dict[str, str],
    end: Callable[[list[dict[str, Any]]], tuple[int, Any]],
    batch_size: int,
    **params: Any,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of each page of a ``<name>_first`` / ``<name>_next`` statement pair.

    ``end`` reads a page's size (keys it covered) and last key (the next page's ``$after``) off its rows.
    """
    first, after = cypher.render(f"export/{name}_first", names=names), cypher.render(f"export/{name}_next", names=names)
    rows = store.read_values(first, limit=batch_size, **params)
    while rows:
        yield rows
        size, last = end(rows)
        if size < batch_size:
            return
        rows = store.read_values(after, after=last, limit=batch_size, **params)


def _node_page_end(rows: list[dict[str, Any]]) -> tuple[int, Any]:
    return len(rows), rows[-1]["key"]


def _edge_page_end(rows: list[dict[str, Any]]) -> tuple[int, Any]:
    return rows[0]["starts"], rows[0]["last_key"]


def _export_nodes(
    store: GraphStore,
    label: str,
    keys: dict[str, str],
    shadowing: list[str],
    props_and_vectors: tuple[list[str], list[str]],
    batch_size: int,
    progress: ProgressFactory | None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    props, vecs = props_and_vectors
    key = keys[label]
    names = {"LABEL": label, "KEY": key}
    bar = _bar(progress, f"nodes {label}", store.read(cypher.render("graph/count_label", names={"LABEL": label})))
    pages: list[tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]] = []
    params = {"shadowing": shadowing, "keys": keys, "props": props + vecs}
    for rows in _pages(store, "nodes", names, _node_page_end, batch_size, **params):
        n = len(props)
        pcols = [_column(label, p, [r["props"][j] for r in rows]) for j, p in enumerate(props)]
        vcols = [_vector_column(label, p, [r["props"][n + j] for r in rows]) for j, p in enumerate(vecs)]
        pages.append((_column(label, key, [r["key"] for r in rows]), pcols, vcols))
        bar.update(len(rows))
    bar.close()
    keys = _merged(label, key, [k for k, _, _ in pages])
    order = np.argsort(keys, kind="stable")
    cols = {p: _merged(label, p, [pc[j] for _, pc, _ in pages])[order] for j, p in enumerate(props)}
    cols.update({p: _merged_vectors(label, p, [vc[j] for _, _, vc in pages])[order] for j, p in enumerate(vecs)})
    return keys[order], cols


_EdgePage = tuple[np.ndarray, np.ndarray, list[np.ndarray]]
"""One page of one edge type: source ids, destination ids, a column per property."""


def _export_edges(
    store: GraphStore,
    keys: dict[str, str],
    node_keys: dict[str, np.ndarray],
    edge_props: dict[str, list[str]],
    exclude_types: set[str],
    batch_size: int,
    progress: ProgressFactory | None,
    threads: int = 1,
) -> tuple[dict[EdgeType, np.ndarray], dict[EdgeType, dict[str, np.ndarray]]]:
    order = list(keys)
    types = (check_rel_type(r["type"]) for r in store.read(cypher.statement("graph/rel_types")))
    jobs = [(t, i) for t in types if t not in exclude_types for i, label in enumerate(order) if label in node_keys]

    def read(job: tuple[str, int]) -> dict[EdgeType, list[_EdgePage]]:
        t, i = job
        return _edge_group(store, order, i, t, keys, node_keys, edge_props, batch_size, progress)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:  # (start label, type) groups side by side
        found = list(pool.map(read, jobs))
    groups: dict[EdgeType, list[_EdgePage]] = {}
    for part in found:  # in job order, whatever finished first
        for etype, pages in part.items():
            groups.setdefault(etype, []).extend(pages)
    edges, e_props = {}, {}
    for etype, pages in sorted(groups.items()):
        edges[etype], cols = _edge_arrays(etype, pages, edge_props.get(etype[1], []))
        if cols:
            e_props[etype] = cols
    return edges, e_props


def _edge_group(
    store: GraphStore,
    order: list[str],
    i: int,
    t: str,
    keys: dict[str, str],
    node_keys: dict[str, np.ndarray],
    edge_props: dict[str, list[str]],
    batch_size: int,
    progress: ProgressFactory | None,
) -> dict[EdgeType, list[_EdgePage]]:
    """The pages of type ``t`` leaving nodes of ``order[i]``, per destination type."""
    label, props = order[i], _checked_props(edge_props.get(t, []))
    names = {"LABEL": label, "KEY": keys[label], "TYPE": t}
    total = store.read(cypher.render("export/count_out", names=names))
    groups: dict[EdgeType, list[_EdgePage]] = {}
    if not total[0]["count"]:
        return groups
    bar = _bar(progress, f"edges {label}-{t}->", total)
    params = {"shadowing": order[:i], "labels": order, "keys": keys, "props": props}
    for rows in _pages(store, "rels", names, _edge_page_end, batch_size, **params):
        for dst_label, page in _edge_page(label, t, rows, node_keys, props).items():
            groups.setdefault((label, t, dst_label), []).append(page)
        bar.update(sum(len(r["src"]) for r in rows))
    bar.close()
    return groups


def _edge_page(
    label: str, rel_type: str, rows: list[dict[str, Any]], node_keys: dict[str, np.ndarray], props: list[str]
) -> dict[str, _EdgePage]:
    """A page of out-edges (one row of parallel lists per destination label) as arrays: node ids, not keys,
    so nothing per edge stays a Python object once the page is done."""
    out = {}
    for r in rows:
        dst_label = r["dst_label"]
        if dst_label is None:  # end nodes of no exported type
            continue
        src = _ids(node_keys[label], _column(label, "key", r["src"]))
        dst = _ids(node_keys[dst_label], _column(dst_label, "key", r["dst"]))
        where = f"{label}-{rel_type}-{dst_label}"
        out[dst_label] = (src, dst, [_column(where, p, [v[j] for v in r["props"]]) for j, p in enumerate(props)])
    return out


def _edge_arrays(etype: EdgeType, pages: list[_EdgePage], props: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    src = np.concatenate([p[0] for p in pages])
    dst = np.concatenate([p[1] for p in pages])
    cols = {p: _merged("-".join(etype), p, [page[2][j] for page in pages]) for j, p in enumerate(props)}
    for p, col in cols.items():
        if col.dtype == object:
            raise ConfigError(f"edge property {etype[1]}.{p} is not numeric")
    order = np.lexsort([*reversed(list(cols.values())), dst, src])
    return np.stack([src[order], dst[order]]).astype(np.int64), {p: c[order] for p, c in cols.items()}


def _ids(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if len(keys) and (sorted_keys.dtype == object) != (keys.dtype == object):
        raise ExportError("an edge endpoint is missing from the exported nodes (its key has another type)")
    ids = np.searchsorted(sorted_keys, keys)
    if len(keys) and (ids.max() >= len(sorted_keys) or not np.array_equal(sorted_keys[ids], keys)):
        raise ExportError("an edge endpoint is missing from the exported nodes (graph changed during export?)")
    return ids.astype(np.int64)


def _merged(where: str, prop: str, parts: list[np.ndarray]) -> np.ndarray:
    """Columns of consecutive pages -> the column :func:`column` makes of all their values at once."""
    kinds = {p.dtype for p in parts}
    if len(kinds) == 1:
        return np.concatenate(parts)
    if kinds == {np.dtype(np.int64), np.dtype(np.float64)}:
        return np.concatenate(parts).astype(np.float64)
    return _column(where, prop, np.concatenate([p.astype(object) for p in parts]).tolist() if parts else [])


def _merged_vectors(where: str, prop: str, parts: list[np.ndarray]) -> np.ndarray:
    """Vector columns of consecutive pages -> one ``(N, d)`` column (pages without any vector have d = 0)."""
    dims = {p.shape[1] for p in parts if p.shape[1]}
    if len(dims) > 1:
        raise ConfigError(f"{where}.{prop}: not a vector property (float lists of one length)")
    d = dims.pop() if dims else 0
    full = [p if p.shape[1] == d else np.full((len(p), d), np.nan, dtype=np.float32) for p in parts]
    return np.concatenate(full) if full else np.zeros((0, 0), dtype=np.float32)


def _column(where: str, prop: str, values: list[Any]) -> np.ndarray:
    try:
        return column(values)
    except ValueError as e:
        raise ConfigError(f"{where}.{prop}: {e}") from e


def _vector_column(where: str, prop: str, values: list[Any]) -> np.ndarray:
    """Float lists (or ``None``) -> ``float32`` ``(N, d)`` with NaN rows for ``None``."""
    present = [v for v in values if v is not None]
    dims = {len(v) for v in present if isinstance(v, list)}
    if len(dims) > 1 or any(not isinstance(v, list) for v in present):
        raise ConfigError(f"{where}.{prop}: not a vector property (float lists of one length)")
    out = np.full((len(values), dims.pop() if dims else 0), np.nan, dtype=np.float32)
    try:
        for i, v in enumerate(values):
            if v is not None:
                out[i] = v
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}.{prop}: not a vector property: {e}") from e
    return out


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(progress: ProgressFactory | None, desc: str, count_rows: list[dict[str, Any]]) -> Progress:
    return _NoBar() if progress is None else progress(desc, int(count_rows[0]["count"]))
