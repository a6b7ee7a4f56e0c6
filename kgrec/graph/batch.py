"""Plain write batches: what ingestion hands to the graph store.

Nothing here knows about files or specs; a batch is rows grouped by the shape of
the statement that writes them (label and key, or start/type/end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NodeKey:
    """A label and the property that identifies its nodes."""

    label: str
    property: str


@dataclass(frozen=True, slots=True)
class NodeGroup:
    """Nodes of one key and one extra-label set.

    Each row is ``{"key": value, "props": {...}}``.
    """

    key: NodeKey
    labels: tuple[str, ...] = ()
    rows: list[Row] = field(default_factory=list)
    create: bool = True
    """``MERGE`` the nodes (default); ``False``: only update nodes that exist (missing ones are counted)."""


@dataclass(frozen=True, slots=True)
class RelGroup:
    """Relationships of one type between two node keys.

    Each row is ``{"start": key, "end": key, "props": {...}}``, or, when
    ``columns`` names the properties, the list ``[start, end, *values]`` with one
    value per name (``None``: not set). The list form is what mapping builds
    column-wise for large tables: cheaper to build, keep and send.
    """

    start: NodeKey
    type: str
    end: NodeKey
    create_start: bool = False
    create_end: bool = False
    rows: list[Row] | list[list[Any]] = field(default_factory=list)
    columns: tuple[str, ...] | None = None
    """Property names of list rows (``None``: the rows are dicts)."""
    count: str | None = None
    """Property that ingestion fills, before writing, with how many records of the unit state each row's
    relationship (``None``: not counted)."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who writes a batch: provenance recorded on every node and relationship written.

    ``source`` (a spec name) joins ``kgrec_sources``; in a sync run, ``run``
    (``"<source>@<id>"``) marks what the source states now (``kgrec_seen``), so
    the sweep can remove what it no longer states (see ``kgrec.ingest.sync``).
    """

    source: str | None
    """The spec that states what is written (``None``: no provenance)."""
    run: str | None = None
    """The sync run (``None``: a plain ingest)."""


@dataclass(slots=True)
class Batch:
    """Everything one transaction writes: nodes first, then relationships."""

    nodes: list[NodeGroup] = field(default_factory=list)
    rels: list[RelGroup] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(g.rows) for g in self.nodes) + sum(len(g.rows) for g in self.rels)


@dataclass(slots=True)
class WriteCounts:
    """What a write changed, by label and relationship type."""

    nodes_created: dict[str, int] = field(default_factory=dict)
    rels_created: dict[str, int] = field(default_factory=dict)
    properties_set: int = 0
    rels_skipped: dict[str, int] = field(default_factory=dict)
    """Relationships not written because an endpoint did not exist, by type."""
    nodes_missing: dict[str, int] = field(default_factory=dict)
    """Update-only node rows whose node did not exist (nothing written), by label."""

    def add(self, other: WriteCounts) -> None:
        """Add ``other`` into this one."""
        for mine, theirs in (
            (self.nodes_created, other.nodes_created),
            (self.rels_created, other.rels_created),
            (self.rels_skipped, other.rels_skipped),
            (self.nodes_missing, other.nodes_missing),
        ):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        self.properties_set += other.properties_set
