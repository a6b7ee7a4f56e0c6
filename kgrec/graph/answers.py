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

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired

from kgrec.errors import GraphUnavailableError, KgrecError
from kgrec.graph import cypher
from kgrec.graph.declared import read_schema
from kgrec.graph.names import check_label, check_property, check_rel_type
from kgrec.graph.store import GraphStore, credentials
from kgrec.schema import GraphSchema
from kgrec.settings import Settings

log = logging.getLogger(__name__)

NODE_KEYS: dict[str, str] = {"User": "id", "Item": "id", "Genre": "name", "Entity": "iri"}
"""Primary labels in order and their key properties (as in the export)."""


@dataclass(frozen=True, slots=True)
class ItemRow:
    """An item as the answers show it."""

    key: Any
    title: str
    year: int | None
    ratings: int


@dataclass(frozen=True, slots=True)
class Filters:
    """Which items may be recommended (every field optional; ``None`` is off).

    Args:
        label: An extra label the item must carry (e.g. ``Film``).
        genre: A genre name the item must be in.
        prop: A property whose value must be one of ``values``.
        values: The allowed values of ``prop``.
        year_min: Earliest year (inclusive).
        year_max: Latest year (inclusive).
        exclude: Item keys never to recommend.
    """

    label: str | None = None
    genre: str | None = None
    prop: str | None = None
    values: tuple[Any, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    exclude: tuple[Any, ...] = ()

    def params(self) -> dict[str, Any]:
        """The statement parameters (names checked, values as given)."""
        return {
            "label": None if self.label is None else check_label(self.label),
            "genre": self.genre,
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
    uri, user, password = credentials(settings)
    driver = GraphDatabase.driver(
        uri,
        auth=(user, password),
        notifications_min_severity="OFF",
        connection_timeout=timeout,
        connection_acquisition_timeout=timeout,
        max_transaction_retry_time=timeout,
    )
    try:
        driver.verify_connectivity()
    except AuthError as e:
        driver.close()
        raise GraphUnavailableError(f"Neo4j at {uri} refused the login for user {user!r}") from e
    except (ServiceUnavailable, SessionExpired, OSError) as e:
        driver.close()
        raise GraphUnavailableError(f"Neo4j is not reachable at {uri}") from e
    return GraphStore(driver, settings.neo4j_database)


class AnswerGraph:
    """Reads and writes what recommendations need, through one store.

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

    def ping(self) -> None:
        """One ``RETURN 1`` round trip (raises :class:`GraphUnavailableError` when Neo4j is down)."""
        self._read("recommend/ping")

    def ratings(self, user: Any) -> dict[Any, float | None] | None:
        """The items ``user`` rated and their ratings (``None`` where unrated); ``None``: no such user."""
        row = self._read("recommend/user_seen", user=user)[0]
        return {key: rating for key, rating in row["rated"] if key is not None} if row["found"] else None

    def ratings_and_candidates(
        self, user: Any, keys: list[Any], filters: Filters | None = None
    ) -> tuple[dict[Any, float | None] | None, list[ItemRow]]:
        """In one round trip: :meth:`ratings` of ``user``, and the items among ``keys`` that the
        user has not rated and that pass ``filters`` (:meth:`items`), in the order of ``keys``."""
        params = (filters or Filters()).params()
        row = self._read("recommend/user_candidates", user=user, keys=list(keys), **params)[0]
        if not row["found"]:
            return None, []
        rated = {key: rating for key, rating in row["rated"] if key is not None}
        return rated, [ItemRow(key, title, year, int(n)) for key, title, year, n in row["items"]]

    def seen_items(self, user: Any, *, min_rating: float = 3) -> tuple[list[Any], list[Any]] | None:
        """Keys of the items ``user`` rated, and of those rated at least ``min_rating``; ``None``: no such user."""
        rated = self.ratings(user)
        if rated is None:
            return None
        return list(rated), [k for k, r in rated.items() if r is None or r >= min_rating]

    def items(self, keys: list[Any], filters: Filters | None = None) -> list[ItemRow]:
        """The items among ``keys`` that exist and pass ``filters``, in the order of ``keys``."""
        params = (filters or Filters()).params()
        rows = self._read("recommend/items", keys=list(keys), **params)
        return [ItemRow(r["key"], r["title"], r["year"], int(r["ratings"])) for r in rows]

    def users(self) -> list[Any]:
        """Every user key, sorted."""
        return [r["key"] for r in self._read("recommend/users")]

    def item_links(self, items: list[Any], *, types: list[str], neighbours: list[Any]) -> list[dict[str, Any]]:
        """The item side of explanation paths: each item's neighbours (see ``explain/item_links``)."""
        return self._read("explain/item_links", items=list(items), types=types, neighbours=list(neighbours))

    def user_links(
        self, user: Any, seen: list[Any], mids: list[str], *, types: list[str], neighbours: list[Any]
    ) -> list[dict[str, Any]]:
        """The user side: rated items among ``seen`` touching one of ``mids`` (see ``explain/user_links``)."""
        return self._read(
            "explain/user_links", user=user, seen=list(seen), mids=mids, types=types, neighbours=list(neighbours)
        )

    def liked_links(self, liked: list[Any], mids: list[str], *, types: list[str]) -> list[dict[str, Any]]:
        """The liked-items side for a user known only by ``liked`` items (see ``explain/liked_links``)."""
        return self._read("explain/liked_links", liked=list(liked), mids=mids, types=types)

    def paths4(self, user: Any, item: Any, *, types: list[str], limit: int = 50) -> list[dict[str, Any]]:
        """Up to ``limit`` four-hop knowledge-graph paths from ``user`` to ``item``."""
        return self._read("explain/paths4", user=user, item=item, types=types, limit=limit)

    def has_relationship(self, start: tuple[str, Any], rel_type: str, end: tuple[str, Any]) -> bool:
        """Whether a stored ``rel_type`` relationship runs from ``start`` to ``end`` (label, key) nodes."""
        names = {
            "A_LABEL": check_label(start[0]),
            "A_KEY": check_property(NODE_KEYS[start[0]]),
            "B_LABEL": check_label(end[0]),
            "B_KEY": check_property(NODE_KEYS[end[0]]),
            "TYPE": check_rel_type(rel_type),
        }
        rows = self.store.query(cypher.render("explain/hop_exists", names=names), a=start[1], b=end[1])
        return int(rows[0]["n"]) > 0

    def item_vector(self, item: Any, prop: str) -> tuple[bool, bool]:
        """Whether ``item`` exists, and whether it has the vector property ``prop``."""
        row = self._read("recommend/item_has_vector", item=item, property=check_property(prop))[0]
        return bool(row["found"]), bool(row["has_vector"])

    def similar_by_index(self, item: Any, *, index: str, prop: str, k: int) -> list[tuple[Any, str, float]]:
        """The ``k`` items nearest to ``item`` in the vector index ``index`` over ``prop``."""
        rows = self._read(
            "recommend/similar_vector", item=item, index=check_property(index), property=check_property(prop), k=k
        )
        return [(r["key"], r["title"], float(r["score"])) for r in rows]

    def write_recommendations(self, users: list[Any], rows: list[dict[str, Any]], model: str) -> int:
        """Replace the ``RECOMMENDED`` relationships of ``users`` by ``rows`` (user, item, rank, score, explanation)."""
        self._read("recommend/clear", users=list(users))
        written = 0
        for start in range(0, len(rows), 5000):
            out = self._read("recommend/write", rows=rows[start : start + 5000], model=model)
            written += int(out[0]["written"])
        return written

    def stored_recommendations(self, users: list[Any]) -> list[dict[str, Any]]:
        """The ``RECOMMENDED`` relationships of ``users``: user, item, rank, score, model, explanation."""
        return self._read("recommend/stored", users=list(users))

    def rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """The rows of the statement ``cypher/<name>.cypher`` (a read kgrec owns) as plain dicts."""
        return self._read(name, **params)

    def _read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        try:
            return self.store.query(cypher.statement(name), **params)
        except Neo4jError as e:
            raise KgrecError(f"Neo4j rejected {name}: {e.code}: {e.message}") from e


def node_key(labels: list[str], props: dict[str, Any]) -> tuple[str, Any]:
    """The primary label and key value of a node given its labels and key properties."""
    for label, key in NODE_KEYS.items():
        if label in labels and props.get(key) is not None:
            return label, props[key]
    raise KgrecError(f"a path node has no kgrec key (labels {labels})")
