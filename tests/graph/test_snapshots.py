"""The training snapshot: ratings with their values, titles, vectors, and never kgrec's own answers."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.graph.snapshots import export_training_snapshot
from kgrec.graph.store import GraphStore
from tests.conftest import declare_schema

pytestmark = pytest.mark.neo4j

GRAPH = """
CREATE (u:User {id: 1}), (v:User {id: 2}),
       (a:Item {id: 10, title: 'A'}), (b:Item {id: 20, title: 'B'}),
       (d:Entity {iri: 'e:dir'}),
       (u)-[:RATED {rating: 4.0, timestamp: 5}]->(a), (v)-[:RATED {rating: 2.0, timestamp: 6}]->(b),
       (a)-[:DIRECTED_BY]->(d), (b)-[:DIRECTED_BY]->(d),
       (u)-[:RECOMMENDED {rank: 1, score: 0.9, model: 'x'}]->(b)
"""


def test_recommendations_written_by_kgrec_are_never_training_data(store: GraphStore) -> None:
    store.query(GRAPH)
    declare_schema(store)
    snap = export_training_snapshot(store)
    assert sorted(t[1] for t in snap.edges) == ["DIRECTED_BY", "RATED"]
    rated = ("User", "RATED", "Item")
    assert snap.edges[rated].tolist() == [[0, 1], [0, 1]]
    assert snap.edge_props[rated]["rating"].tolist() == [4.0, 2.0]
    assert snap.node_props["Item"]["title"].tolist() == ["A", "B"]


def test_item_vectors_come_along_when_present(store: GraphStore) -> None:
    store.query(GRAPH)
    declare_schema(store)
    store.set_vectors("Item", "id", "feat_text", [(10, [1.0, 0.0, 0.5])])
    snap = export_training_snapshot(store)
    text = snap.node_props["Item"]["feat_text"]
    assert text.shape == (2, 3)
    assert text[0].tolist() == [1.0, 0.0, 0.5] and np.isnan(text[1]).all()


MUSIC = """
CREATE (u:User {id: 1}), (v:User {id: 2}),
       (a:Item {id: 10, name: 'Muse'}), (b:Item {id: 20, name: 'Blur'}), (t:Tag {id: 7, name: 'britpop'}),
       (u)-[:LISTENED {plays: 1559}]->(a), (u)-[:LISTENED {plays: 3}]->(b), (v)-[:LISTENED {plays: 40}]->(b),
       (u)-[:FRIEND_OF]->(v), (b)-[:HAS_TAG {times: 2}]->(t)
"""


def _music(store: GraphStore, **listened: object) -> None:
    from kgrec.graph.declared import record_part
    from kgrec.schema import SchemaDecl, SchemaPart

    rels = {"LISTENED": {"role": "interaction", "weight": "plays", "kind": "count", **listened}}
    rels["FRIEND_OF"] = {"role": "social"}
    decl = SchemaDecl.model_validate({"nodes": {"Item": {"name": "name"}}, "relationships": rels})
    record_part(store, SchemaPart("music", decl, (("User", "id"), ("Item", "id"), ("Tag", "id"))))


def test_count_interactions_without_timestamps_and_every_declared_label(store: GraphStore) -> None:
    store.query(MUSIC)
    _music(store)
    snap = export_training_snapshot(store)
    listened = ("User", "LISTENED", "Item")
    assert snap.edges[listened].tolist() == [[0, 0, 1], [0, 1, 1]]
    assert snap.edge_props[listened] == {"plays": snap.edge_props[listened]["plays"]}
    assert snap.edge_props[listened]["plays"].tolist() == [1559, 3, 40]
    assert snap.node_keys["Tag"].tolist() == [7]
    assert ("Item", "HAS_TAG", "Tag") in snap.edges and ("User", "FRIEND_OF", "User") in snap.edges
    assert snap.node_props["Item"]["name"].tolist() == ["Muse", "Blur"]
    assert snap.schema["relationships"]["LISTENED"]["kind"] == "count"


def test_min_weight_keeps_only_strong_interactions_as_positives(store: GraphStore) -> None:
    from kgrec.learn.data import interactions_of

    store.query(MUSIC)
    _music(store, min_weight=10)
    assert interactions_of(export_training_snapshot(store)).tolist() == [[0, 1], [0, 1]]


def test_an_undeclared_user_item_relationship_stops_the_export(store: GraphStore) -> None:
    from kgrec.errors import ConfigError

    store.query(MUSIC + ", (v)-[:TAGGED]->(a)")
    _music(store)
    with pytest.raises(ConfigError, match=r"TAGGED joins User and Item but its role is not declared.*\"exclude\""):
        export_training_snapshot(store)


def test_an_excluded_relationship_is_left_out(store: GraphStore) -> None:
    from kgrec.graph.declared import record_part
    from kgrec.schema import SchemaDecl, SchemaPart

    store.query(MUSIC + ", (v)-[:TAGGED]->(a)")
    _music(store)
    excluded = SchemaDecl.model_validate({"relationships": {"TAGGED": {"role": "exclude"}}})
    record_part(store, SchemaPart("tags", excluded, ()))
    assert "TAGGED" not in {t[1] for t in export_training_snapshot(store).edges}


def test_no_declared_interaction_says_how_to_declare_one(store: GraphStore) -> None:
    from kgrec.errors import ConfigError
    from kgrec.graph.declared import record_part
    from kgrec.schema import SchemaDecl, SchemaPart

    store.query(MUSIC)
    record_part(store, SchemaPart("music", SchemaDecl(), (("User", "id"), ("Item", "id"))))
    with pytest.raises(ConfigError, match=r"TAGGED|LISTENED joins User and Item"):
        export_training_snapshot(store)


def test_a_graph_without_a_declared_schema_says_to_ingest(store: GraphStore) -> None:
    from kgrec.errors import ConfigError

    store.query(MUSIC)
    with pytest.raises(ConfigError, match="no declared schema: run `kgrec ingest"):
        export_training_snapshot(store)
