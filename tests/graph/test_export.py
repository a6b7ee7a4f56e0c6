"""export_snapshot against a real Neo4j: exact arrays and id maps of a tiny graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.errors import ConfigError
from kgrec.graph.export import _merged, export_snapshot
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import Ingestor
from kgrec.snapshot import GraphSnapshot, column
from tests.conftest import write

pytestmark = pytest.mark.neo4j

SPEC = """
name = "tiny"
dataset = "tiny"

[[tables]]
file = "users.csv"
  [[tables.nodes]]
  label = "User"
  key = { column = "uid", type = "int" }

[[tables]]
file = "items.csv"
  [[tables.nodes]]
  label = "Item"
  labels = ["Film"]
  key = { column = "iid", type = "int" }
  properties = { title = "title" }

[[tables]]
file = "ratings.csv"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int" }
  end = { label = "Item", column = "item", type = "int" }
  properties = { rating = { column = "rating", type = "float", required = true } }

[[tables]]
file = "credits.csv"
  [[tables.relationships]]
  type = "DIRECTED_BY"
  start = { label = "Item", column = "item", type = "int" }
  end = { label = "Entity", column = "director", property = "iri", create = true }
  [[tables.relationships]]
  type = "MADE_BY"
  start = { label = "Item", column = "item", type = "int" }
  end = { label = "Studio", column = "studio", property = "name", create = true }
"""

TITLES = {10: "Memento", 20: "The Hurt Locker 🎬", 30: "Inception · é"}
RATINGS = [(3, 20, 5.0), (1, 30, 2.5), (2, 10, 1.0), (1, 10, 4.0)]
CREDITS = [(30, "http://e/nolan", "syncopy"), (10, "http://e/nolan", "newmarket"), (20, "http://e/bigelow", "voltage")]


def _graph(store: GraphStore, root: Path) -> None:
    write(root / "tiny" / "users.csv", "uid\n3\n1\n2\n")
    write(root / "tiny" / "items.csv", "iid,title\n" + "".join(f"{i},{t}\n" for i, t in TITLES.items()))
    write(root / "tiny" / "ratings.csv", "user,item,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r in RATINGS))
    write(root / "tiny" / "credits.csv", "item,director,studio\n" + "".join(f"{i},{d},{s}\n" for i, d, s in CREDITS))
    Ingestor(store, root).run(write(root / "tiny.toml", SPEC))
    # Several mapped labels: item 30 is also an Entity (with its iri), bigelow also an Item (without id).
    store.query("MATCH (i:Item {id: 30}) SET i:Entity, i.iri = 'http://e/item30'")
    store.query("MATCH (e:Entity {iri: 'http://e/bigelow'}) SET e:Item")


def _export(store: GraphStore, batch_size: int = 50_000, threads: int = 4) -> GraphSnapshot:
    return export_snapshot(
        store, node_props={"Item": ["title"]}, edge_props={"RATED": ["rating"]}, batch_size=batch_size, threads=threads
    )


def test_exports_exact_arrays_and_id_maps(store: GraphStore, tmp_path: Path) -> None:
    _graph(store, tmp_path)
    snap = _export(store)
    assert {k: v.tolist() for k, v in snap.node_keys.items()} == {
        "User": [1, 2, 3],
        "Item": [10, 20, 30],
        "Entity": ["http://e/bigelow", "http://e/nolan"],
    }
    assert snap.node_props["Item"]["title"].tolist() == [TITLES[10], TITLES[20], TITLES[30]]
    assert {k: v.tolist() for k, v in snap.edges.items()} == {
        ("User", "RATED", "Item"): [[0, 0, 1, 2], [0, 2, 0, 1]],
        ("Item", "DIRECTED_BY", "Entity"): [[0, 1, 2], [1, 0, 1]],
    }
    assert all(v.dtype == np.int64 for v in snap.edges.values())
    assert snap.edge_props[("User", "RATED", "Item")]["rating"].tolist() == [4.0, 2.5, 1.0, 5.0]
    assert snap.id_of("Entity", "http://e/nolan") == 1 and snap.key_of("Item", 2) == 30


def test_export_is_deterministic_and_independent_of_batch_size(store: GraphStore, tmp_path: Path) -> None:
    _graph(store, tmp_path)
    big = _export(store)
    assert _export(store) == big
    assert _export(store, batch_size=2) == big
    assert _export(store, batch_size=1) == big
    assert _export(store, batch_size=1, threads=1) == big  # groups one after the other
    assert GraphSnapshot.load(big.save(tmp_path / "snap.npz")) == big


def test_a_page_whose_end_nodes_are_all_of_no_exported_type_does_not_end_the_paging(
    store: GraphStore, tmp_path: Path
) -> None:
    _graph(store, tmp_path)
    store.query("MATCH (i:Item {id: 10}), (s:Studio {name: 'syncopy'}) CREATE (i)-[:SEE_ALSO]->(s)")
    store.query("MATCH (i:Item {id: 20}), (e:Entity {iri: 'http://e/nolan'}) CREATE (i)-[:SEE_ALSO]->(e)")
    for size in (1, 50_000):  # item 10's page holds only the Studio (skipped); item 20's comes after it
        assert _export(store, batch_size=size).edges[("Item", "SEE_ALSO", "Entity")].tolist() == [[1], [1]]


def test_empty_graph(store: GraphStore) -> None:
    snap = export_snapshot(store)
    assert snap.node_keys == {} and snap.edges == {}


def test_vectors_export_as_float32_matrices_with_nan_rows(store: GraphStore, tmp_path: Path) -> None:
    _graph(store, tmp_path)
    vecs = {10: [0.25, -1.5, 3.0], 30: [1e-3, 2.0, -0.125]}
    assert store.set_vectors("Item", "id", "feat_text", list(vecs.items())) == 2
    store.set_vectors("Item", "id", "feat_image", [(20, [1.0, 0.0])])
    snap = export_snapshot(
        store, node_props={"Item": ["title"]}, vectors={"Item": ["feat_text", "feat_image", "feat_audio"]}
    )
    text = snap.node_props["Item"]["feat_text"]
    assert text.dtype == np.float32 and text.shape == (3, 3)  # items 10, 20, 30
    assert text[0].tolist() == vecs[10] and np.isnan(text[1]).all() and np.allclose(text[2], vecs[30])
    image = snap.node_props["Item"]["feat_image"]
    assert image.shape == (3, 2) and image[1].tolist() == [1.0, 0.0] and np.isnan(image[[0, 2]]).all()
    assert snap.node_props["Item"]["feat_audio"].shape == (3, 0)  # no node has it
    assert snap.node_props["Item"]["title"].tolist() == [TITLES[10], TITLES[20], TITLES[30]]
    loaded = GraphSnapshot.load(snap.save(tmp_path / "snap.npz"))
    assert loaded == snap and loaded.node_props["Item"]["feat_text"].dtype == np.float32
    assert (
        export_snapshot(
            store,
            node_props={"Item": ["title"]},
            vectors=dict.fromkeys(["Item"], ["feat_text", "feat_image", "feat_audio"]),
            batch_size=1,
        )
        == snap
    )


def test_vector_export_refuses_what_is_not_a_vector(store: GraphStore, tmp_path: Path) -> None:
    _graph(store, tmp_path)
    with pytest.raises(ConfigError, match=r"Item.title: not a vector property"):
        export_snapshot(store, vectors={"Item": ["title"]})
    with pytest.raises(ConfigError, match="both as a value and as a vector"):
        export_snapshot(store, node_props={"Item": ["title"]}, vectors={"Item": ["title"]})
    store.set_vectors("Item", "id", "feat_text", [(10, [1.0, 2.0]), (20, [1.0, 2.0, 3.0])])
    with pytest.raises(ConfigError, match="one length"):
        export_snapshot(store, vectors={"Item": ["feat_text"]})


def test_pages_of_mixed_value_types_export_as_one_page_does(store: GraphStore, tmp_path: Path) -> None:
    """Edge property pages are columns of their own (an int page, a float page, a page of missing
    values); merged they give the column of all values at once, whatever the page size."""
    _graph(store, tmp_path)
    store.query("MATCH (:User {id: 2})-[r:RATED]->(:Item {id: 10}) SET r.rating = 1")  # an int among floats
    store.query("MATCH (:User {id: 3})-[r:RATED]->(:Item {id: 20}) REMOVE r.rating")  # missing: NaN
    whole = _export(store)
    rating = whole.edge_props[("User", "RATED", "Item")]["rating"]
    assert rating.dtype == np.float64 and rating[:3].tolist() == [4.0, 2.5, 1.0] and np.isnan(rating[3])
    for size in (1, 2):
        paged = _export(store, batch_size=size)
        assert {k: v.tolist() for k, v in paged.edges.items()} == {k: v.tolist() for k, v in whole.edges.items()}
        got = paged.edge_props[("User", "RATED", "Item")]["rating"]
        assert got.dtype == np.float64 and np.array_equal(got, rating, equal_nan=True)


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, 3, 4],
        [1, 2.5, None, 4],
        [None, None, 1.5, 2],
        ["a", None, "b", "c"],
        [True, False, True, True],
        [None, None, None, None],
    ],
)
def test_merged_pages_equal_the_column_of_all_values(values: list[object]) -> None:
    whole = column(values)
    for cut in (1, 2, 3):
        merged = _merged("X", "p", [column(values[:cut]), column(values[cut:])])
        assert merged.dtype == whole.dtype
        assert np.array_equal(merged, whole, equal_nan=whole.dtype.kind == "f")


def test_merged_pages_refuse_what_one_column_refuses() -> None:
    with pytest.raises(ValueError, match="mixed"):
        column([1, True])
    with pytest.raises(ConfigError, match="X.p: cannot store a column of mixed"):
        _merged("X", "p", [column([1]), column([True])])
