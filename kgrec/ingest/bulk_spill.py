"""Nodes and relationships of a bulk load, deduplicated in bounded memory before the CSV files are written.

Every node row and relationship row of every unit is appended (pickled, in
chunks) to one of a fixed number of partition files, chosen by a hash of its
identity: (id space, key) for a node, (type, endpoint spaces, start, end) for a
relationship. All rows of one node or relationship thus land in one partition,
in the order the units stated them; a partition is read back whole and its rows
combined the way the transactional path's ``MERGE`` + ``SET`` leaves them:

* a node gets the union of its labels and, per property, the last value stated
  (a missing or empty value never removes one stated earlier); an update-only
  row (``create = false``) adds to a node only when some row creates it;
* a relationship is written once per (type, start, end); its properties
  combine the same way, and a ``count`` property holds how many rows of the
  last unit that counted it stated it.

Memory holds the partition buffers and one partition at a time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kgrec.graph.batch import Batch, NodeKey
from kgrec.ingest.bulk_csv import Kinds
from kgrec.ingest.partitioned import Partitioned

PARTITIONS = 64
BUFFERED_ROWS = 200_000
"""Rows held in memory over all partitions before the buffers are appended to their files."""

SOURCES, PROPS = "kgrec_sources", "kgrec_props"
"""Provenance, as the transactional path records it (see ``cypher/ingest/merge_nodes.cypher``)."""
_PROVENANCE = {SOURCES: [[""]], PROPS: [[""]]}


class _Identified:
    """Rows filed by a hash of their identity (within this process), so all rows of one thing share a partition."""

    def __init__(self, folder: Path, name: str, count: int = PARTITIONS) -> None:
        self._parts = Partitioned(count, lambda: folder, name=name, buffered=BUFFERED_ROWS)
        self.rows = 0

    def add(self, identity: Any, row: Any) -> None:
        """File ``row`` under ``identity`` (hashable)."""
        self._parts.add(hash(identity) % self._parts.count, row)
        self.rows += 1

    def each(self) -> Iterator[list[Any]]:
        """Every partition's rows in the order they were added."""
        return self._parts.each()


class GraphSpill:
    """Collects the rows of every unit's batches; :meth:`nodes` and :meth:`relationships` give them combined.

    Args:
        folder: A private temporary folder for the partition files.
    """

    def __init__(self, folder: Path) -> None:
        self.spaces: dict[NodeKey, int] = {}
        self.rel_files: dict[tuple[str, int, int], int] = {}
        """(type, start space, end space) -> index."""
        self.kinds = Kinds()
        self._nodes = _Identified(folder, "nodes")
        self._rels = _Identified(folder, "rels")
        self.unit = 0
        """The unit whose batches are being added (counts restart per unit)."""
        self.source = ""
        """The spec whose batches are being added (provenance: ``kgrec_sources``, ``kgrec_props``)."""

    def space(self, key: NodeKey) -> int:
        """The index of a node id space."""
        return self.spaces.setdefault(key, len(self.spaces))

    def add(self, batch: Batch) -> None:
        """Take in one batch's nodes and relationships."""
        for g in batch.nodes:
            si, labels, create = self.space(g.key), g.labels, g.create
            self.kinds.see(("n", si), {**_columns(r["props"] for r in g.rows), **_PROVENANCE})
            src = self.source
            for r in g.rows:
                self._nodes.add((si, r["key"]), (si, r["key"], labels, r["props"], create, src))
        for rg in batch.rels:
            if not rg.rows:
                continue
            s, e = self.space(rg.start), self.space(rg.end)
            ti = self.rel_files.setdefault((rg.type, s, e), len(self.rel_files))
            self.kinds.see(("r", ti), {SOURCES: [[""]]})
            for space, merged in ((s, rg.create_start), (e, rg.create_end)):
                if merged:
                    self.kinds.see(("n", space), {SOURCES: [[""]]})
            if rg.create_start or rg.create_end:
                self._endpoints(rg.rows, s if rg.create_start else None, e if rg.create_end else None, rg.columns)
            if rg.columns is not None:
                self.kinds.see(("r", ti), {n: [row[i] for row in rg.rows] for i, n in enumerate(rg.columns, 2)})
            else:
                self.kinds.see(("r", ti), _columns(d["props"] for d in rg.rows))  # type: ignore[call-overload]
            if rg.count is not None:
                self.kinds.see(("r", ti), {rg.count: [1]})
            if rg.columns is not None:
                names, unit, count, src = rg.columns, self.unit, rg.count, self.source
                for row in rg.rows:
                    self._rels.add((ti, row[0], row[1]), (ti, row[0], row[1], names, tuple(row[2:]), count, unit, src))
            else:
                src = self.source
                for d in rg.rows:
                    p = d["props"]  # type: ignore[call-overload]
                    row = (ti, d["start"], d["end"], tuple(p), tuple(p.values()), rg.count, self.unit, src)  # type: ignore[call-overload]
                    self._rels.add(row[:3], row)

    def _endpoints(self, rows: list[Any], s: int | None, e: int | None, columns: tuple[str, ...] | None) -> None:
        """Key-only rows for endpoints the relationship statement ``MERGE``s."""
        lists = columns is not None
        for row in rows:
            for si, at in ((s, 0 if lists else "start"), (e, 1 if lists else "end")):
                if si is not None:
                    key = row[at]
                    self._nodes.add((si, key), (si, key, (), None, True, self.source))

    def nodes(self) -> Iterator[tuple[list[tuple[int, Any, set[str], dict[str, Any]]], dict[int, int]]]:
        """Per partition: the created nodes (space, key, labels, properties), and update-only rows without a node.

        Raises:
            ValueError: A space holds the same key as a number and as text (one id in the import).
        """
        for rows in self._nodes.each():
            merged: dict[tuple[int, str], _Node] = {}
            for si, key, labels, props, create, src in rows:
                ident = (si, str(key))
                cur = merged.get(ident)
                if cur is None:
                    cur = merged[ident] = _Node(key)
                elif type(cur.key) is not type(key):
                    raise ValueError(f"the key {key!r} is given both as a number and as text")
                cur.add(labels, props, create, src)
            missing: dict[int, int] = {}
            out = []
            for (si, _), node in merged.items():
                if node.created:
                    out.append((si, node.key, node.labels, node.finished()))
                else:
                    missing[si] = missing.get(si, 0) + 1
            yield out, missing

    def relationships(self) -> Iterator[list[tuple[int, Any, Any, dict[str, Any]]]]:
        """Per partition: each distinct relationship once (file, start, end, properties)."""
        for rows in self._rels.each():
            merged: dict[tuple[int, Any, Any], dict[str, Any]] = {}
            counted: dict[tuple[int, Any, Any], dict[str, tuple[int, int]]] = {}
            for ti, start, end, names, values, count, unit, src in rows:
                ident = (ti, start, end)
                props = merged.get(ident)
                if props is None:
                    props = merged[ident] = {SOURCES: [src]}
                elif src not in props[SOURCES]:
                    props[SOURCES].append(src)
                props.update((k, v) for k, v in zip(names, values) if v is not None and v != "")
                if count is not None:
                    seen = counted.setdefault(ident, {})
                    last_unit, n = seen.get(count, (unit, 0))
                    seen[count] = (unit, n + 1 if last_unit == unit else 1)
            for ident, by_prop in counted.items():
                merged[ident].update({prop: n for prop, (_, n) in by_prop.items()})
            yield [(ti, start, end, props) for (ti, start, end), props in merged.items()]


class _Node:
    """One node's rows combined: labels, properties and provenance in the order the rows stated them."""

    __slots__ = ("key", "labels", "props", "created", "sources", "stated")

    def __init__(self, key: Any) -> None:
        self.key = key
        self.labels: set[str] = set()
        self.props: dict[str, Any] = {}
        self.created = False
        self.sources: list[str] = []
        self.stated: list[str] | None = None

    def add(self, labels: tuple[str, ...], props: dict[str, Any] | None, create: bool, src: str) -> None:
        self.labels.update(labels)
        if create and src not in self.sources:
            self.sources.append(src)
        self.created = self.created or create
        if props is None:  # an endpoint a relationship statement merges: no properties stated
            return
        stated = [f"{src}:{k}" for k, v in props.items() if v is not None]
        self.stated = [x for x in self.stated or [] if x not in stated] + stated
        self.props.update((k, v) for k, v in props.items() if v is not None and v != "")

    def finished(self) -> dict[str, Any]:
        out = dict(self.props)
        if self.sources:
            out[SOURCES] = self.sources
        if self.stated:
            out[PROPS] = self.stated
        return out


def _columns(rows: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Property maps as columns (name -> values)."""
    out: dict[str, list[Any]] = {}
    for props in rows:
        for k, v in props.items():
            out.setdefault(k, []).append(v)
    return out


def spill_folder(parent: Path | None) -> tempfile.TemporaryDirectory[str]:
    """A private temporary folder for the partition and CSV files of one bulk load."""
    return tempfile.TemporaryDirectory(prefix="kgrec-bulk-", dir=parent)
