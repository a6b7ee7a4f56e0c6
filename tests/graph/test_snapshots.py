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
