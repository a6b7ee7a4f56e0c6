"""The graph gateway: the only place that talks to the Neo4j driver.

It speaks in domain verbs (``apply_schema``, ``write``, ``counts``) and returns
plain Python values, never driver records.

Reads and writes are told apart, so a ``neo4j://`` (routing) URI works unchanged
against a cluster or Aura: :meth:`GraphStore.read` and the store's own reads run
in read transactions, which a cluster sends to its secondaries; writes run in
write transactions on the leader. Every query and session shares the driver's
``execute_query`` bookmark manager, so a read that follows a write (``--write``,
then Browser or ``kgrec recommend``) sees it on whichever member serves it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import neo4j
from neo4j import GraphDatabase, ManagedTransaction, RoutingControl
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired

from kgrec.errors import GraphUnavailableError, KgrecError
from kgrec.graph import cypher
from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup, Stamp, WriteCounts
from kgrec.graph.names import check_label, check_property, check_rel_type, quote
from kgrec.settings import Settings

log = logging.getLogger(__name__)

STATIC_SCHEMA = ("schema/checkpoint_unit", "schema/item_title", "schema/entity_name", "schema/names_fulltext")
INTERNAL_LABELS = frozenset({"KgrecCheckpoint", "KgrecSchema", "KgrecSync"})


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far one ingestion unit got, committed with its last batch."""

    unit: str
    fingerprint: str
    records_done: int
    complete: bool
    rels_written: int = 0
    """Relationships the unit created before this batch; :meth:`GraphStore.write` adds the batch's own."""
    create: bool = False
    """The unit's relationships are written with ``CREATE`` (its first load; see ``kgrec.ingest.load``)."""
    sync: str | None = None
    """The sync run (``Stamp.run``) the unit was written in (``None``: a plain ingest)."""


@dataclass(frozen=True, slots=True)
class GraphCounts:
    """Node counts by label and relationship counts by type."""

    labels: dict[str, int]
    types: dict[str, int]

    @property
    def nodes(self) -> int:
        """Sum over labels (a node with two labels counts twice)."""
        return sum(self.labels.values())

    @property
    def relationships(self) -> int:
        """Total relationships."""
        return sum(self.types.values())


class GraphStore:
    """Reads and writes kgrec's graph in one Neo4j database.

    Args:
        driver: An open driver; the store closes it on :meth:`close`.
        database: The database name.
    """

    def __init__(self, driver: neo4j.Driver, database: str = "neo4j") -> None:
        self._driver = driver
        self._db = database

    @classmethod
    def connect(cls, settings: Settings, *, timeout: float | None = None) -> GraphStore:
        """Open a store from settings: ``NEO4J_*`` if given, else the local server.

        Args:
            settings: Where the server is and how to log in.
            timeout: Seconds after which a connection, a pool wait or a retried transaction gives
                up (default: the driver's, which retries for half a minute). A server answering
                HTTP uses a few seconds, so it can answer 503 at once while Neo4j is down.

        Raises:
            GraphUnavailableError: The server is down or refuses the login.
        """
        uri, user, password = credentials(settings)
        driver = open_driver(uri, (user, password), timeout=timeout)
        try:
            driver.verify_connectivity()
        except AuthError as e:
            driver.close()
            raise GraphUnavailableError(f"Neo4j at {uri} refused the login for user {user!r}") from e
        except (ServiceUnavailable, SessionExpired, OSError) as e:
            driver.close()
            hint = " (start it with `kgrec neo4j start`)" if settings.uses_local_server else ""
            raise GraphUnavailableError(f"Neo4j is not reachable at {uri}{hint}") from e
        return cls(driver, settings.neo4j_database)

    def close(self) -> None:
        """Close the driver."""
        self._driver.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------------

    def apply_schema(self, keys: Iterable[NodeKey]) -> None:
        """Create the uniqueness constraint of every node key and kgrec's lookup indexes (idempotent)."""
        for key in sorted(set(keys), key=lambda k: (k.label, k.property)):
            names = {
                "NAME": f"kgrec_{key.label}_{key.property}",
                "LABEL": check_label(key.label),
                "KEY": check_property(key.property),
            }
            self._run(cypher.render("schema/unique_key", names=names))
        for name in STATIC_SCHEMA:
            self._run(cypher.statement(name))
        self._run("CALL db.awaitIndexes(300)")

    def declare(self, source: str, part: str) -> None:
        """Record one source's part of the declared schema (JSON text from :mod:`kgrec.schema`)."""
        self._write_query(cypher.statement("schema/declare_source"), source=source, part=part)

    def names_from_iris(self, label: str, prop: str) -> None:
        """Give ``label`` nodes lacking ``prop`` one made from their IRI's last segment (idempotent)."""
        names = {"LABEL": check_label(label), "PROP": check_property(prop)}
        with self._session() as session:
            session.run(cypher.render("ingest/names_from_iris", names=names)).consume()

    def declared(self) -> dict[str, str]:
        """Source -> its recorded schema part (JSON text)."""
        return {r["source"]: r["part"] for r in self._read(cypher.statement("schema/declared"))}

    def links_between(self, a: str, rel_type: str, b: str) -> bool:
        """Whether some ``rel_type`` relationship joins an ``a`` node and a ``b`` node (either way)."""
        names = {"A": check_label(a), "TYPE": check_rel_type(rel_type), "B": check_label(b)}
        return bool(self._read(cypher.render("graph/links_between", names=names))[0]["found"])

    # -- writes ---------------------------------------------------------------------------------

    def write(
        self, batch: Batch, checkpoint: Checkpoint | None = None, *, create: bool = False, stamp: Stamp | None = None
    ) -> WriteCounts:
        """Write one batch, and the checkpoint after it, in one managed transaction (retried).

        Args:
            batch: Nodes (always ``MERGE``d on their key) and relationships.
            checkpoint: Progress to commit with the batch.
            create: ``CREATE`` the relationships instead of ``MERGE``: only for
                relationships the caller knows are not in the graph yet.
            stamp: The source (and sync run) to record as the writer (``None``: no provenance).
        """
        try:
            with self._session() as session:
                return session.execute_write(_write_batch, batch, checkpoint, create, stamp or _NO_STAMP)
        except (ServiceUnavailable, SessionExpired) as e:
            raise GraphUnavailableError(f"lost the connection to Neo4j: {e}") from e
        except Neo4jError as e:
            raise KgrecError(f"Neo4j rejected a write: {e.code}: {e.message}") from e

    def checkpoint(self, unit: str) -> Checkpoint | None:
        """The last committed checkpoint of ``unit``, if any."""
        rows = self._run(cypher.statement("ingest/checkpoint_get"), unit=unit)
        if not rows:
            return None
        r = rows[0]
        return Checkpoint(
            unit,
            r["fingerprint"],
            int(r["records_done"]),
            bool(r["complete"]),
            int(r["rels_written"]),
            bool(r["create_rels"]),
            r["sync"],
        )

    def sync_state(self, source: str) -> tuple[str, str] | None:
        """The run id and phase (``load``, ``sweep``, ``done``) of ``source``'s last sync, if any."""
        rows = self._run(cypher.statement("ingest/sync_get"), source=source)
        return (rows[0]["run"], rows[0]["phase"]) if rows else None

    def set_sync_state(self, source: str, run: str, phase: str) -> None:
        """Record ``source``'s sync run and the phase it has reached."""
        self._write_query(cypher.statement("ingest/sync_set"), source=source, run=run, phase=phase)

    def sweep(self, step: str, stamp: Stamp, *, protected: Iterable[str] = (), size: int = 10_000) -> int:
        """Run one sync sweep step (``rels``, ``nodes``, ``orphans``) in batches; returns what it deleted.

        Each batch commits on its own; a step rerun after a kill finds only what is left.
        """
        text = cypher.statement(f"ingest/sweep_{step}")
        params = {"src": stamp.source, "run": stamp.run, "protected": sorted(protected), "size": size}
        try:
            with self._session() as session:
                c = session.run(text, params).consume().counters
        except (ServiceUnavailable, SessionExpired) as e:
            raise GraphUnavailableError(f"lost the connection to Neo4j: {e}") from e
        except Neo4jError as e:
            raise KgrecError(f"Neo4j rejected a write: {e.code}: {e.message}") from e
        return c.relationships_deleted + c.nodes_deleted

    def relationship_count(self, types: Iterable[str]) -> int:
        """How many relationships of these types the graph holds (from the count store)."""
        return sum(self._count("graph/count_type", TYPE=check_rel_type(t)) for t in set(types))

    def delete_all(self) -> None:
        """Delete every node and relationship (schema is kept)."""
        with self._session() as session:
            session.run(cypher.statement("graph/delete_all")).consume()

    # -- reads ----------------------------------------------------------------------------------

    def counts(self) -> GraphCounts:
        """Count nodes per label and relationships per type (from Neo4j's count store)."""
        labels = [r["label"] for r in self._read(cypher.statement("graph/labels"))]
        types = [r["type"] for r in self._read(cypher.statement("graph/rel_types"))]
        by_label = {
            lbl: self._count("graph/count_label", LABEL=check_label(lbl))
            for lbl in labels
            if lbl not in INTERNAL_LABELS
        }
        by_type = {t: self._count("graph/count_type", TYPE=check_rel_type(t)) for t in types}
        return GraphCounts({k: v for k, v in by_label.items() if v}, {k: v for k, v in by_type.items() if v})

    def read(self, text: str, **params: Any) -> list[dict[str, Any]]:
        """Run a read-only statement kgrec owns in a read transaction (a cluster's secondaries); plain dicts.

        A statement that writes fails here (``neo4j.exceptions.ClientError``): use :meth:`query`.
        """
        return self._read(text, **params)

    def read_values(self, text: str, **params: Any) -> list[dict[str, Any]]:
        """:meth:`read` for statements that return only numbers, text, booleans and lists of them (export
        pages): the values as the driver decoded them, without ``Record.data()``'s walk over every value
        (at 15M exported relationships that walk alone took minutes)."""
        return [dict(r.items()) for r in self._records(text, RoutingControl.READ, **params)]

    def query(self, text: str, **params: Any) -> list[dict[str, Any]]:
        """Run a statement kgrec owns in a write transaction (the leader) and return plain dicts.

        For statements that write, or reads that must run on the leader; other reads use :meth:`read`.
        """
        return self._run(text, **params)

    # -- internals ------------------------------------------------------------------------------

    def _count(self, name: str, **names: str) -> int:
        return int(self._read(cypher.render(name, names=names))[0]["count"])

    def _session(self) -> neo4j.Session:
        # the execute_query bookmarks: a read after this session's writes sees them, on any cluster member
        return self._driver.session(database=self._db, bookmark_manager=self._driver.execute_query_bookmark_manager)

    def _read(self, text: str, **params: Any) -> list[dict[str, Any]]:
        return self._run(text, RoutingControl.READ, **params)

    def _run(self, text: str, routing: RoutingControl = RoutingControl.WRITE, /, **params: Any) -> list[dict[str, Any]]:
        return [r.data() for r in self._records(text, routing, **params)]

    def _records(self, text: str, routing: RoutingControl, /, **params: Any) -> list[neo4j.Record]:
        try:
            records, _, _ = self._driver.execute_query(text, params, database_=self._db, routing_=routing)
        except (ServiceUnavailable, SessionExpired) as e:
            raise GraphUnavailableError(f"lost the connection to Neo4j: {e}") from e
        return records

    # -- vectors (modality features) ------------------------------------------------------------

    def set_vectors(self, label: str, key: str, prop: str, rows: list[tuple[Any, list[float]]]) -> int:
        """Store one vector per node as the float32 vector property ``prop``; returns how many nodes matched.

        Args:
            label: The nodes' label.
            key: Their key property.
            prop: The vector property (e.g. ``feat_image``).
            rows: ``(key value, vector)`` pairs; keys without a node are skipped.
        """
        text = cypher.render("features/set_vectors", names={"LABEL": check_label(label), "KEY": check_property(key)})
        data = [{"key": k, "vector": v} for k, v in rows]
        return int(self._write_query(text, rows=data, property=check_property(prop))[0]["written"])

    def remove_vectors(self, label: str, key: str, prop: str, keep: list[Any]) -> int:
        """Remove ``prop`` from ``label`` nodes whose key is not in ``keep``; returns how many lost it."""
        names = {"LABEL": check_label(label), "KEY": check_property(key), "PROP": check_property(prop)}
        return int(self._write_query(cypher.render("features/remove_vectors", names=names), keep=keep)[0]["removed"])

    def ensure_vector_index(self, name: str, label: str, prop: str, dim: int) -> None:
        """Create the cosine vector index ``name`` on ``label.prop`` (recreated if its target or size changed)."""
        if not isinstance(dim, int) or isinstance(dim, bool) or not 1 <= dim <= 4096:
            raise ValueError(f"vector dimension must be an int in 1..4096, got {dim!r}")
        names = {"LABEL": check_label(label), "PROP": check_property(prop)}
        name = check_property(name)
        found = self._run(cypher.statement("features/vector_index_show"), name=name)
        if found and (found[0]["labels"], found[0]["properties"], found[0]["dim"]) != ([label], [prop], dim):
            log.info("recreating vector index %s for %s.%s (%d dims)", name, label, prop, dim)
            self._write_query(cypher.statement("features/index_drop"), name=name)
        self._write_query(cypher.render("features/vector_index_create", names=names), name=name, dim=dim)
        self._run(cypher.statement("features/await_indexes"))

    def _write_query(self, text: str, **params: Any) -> list[dict[str, Any]]:
        try:
            return self._run(text, **params)
        except Neo4jError as e:
            raise KgrecError(f"Neo4j rejected a write: {e.code}: {e.message}") from e


_NO_STAMP = Stamp(None)


def _write_batch(
    tx: ManagedTransaction, batch: Batch, checkpoint: Checkpoint | None, create: bool, stamp: Stamp
) -> WriteCounts:
    counts = WriteCounts()
    for group in batch.nodes:
        if group.rows:
            _write_nodes(tx, group, counts, stamp)
    for rel in batch.rels:
        if rel.rows:
            _write_rels(tx, rel, counts, create, stamp)
    if checkpoint is not None:
        tx.run(
            cypher.statement("ingest/checkpoint_set"),
            unit=checkpoint.unit,
            fingerprint=checkpoint.fingerprint,
            records_done=checkpoint.records_done,
            complete=checkpoint.complete,
            rels_written=checkpoint.rels_written + sum(counts.rels_created.values()),
            create_rels=checkpoint.create,
            sync=checkpoint.sync,
        ).consume()
    return counts


def _write_nodes(tx: ManagedTransaction, group: NodeGroup, counts: WriteCounts, stamp: Stamp) -> None:
    labels = tuple(check_label(x) for x in group.labels)
    text = cypher.render(
        "ingest/merge_nodes" if group.create else "ingest/update_nodes",
        names={"LABEL": check_label(group.key.label), "KEY": check_property(group.key.property)},
        raw={
            "SET_LABELS": cypher.set_labels(labels),
            "SET_PROPS": cypher.set_props("n", _prop_names(group.rows)),
        },
    )
    rows = group.rows
    if stamp.source is not None:  # what each row states, for kgrec_props (computed here: no dynamic reads)
        tag = stamp.source + ":"
        rows = [{**r, "stated": [tag + k for k, v in r["props"].items() if v is not None]} for r in rows]
    result = tx.run(text, rows=rows, src=stamp.source, run=stamp.run)
    if not group.create:
        missing = len(group.rows) - int(result.single(strict=True)["updated"])
        if missing:
            counts.nodes_missing[group.key.label] = counts.nodes_missing.get(group.key.label, 0) + missing
    summary = result.consume()
    label = group.key.label
    counts.nodes_created[label] = counts.nodes_created.get(label, 0) + summary.counters.nodes_created
    counts.properties_set += summary.counters.properties_set


def _write_rels(tx: ManagedTransaction, rel: RelGroup, counts: WriteCounts, create: bool, stamp: Stamp) -> None:
    names, rows = _rel_cells(rel)
    text = cypher.render(
        "ingest/create_rels" if create else "ingest/merge_rels",
        names={
            "START_LABEL": check_label(rel.start.label),
            "START_KEY": check_property(rel.start.property),
            "END_LABEL": check_label(rel.end.label),
            "END_KEY": check_property(rel.end.property),
            "TYPE": check_rel_type(rel.type),
        },
        raw={
            "START_VERB": "MERGE" if rel.create_start else "MATCH",
            "END_VERB": "MERGE" if rel.create_end else "MATCH",
            "SET_PROPS": _set_cells(names),
        },
    )
    has_src = stamp.source is not None
    result = tx.run(
        text,
        rows=rows,
        src=stamp.source,
        run=stamp.run,
        stamp_a=has_src and rel.create_start,
        stamp_b=has_src and rel.create_end,
    )
    written = int(result.single(strict=True)["written"])
    summary = result.consume()
    t = rel.type
    counts.rels_created[t] = counts.rels_created.get(t, 0) + summary.counters.relationships_created
    made = summary.counters.nodes_created
    if made:
        label = rel.end.label if rel.create_end else rel.start.label
        counts.nodes_created[label] = counts.nodes_created.get(label, 0) + made
    counts.properties_set += summary.counters.properties_set
    skipped = len(rel.rows) - written
    if skipped:
        counts.rels_skipped[t] = counts.rels_skipped.get(t, 0) + skipped


def _rel_cells(rel: RelGroup) -> tuple[list[str], list[list[Any]]]:
    """Property names and rows ``[start, end, *values]``: the parameter shape the driver sends fastest."""
    if rel.columns is not None:
        return [check_property(p) for p in rel.columns], rel.rows  # type: ignore[return-value]
    names = _prop_names(rel.rows)  # type: ignore[arg-type]
    rows = [[r["start"], r["end"], *map(r["props"].get, names)] for r in rel.rows]  # type: ignore[index]
    return names, rows


def _set_cells(names: list[str]) -> str:
    """``SET r.`a` = row[2], ...`` for checked property names at their row positions (empty when none)."""
    return "SET " + ", ".join(f"r.{quote(p)} = row[{i}]" for i, p in enumerate(names, 2)) if names else ""


def _prop_names(rows: list[dict[str, Any]]) -> list[str]:
    names: set[str] = set()
    for row in rows:
        names.update(row["props"])
    return [check_property(p) for p in sorted(names)]


def open_driver(uri: str, auth: tuple[str, str], *, timeout: float | None = None) -> neo4j.Driver:
    """The one place kgrec creates a Neo4j driver (``timeout``: see :meth:`GraphStore.connect`)."""
    limits = (
        {}
        if timeout is None
        else {
            "connection_timeout": timeout,
            "connection_acquisition_timeout": timeout,
            "max_transaction_retry_time": timeout,
        }
    )
    return GraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF", **limits)


def credentials(settings: Settings) -> tuple[str, str, str]:
    """URI, user and password to use: ``NEO4J_*`` settings, or the local server's files."""
    if not settings.uses_local_server:
        if settings.neo4j_password is None:
            raise GraphUnavailableError("NEO4J_URI is set but NEO4J_PASSWORD is not")
        return settings.bolt_uri, settings.neo4j_user, settings.neo4j_password.get_secret_value()
    from kgrec.graph.server import read_password

    return settings.bolt_uri, "neo4j", read_password(settings)
