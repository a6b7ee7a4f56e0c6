"""The answer neighbourhood read page by page into arrays: the graph's hops and interactions, once each."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kgrec.graph import neighbourhood_load
from kgrec.graph.answers import AnswerGraph
from kgrec.graph.neighbourhood import KeyIndex, Neighbourhood
from kgrec.graph.neighbourhood_load import _objects
from kgrec.graph.store import GraphStore
from tests.recommend.music_world import load_music
from tests.twotastes import load_world


def _load(store: GraphStore) -> Neighbourhood:
    graph = AnswerGraph(store)
    return Neighbourhood.load(graph, list(graph.schema().relationships))


def _ref(hood: Neighbourhood, n: int) -> tuple[str, Any]:
    return hood.nodes[n].label, hood.nodes[n].key


def _hops(hood: Neighbourhood) -> list[tuple[tuple[str, Any], tuple[str, Any], str, bool]]:
    return sorted(
        (_ref(hood, n), _ref(hood, h.node), h.rel_type, h.forward) for n in range(len(hood.nodes)) for h in hood.hops[n]
    )


@pytest.mark.neo4j
def test_every_knowledge_relationship_is_a_hop_seen_from_both_ends(store: GraphStore) -> None:
    load_world(store)
    hood = _load(store)
    stored = store.read(
        "MATCH (a:Item)-[r]->(b) WHERE NOT b:User AND type(r) <> 'RATED' "
        "RETURN a.id AS a, CASE WHEN b:Entity THEN 'Entity' WHEN b:Genre THEN 'Genre' ELSE labels(b)[0] END AS label, "
        "coalesce(b.iri, b.name) AS b, type(r) AS t"
    )
    expected = sorted(
        [(("Item", r["a"]), (r["label"], r["b"]), r["t"], True) for r in stored]
        + [((r["label"], r["b"]), ("Item", r["a"]), r["t"], False) for r in stored]
    )
    assert len(stored) > 10 and _hops(hood) == expected
    assert len(hood.edge_hop) == 2 * len(stored)


@pytest.mark.neo4j
def test_interactions_by_user_and_by_item_are_the_graphs(store: GraphStore) -> None:
    load_world(store)
    hood = _load(store)
    rows = store.read("MATCH (u:User)-[r:RATED]->(i:Item) RETURN u.id AS u, i.id AS i, r.rating AS w")
    by_user: dict[Any, dict[Any, Any]] = {}
    for r in rows:
        by_user.setdefault(r["u"], {})[r["i"]] = r["w"]
    assert {u: dict(items) for u, items in hood.ratings.items()} == by_user
    item = rows[0]["i"]
    assert dict(hood.raters[item]) == {u: items[item] for u, items in by_user.items() if item in items}
    assert 10**9 not in hood.ratings and hood.ratings.get(10**9, {}) == {}
    user = rows[0]["u"]
    assert int(hood.degree[hood.id_of("User", user)]) == len(by_user[user])


@pytest.mark.neo4j
def test_page_boundaries_change_nothing(store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    load_music(store)
    whole = _load(store)
    for name in ("NODES_PER_PAGE", "STARTS_PER_PAGE", "USERS_PER_PAGE"):
        monkeypatch.setattr(neighbourhood_load, name, 2)
    paged = _load(store)
    assert _hops(paged) == _hops(whole) and len(_hops(whole)) > 10
    assert {u: dict(r) for u, r in paged.ratings.items()} == {u: dict(r) for u, r in whole.ratings.items()}
    assert paged.friends.keys() == whole.friends.keys() and len(whole.friends) > 0
    refs = lambda h: {_ref(h, n): (h.nodes[n].name, int(h.degree[n]), bool(h.named[n])) for n in range(len(h.nodes))}  # noqa: E731
    assert refs(paged) == refs(whole)


@pytest.mark.neo4j
def test_keys_of_another_type_find_no_node(store: GraphStore) -> None:
    load_world(store)
    hood = _load(store)
    item = next(k for k in hood.raters)
    assert hood.id_of("Item", item) is not None
    assert hood.id_of("Item", str(item)) is None and hood.id_of("Item", None) is None
    assert hood.id_of("NoSuchLabel", item) is None
    assert isinstance(hood.node_label, np.ndarray) and isinstance(hood.edge_next, np.ndarray)


@pytest.mark.parametrize(
    "keys",
    [[3, 1, 2], [10**12, 5, -7], ["b", "a", "c"], [2, "x", 1.5]],  # dense ints, sparse ints, text, mixed types
)
def test_key_index_finds_each_key_of_its_label_only(keys: list[Any]) -> None:
    labels = ["Item", "Genre"]
    node_label = np.array([0] * len(keys) + [1], dtype=np.int16)
    index = KeyIndex(labels, node_label, _objects([*keys, keys[0]]))
    assert [index.get("Item", k) for k in keys] == list(range(len(keys)))
    assert index.get("Genre", keys[0]) == len(keys) and index.get("Genre", keys[1]) is None
    assert index.get("Item", "no such key") is None and index.get("Item", 999) is None
