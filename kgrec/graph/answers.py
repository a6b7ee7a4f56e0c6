"""The graph side of answers: what recommendations and explanations read from and write to Neo4j.

:class:`AnswerGraph` speaks in domain verbs (``seen_items``, ``items``,
``paths3``, ``write_recommendations``) over a :class:`~kgrec.graph.store.GraphStore`
and returns plain Python. :func:`connect_for_service` opens a store whose
driver gives up quickly while Neo4j is down, so a server can answer 503 at
once and recover by itself when Neo4j returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from neo4j.exceptions import Neo4jError

from kgrec.errors import KgrecError
from kgrec.graph import cypher
from kgrec.graph.declared import read_schema
from kgrec.graph.names import check_label, check_property, check_rel_type
from kgrec.graph.store import GraphStore
from kgrec.graph.where import resolve_where
from kgrec.schema import GraphSchema
from kgrec.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ItemRow:
    """An item as the answers show it."""

    key: Any
    title: str
    year: int | None


@dataclass(frozen=True, slots=True)
class Filters:
    """Which items may be recommended (every field optional; ``None`` is off).

    Args:
        label: An extra label the item must carry (e.g. ``Film``).
        genre: A genre the item must be in: the same as ``where=(("genre", genre),)``.
        where: ``(key, value)`` pairs the item must all meet: it is linked (one hop, either
            direction) to a node of that kind (a node label, its declared noun, or a knowledge
            relationship type, case-insensitive) whose name or key is ``value`` (case-insensitive;
            see :mod:`kgrec.recommend.filters`).
        prop: A property whose value must be one of ``values``.
        values: The allowed values of ``prop``.
        year_min: Earliest year (inclusive).
        year_max: Latest year (inclusive).
        exclude: Item keys never to recommend.
    """

    label: str | None = None
    genre: str | None = None
    where: tuple[tuple[str, str], ...] = ()
    prop: str | None = None
    values: tuple[Any, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    exclude: tuple[Any, ...] = ()

    def conditions(self) -> tuple[tuple[str, str], ...]:
        """The ``where`` pairs, ``genre`` included."""
        return self.where + ((("genre", self.genre),) if self.genre is not None else ())

    def params(self, where: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The statement parameters (names checked, values as given; ``where``: the resolved
        :meth:`conditions`, each ``{types, nodes}``)."""
        return {
            "label": None if self.label is None else check_label(self.label),
            "where": list(where or []),
            "prop": None if self.prop is None else check_property(self.prop),
            "values": list(self.values),
            "year_min": self.year_min,
            "year_max": self.year_max,
        }


def connect_for_service(settings: Settings, *, timeout: float = 3.0) -> GraphStore:
    """A store whose driver fails fast (``timeout`` seconds) instead of retrying for half a minute.

    Raises:
        GraphUnavailableError: The server is down or refuses the login.
    """
    return GraphStore.connect(settings, timeout=timeout)


class AnswerGraph:
    """Reads and writes what recommendations need, through one store, in the graph's declared schema.

    Every statement names the schema's users, items and interaction (``@USERS``, ``@ITEMS``,
    ``@INTERACTION`` and their keys, filled by :func:`kgrec.graph.cypher.render`); the
    interaction's weight property is a checked ``$weight`` parameter.

    Args:
        store: An open store (not closed here).
    """

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._schema: GraphSchema | None = None

    def schema(self) -> GraphSchema:
        """The graph's declared schema (read once; see :func:`kgrec.graph.declared.read_schema`)."""
        if self._schema is None:
            self._schema = read_schema(self.store)
        return self._schema

    def names(self) -> dict[str, str]:
        """The placeholders of answer statements: users, items, the interaction and their keys."""
        s = self.schema()
        return {
            "USERS": check_label(s.users),
            "USER_KEY": check_property(s.keys.get(s.users, "id")),
            "ITEMS": check_label(s.items),
            "ITEM_KEY": check_property(s.keys.get(s.items, "id")),
            "ITEM_NAME": check_property(s.node(s.items).name or "name"),
            "INTERACTION": check_rel_type(s.interaction_type or "RATED"),
        }

    def weight(self) -> str | None:
        """The interaction's weight property (``None``: binary interactions)."""
        w = self.schema().interaction.weight
        return None if w is None else check_property(w)

    def ping(self) -> None:
        """One ``RETURN 1`` round trip (raises :class:`GraphUnavailableError` when Neo4j is down)."""
        self._run("recommend/ping")

    def ratings(self, user: Any) -> dict[Any, float | None] | None:
        """The items ``user`` interacted with and the weights (``None`` where none); ``None``: no such user."""
        row = self._run("recommend/user_seen", user=user, weight=self.weight())[0]
        return {key: w for key, w in row["rated"] if key is not None} if row["found"] else None

    def ratings_and_candidates(
        self, user: Any, keys: list[Any], filters: Filters | None = None, where: list[dict[str, Any]] | None = None
    ) -> tuple[dict[Any, float | None] | None, list[ItemRow]]:
        """In one round trip: :meth:`ratings` of ``user``, and the items among ``keys`` that the
        user has not interacted with and that pass ``filters`` (:meth:`items`), in the order of ``keys``."""
        params = (filters or Filters()).params(where)
        row = self._run("recommend/user_candidates", user=user, keys=list(keys), weight=self.weight(), **params)[0]
        if not row["found"]:
            return None, []
        rated = {key: w for key, w in row["rated"] if key is not None}
        return rated, [ItemRow(key, title, year) for key, title, year in row["items"]]

    def where(self, filters: Filters | None) -> list[dict[str, Any]]:
        """The nodes ``filters``' conditions mean (see :func:`kgrec.graph.where.resolve_where`).

        Raises:
            ConfigError: An unknown key, or a value no node of that kind has.
        """
        conditions = filters.conditions() if filters else ()
        return resolve_where(self, conditions) if conditions else []

    def items(
        self, keys: list[Any], filters: Filters | None = None, where: list[dict[str, Any]] | None = None
    ) -> list[ItemRow]:
        """The items among ``keys`` that exist and pass ``filters`` (``where``: their resolved
        conditions, from :meth:`where`), in the order of ``keys``."""
        if where is None and filters is not None:
            where = self.where(filters)
        params = (filters or Filters()).params(where)
        rows = self._run("recommend/items", keys=list(keys), **params)
        return [ItemRow(r["key"], r["title"], r["year"]) for r in rows]

    def users(self) -> list[Any]:
        """Every user key, sorted."""
        return [r["key"] for r in self._run("recommend/users")]

    def rel_types(self) -> list[str]:
        """Every relationship type in the graph."""
        return [r["type"] for r in self.store.read(cypher.statement("graph/rel_types"))]

    def has_relationship(self, start: tuple[str, Any], rel_type: str, end: tuple[str, Any]) -> bool:
        """Whether a stored ``rel_type`` relationship runs from ``start`` to ``end`` (label, key) nodes."""
        keys = self.schema().keys
        names = {
            "A_LABEL": check_label(start[0]),
            "A_KEY": check_property(keys[start[0]]),
            "B_LABEL": check_label(end[0]),
            "B_KEY": check_property(keys[end[0]]),
            "TYPE": check_rel_type(rel_type),
        }
        rows = self.store.read(cypher.render("explain/hop_exists", names=names), a=start[1], b=end[1])
        return int(rows[0]["n"]) > 0

    def item_vector(self, item: Any, prop: str) -> tuple[bool, bool]:
        """Whether ``item`` exists, and whether it has the vector property ``prop``."""
        row = self._run("recommend/item_has_vector", item=item, property=check_property(prop))[0]
        return bool(row["found"]), bool(row["has_vector"])

    def similar_by_index(self, item: Any, *, index: str, prop: str, k: int) -> list[tuple[Any, str, float]]:
        """The ``k`` items nearest to ``item`` in the vector index ``index`` over ``prop``."""
        rows = self._run(
            "recommend/similar_vector", item=item, index=check_property(index), property=check_property(prop), k=k
        )
        return [(r["key"], r["title"], float(r["score"])) for r in rows]

    def write_recommendations(self, users: list[Any], rows: list[dict[str, Any]], model: str) -> int:
        """Replace the ``RECOMMENDED`` relationships of ``users`` by ``rows`` (user, item, rank, score,
        explanation and, optionally, ``path``: the first reason's (label, key) nodes, ``path_types``)."""
        ids = self.element_ids([node for row in rows for node in row.get("path") or ()])
        rows = [{**row, "path": [ids.get(tuple(n)) for n in row.get("path") or ()]} for row in rows]
        rows = [row if None not in row["path"] else {**row, "path": [], "path_types": []} for row in rows]
        self._run("recommend/clear", users=list(users), write=True)
        written = 0
        for start in range(0, len(rows), 5000):
            out = self._run("recommend/write", rows=rows[start : start + 5000], model=model, write=True)
            written += int(out[0]["written"])
        return written

    def element_ids(self, nodes: list[tuple[str, Any]]) -> dict[tuple[str, Any], str]:
        """(label, key) -> the node's element id, for the given nodes that exist (one statement per label)."""
        keys = self.schema().keys
        found: dict[tuple[str, Any], str] = {}
        for label in sorted({label for label, _ in nodes}):
            names = {"LABEL": check_label(label), "KEY": check_property(keys[label])}
            wanted = list(dict.fromkeys(k for lbl, k in nodes if lbl == label))
            for row in self._run("recommend/element_ids", names, keys=wanted):
                found[label, row["key"]] = row["id"]
        return found

    def co_raters(self, a: Any, b: Any, levels: tuple[float | None, float | None], but: Any) -> int:
        """How many users other than ``but`` interacted with items ``a`` and ``b``, with weights of at
        least ``levels`` (``None``: any): the count of a collaborative reason, read from the graph."""
        level_a, level_b = levels
        rows = self._run(
            "explain/co_raters", a=a, b=b, level_a=level_a, level_b=level_b, but=but, weight=self.weight()
        )
        return int(rows[0]["n"])

    def stored_recommendations(self, users: list[Any]) -> list[dict[str, Any]]:
        """The ``RECOMMENDED`` relationships of ``users``: user, item, rank, score, model, explanation."""
        return self._run("recommend/stored", users=list(users))

    def rows(self, name: str, names: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
        """The rows of the statement ``cypher/<name>.cypher`` (a read kgrec owns) as plain dicts,
        its placeholders filled from :meth:`names` and ``names``."""
        return self._run(name, names, **params)

    def values(self, name: str, names: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
        """:meth:`rows` for statements that return only numbers, text, booleans and lists of them (the
        neighbourhood's pages): the values as decoded, without ``Record.data()``'s walk over each one."""
        return self._run(name, names, plain=True, **params)

    def _run(
        self,
        name: str,
        names: dict[str, str] | None = None,
        *,
        write: bool = False,
        plain: bool = False,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """Run ``cypher/<name>.cypher``: in a read transaction (a cluster's secondaries) unless ``write``;
        ``plain``: through :meth:`GraphStore.read_values`."""
        try:
            text = cypher.statement(name)
            if "@" in text:
                text = cypher.render(name, names={**self.names(), **(names or {})})
            if write:
                return self.store.query(text, **params)
            return self.store.read_values(text, **params) if plain else self.store.read(text, **params)
        except Neo4jError as e:
            raise KgrecError(f"Neo4j rejected {name}: {e.code}: {e.message}") from e


def node_key(schema: GraphSchema, labels: list[str], props: dict[str, Any]) -> tuple[str, Any]:
    """The primary label (in the schema's order) and key value of a node given its labels and properties."""
    for label, key in schema.keys.items():
        if label in labels and props.get(key) is not None:
            return label, props[key]
    raise KgrecError(f"a path node has no key the schema declares (labels {labels})")
