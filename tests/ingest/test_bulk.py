"""``kgrec ingest --bulk`` against a real Neo4j: the same graph as the transactional path, checkpoints, refusals.

Bulk stops and starts the test instance itself (neo4j-admin needs its files);
it is running again after each test, for the tests that follow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kgrec.errors import ConfigError, InputDataError
from kgrec.graph.server import LocalNeo4j
from kgrec.graph.store import GraphStore
from kgrec.ingest.bulk import BulkLoader
from kgrec.ingest.load import IngestOptions, Ingestor
from kgrec.settings import Settings
from tests.conftest import write

pytestmark = pytest.mark.neo4j

SPEC = """
name = "shop"
dataset = "shop"

[link]
file = "links.csv"
item_column = "item"
entity_column = "iri"
store_as = "kg_iri"

[[tables]]
file = "users.csv"
  [[tables.nodes]]
  label = "User"
  key = { column = "uid", type = "int" }
  properties = { age = { column = "age", type = "int" }, name = "name", joined = { column = "joined", type = "date" } }

[[tables]]
file = "items.csv"
  [[tables.nodes]]
  label = "Item"
  labels = ["Product"]
  key = { column = "iid", type = "int" }
  properties.title = "title"
  properties.price = { column = "price", type = "float" }
  properties.new = { column = "new", type = "bool" }

[[tables]]
file = "extra.csv"
  [[tables.nodes]]
  label = "Item"
  key = { column = "iid", type = "int" }
  create = false
  properties = { colour = "colour" }

[[tables]]
file = "ratings.csv"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int" }
  end = { label = "Item", column = "item", type = "int" }
  properties = { rating = { column = "rating", type = "float", required = true } }

[[tables]]
file = "tags.csv"
  [[tables.relationships]]
  type = "TAGGED"
  count = "times"
  start = { label = "User", column = "user", type = "int" }
  end = { label = "Tag", column = "tag", create = true }

[[rdf]]
file = "kg.ttl"
type_labels = { "http://ex.org/Person" = "Person" }
"""

KG = """@prefix ex: <http://ex.org/> .
ex:film1 ex:director ex:alice ; ex:name "Film one"@en , "Film un"@fr ; ex:genre "drama" , "crime" .
ex:film2 ex:director ex:alice ; ex:year 1999 .
ex:alice a ex:Person ; ex:name "Alice" ; ex:born "1960-05-01"^^<http://www.w3.org/2001/XMLSchema#date> .
ex:bob a ex:Person , ex:Critic ; ex:knows ex:alice .
"""


def _dataset(root: Path, ratings: str | None = None) -> Path:
    d = root / "shop"
    write(
        d / "users.csv",
        "uid,age,name,joined\n" + "".join(f"{u},{20 + u},user {u},2020-01-{u:02d}\n" for u in range(1, 9)),
    )
    items = "".join(f'{i},"item, {i}",{i * 1.5},{"true" if i % 2 else "false"}\n' for i in range(1, 7))
    write(d / "items.csv", "iid,title,price,new\n" + items + '7,"two\nlines",,\n')
    write(d / "extra.csv", "iid,colour\n1,red\n3,blue\n99,green\n")
    if ratings is None:
        rows = [f"{u},{i},{(u * i) % 5 + 1}" for u in range(1, 9) for i in range(1, 8) if (u + i) % 3 == 0]
        rows += ["1,2,4", "2,9999,3"]  # 1->2 stated twice (one relationship), item 9999 does not exist
        ratings = "user,item,rating\n" + "\n".join(rows) + "\n"
    write(d / "ratings.csv", ratings)
    write(d / "tags.csv", "user,tag\n1,funny\n1,funny\n1,sad\n2,funny\n")
    write(d / "kg.ttl", KG)
    write(d / "links.csv", "item,iri\n1,http://ex.org/film1\n2,http://ex.org/film2\n")
    return write(root / "shop.toml", SPEC)


def _graph(store: GraphStore) -> tuple[list[str], list[str]]:
    """Every node (labels, properties) and relationship (ends, type, properties), as sorted text."""
    nodes = store.query(
        "MATCH (n) WHERE NOT n:KgrecCheckpoint AND NOT n:KgrecSchema RETURN labels(n) AS labels, properties(n) AS props"
    )
    rels = store.query(
        "MATCH (a)-[r]->(b) RETURN coalesce(a.id, a.iri) AS a, type(r) AS t, coalesce(b.id, b.iri) AS b, "
        "properties(r) AS props"
    )
    return sorted(_text(n) for n in nodes), sorted(_text(r) for r in rels)


def _text(row: dict[str, Any]) -> str:
    """A row as text; an empty list property counts as absent (bulk cannot write one: see docs/ingestion.md)."""
    row = {k: {p: v for p, v in x.items() if v != []} if isinstance(x, dict) else x for k, x in row.items()}
    return repr(
        {k: sorted(v.items()) if isinstance(v, dict) else sorted(v) if k == "labels" else v for k, v in row.items()}
    )


def _bulk(settings: Settings, data: Path, spec: Path, **options: Any) -> Any:
    return BulkLoader(settings, data, IngestOptions(**options)).run([spec])


def test_bulk_gives_the_transactional_graph_and_checkpoints(
    store: GraphStore, neo4j_settings: Settings, tmp_path: Path
) -> None:
    spec = _dataset(tmp_path)
    Ingestor(store, tmp_path).run(spec)
    expected = _graph(store)
    store.delete_all()

    report = _bulk(neo4j_settings, tmp_path, spec, batch_size=5)
    with GraphStore.connect(neo4j_settings) as after:
        assert _graph(after) == expected
        assert after.query("MATCH (:User {id: 1})-[r:TAGGED]->(:Tag {id: 'funny'}) RETURN r.times AS n") == [{"n": 2}]
        assert report.rels_skipped == 1 and report.nodes_missing == {"Item": 1}
        names = {r["name"] for r in after.query("SHOW CONSTRAINTS YIELD name RETURN name")}
        assert {"kgrec_User_id", "kgrec_Item_id", "kgrec_Tag_id", "kgrec_Entity_iri"} <= names
        assert set(after.declared()) == {"shop"}

        again = Ingestor(after, tmp_path).run(spec)  # the checkpoints make a plain ingest a no-op
        assert all(u.up_to_date for u in again.units) and not any(again.counts.nodes_created.values())
        assert _graph(after) == expected

        write(tmp_path / "shop" / "tags.csv", "user,tag\n1,funny\n3,happy\n")  # a changed file reloads alone
        changed = Ingestor(after, tmp_path).run(spec)
        assert [u.unit for u in changed.units if not u.up_to_date] == ["shop/tags.csv"]
        assert {k: v for k, v in changed.counts.nodes_created.items() if v} == {"Tag": 1}


def test_bulk_refuses_a_non_empty_database(store: GraphStore, neo4j_settings: Settings, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    Ingestor(store, tmp_path).run(spec)
    before = _graph(store)
    with pytest.raises(ConfigError, match="empty database only.*use plain `kgrec ingest`"):
        _bulk(neo4j_settings, tmp_path, spec)
    assert _graph(store) == before


def test_bulk_refuses_a_remote_server(neo4j_settings: Settings, tmp_path: Path) -> None:
    remote = neo4j_settings.model_copy(update={"neo4j_uri": "bolt://graph.example.org:7687"})
    with pytest.raises(ConfigError, match="local Neo4j server.*use plain `kgrec ingest`"):
        _bulk(remote, tmp_path, _dataset(tmp_path))


def test_a_bad_record_imports_nothing(store: GraphStore, neo4j_settings: Settings, tmp_path: Path) -> None:
    spec = _dataset(tmp_path, ratings="user,item,rating\n1,2,4\n2,3,lots\n")
    pid = LocalNeo4j(neo4j_settings).status().pid
    with pytest.raises(InputDataError, match=r"ratings.csv:3: .*not a number: 'lots'"):
        _bulk(neo4j_settings, tmp_path, spec)
    assert LocalNeo4j(neo4j_settings).status().pid == pid  # never stopped for an import
    assert store.counts().nodes == 0
    assert store.checkpoint("shop/users.csv") is None
