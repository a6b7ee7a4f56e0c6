"""Nodes and relationships of a bulk load, collected in bounded memory before the CSV files are written.

Every node row of every unit is appended (pickled, in chunks) to one of a fixed
number of partition files, chosen by a hash of its identity (id space, key as
text); all rows of one node thus land in one partition, in the order the units
stated them. A partition is read back whole and its rows combined the way the
transactional path's ``MERGE`` + ``SET`` leaves them: the union of the labels
and, per property, the last value stated (a missing or empty value never
removes one stated earlier); an update-only row (``create = false``) adds to a
node only when some row creates it.

Relationships are kept as columns (:mod:`kgrec.ingest.bulk_rels`): written as
they are unless stated more than once, then combined the same way, one
relationship per (type, start, end), a ``count`` property holding how many rows
of the last unit that counted it stated it.

Memory holds the partition buffers, one partition at a time, and 8 bytes per relationship.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgrec.graph.batch import Batch, NodeKey, RelGroup
from kgrec.ingest.bulk_rels import SOURCES, RelChunk, RelSpill, identity_hashes
from kgrec.ingest.bulk_types import Kinds, kinds_of
from kgrec.ingest.partitioned import Partitioned

PARTITIONS = 64
BUFFERED_ROWS = 200_000
"""Rows held in memory over all partitions before the buffers are appended to their files."""

PROPS = "kgrec_props"
"""Provenance, as the transactional path records it (see ``cypher/ingest/merge_nodes.cypher``)."""
_PROVENANCE = {SOURCES: [[""]], PROPS: [[""]]}


@dataclass(frozen=True, slots=True)
class RelColumns:
    """Relationship rows of one type between two id spaces, as columns (``None``: a property not stated)."""

    start: NodeKey
    type: str
    end: NodeKey
    create_start: bool
    create_end: bool
    count: str | None
    names: tuple[str, ...]
    starts: Sequence[Any]
    ends: Sequence[Any]
    props: list[Sequence[Any]]


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
    """Collects the rows of every unit's batches; :meth:`nodes` gives them combined, :attr:`rels` writes the others.

    Args:
        folder: A private temporary folder for the partition files.
    """

    def __init__(self, folder: Path) -> None:
        self.spaces: dict[NodeKey, int] = {}
        self.rel_files: dict[tuple[str, int, int], int] = {}
        """(type, start space, end space) -> index."""
        self.kinds = Kinds()
        self._nodes = _Identified(folder, "nodes")
        self.rels = RelSpill(folder)
        self.id_kinds: dict[int, set[str]] = {}
        """Types of the node keys and relationship endpoints of each id space."""
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
            keys = [r["key"] for r in g.rows]
            self._ids(si, keys)
            for key, r in zip(keys, g.rows):
                self._nodes.add((si, str(key)), (si, key, labels, r["props"], create, src))
        for rg in batch.rels:
            if rg.rows:
                self._add_rels(rg)

    def _add_rels(self, rg: RelGroup) -> None:
        names, starts, ends, props = _rel_columns(rg)
        self.add_rel_columns(RelColumns(rg.start, rg.type, rg.end, rg.create_start, rg.create_end, rg.count,
                                        names, starts, ends, props))  # fmt: skip

    def add_rel_columns(self, rc: RelColumns) -> None:
        """Take in the rows of one relationship group given as columns."""
        s, e = self.space(rc.start), self.space(rc.end)
        ti = self.rel_files.setdefault((rc.type, s, e), len(self.rel_files))
        self._ids(s, rc.starts)
        self._ids(e, rc.ends)
        for space, keys, merged in ((s, rc.starts, rc.create_start), (e, rc.ends, rc.create_end)):
            if merged:  # endpoints the relationship statement MERGEs: key-only rows, once per chunk
                self.kinds.see(("n", space), {SOURCES: [[""]]})
                for key in dict.fromkeys(keys):
                    self._nodes.add((space, str(key)), (space, key, (), None, True, self.source))
        self.kinds.see(("r", ti), {SOURCES: [[""]], **dict(zip(rc.names, rc.props))})
        if rc.count is not None:
            self.kinds.see(("r", ti), {rc.count: [1]})
        hashes = identity_hashes(rc.starts, rc.ends)
        self.rels.add(RelChunk(ti, self.source, self.unit, rc.count, rc.names, rc.starts, rc.ends, rc.props, hashes))

    def _ids(self, space: int, keys: Sequence[Any]) -> None:
        self.id_kinds.setdefault(space, set()).update(kinds_of(keys))

    def integer_ids(self) -> bool:
        """Whether every node key and relationship endpoint is an integer (``--id-type=integer``)."""
        return all(k == {"long"} for k in self.id_kinds.values())

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


def _rel_columns(rg: RelGroup) -> tuple[tuple[str, ...], Sequence[Any], Sequence[Any], list[Sequence[Any]]]:
    """A relationship group as columns: property names, start keys, end keys, one column per name."""
    if rg.columns is not None:
        starts, ends, *props = zip(*rg.rows)
        return rg.columns, starts, ends, props
    rows: list[dict[str, Any]] = rg.rows  # type: ignore[assignment]
    names = tuple(dict.fromkeys(k for d in rows for k in d["props"]))
    props = [[d["props"].get(n) for d in rows] for n in names]
    return names, [d["start"] for d in rows], [d["end"] for d in rows], props


def spill_folder(parent: Path | None) -> tempfile.TemporaryDirectory[str]:
    """A private temporary folder for the partition and CSV files of one bulk load."""
    return tempfile.TemporaryDirectory(prefix="kgrec-bulk-", dir=parent)
