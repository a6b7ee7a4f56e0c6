"""Learned embeddings written back to a real Neo4j, with a vector index and the shipped query."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.graph import cypher
from kgrec.graph.embeddings import write_embeddings
from kgrec.graph.store import GraphStore

pytestmark = pytest.mark.neo4j


def test_embeddings_are_stored_indexed_and_queryable(store: GraphStore) -> None:
    store.query("UNWIND $ids AS id CREATE (:Item {id: id, title: 'film ' + toString(id)})", ids=[1, 2, 3, 4])
    keys = np.array([1, 2, 3, 4], dtype=np.int64)
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    seen: list[int] = []
    done = write_embeddings(store, "Item", "id", keys, vectors, batch_size=3, progress=seen.append)
    assert (done.written, done.total, done.dim, done.index) == (4, 4, 3, "item_embedding")
    assert seen == [3, 1]
    stored = store.query("MATCH (n:Item {id: 2}) RETURN n.embedding AS v")[0]["v"]
    assert stored == pytest.approx([0.9, 0.1, 0.0], abs=1e-6)
    rows = store.query(cypher.statement("browser/similar_items_learned"), itemId=1)
    assert [r["id"] for r in rows][:1] == [2]
    # a second write (retrained model) replaces the vectors and keeps one index
    write_embeddings(store, "Item", "id", keys, vectors[::-1].copy())
    rows = store.query(cypher.statement("browser/similar_items_learned"), itemId=4)
    assert rows[0]["id"] == 3


def test_keys_without_a_node_are_skipped(store: GraphStore) -> None:
    store.query("CREATE (:User {id: 7})")
    done = write_embeddings(store, "User", "id", np.array([7, 8]), np.ones((2, 4), dtype=np.float32))
    assert (done.written, done.total) == (1, 2)
