"""``kgrec ingest --sync`` against a real Neo4j: sources edited between two runs, kills during a sync."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kgrec.graph.store import GraphStore
from kgrec.ingest.load import IngestOptions, Ingestor
from kgrec.ingest.sync import sync
from tests.conftest import write
from tests.ingest.killed import FailingStore, Interrupt

pytestmark = pytest.mark.neo4j

RATINGS_SPEC = """
name = "ratings"
dataset = "shop"
[[tables]]
file = "ratings.csv"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int", create = true }
  end = { label = "Item", column = "item", type = "int" }
  properties = { rating = { column = "rating", type = "int" } }
[schema.relationships.RATED]
role = "interaction"
weight = "rating"
scale = 5
"""

# A knowledge source that also (wrongly) states a RATED: its sync must never delete one.
SHOP_SPEC = """
name = "shop"
dataset = "shop"
[[tables]]
file = "items.csv"
  [[tables.nodes]]
  label = "Item"
  key = { column = "id", type = "int" }
  properties = { title = "title", price = { column = "price", type = "float" } }
[[tables]]
file = "tags.csv"
  [[tables.relationships]]
  type = "TAGGED"
  start = { label = "Item", column = "item", type = "int" }
  end = { label = "Tag", column = "tag", property = "name", create = true }
[[tables]]
file = "picks.csv"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int", create = true }
  end = { label = "Item", column = "item", type = "int" }
"""

ITEMS = "id,title,price\n1,Lamp,10\n2,Desk,99\n3,Chair,45\n"
TAGS = "item,tag\n1,light\n1,old\n2,wood\n3,wood\n"
PICKS = "user,item\n1,2\n2,1\n"
# Edited: item 3 gone, 2 renamed, 1 lost its price, 4 new; tag 'old' gone, (2, oak) new; one pick gone.
ITEMS_2 = "id,title,price\n1,Lamp,\n2,Standing desk,99\n4,Stool,20\n"
TAGS_2 = "item,tag\n1,light\n2,wood\n2,oak\n4,wood\n"
PICKS_2 = "user,item\n1,2\n"


def _shop(root: Path, items: str = ITEMS, tags: str = TAGS, picks: str = PICKS) -> Path:
    write(root / "shop" / "items.csv", items)
    write(root / "shop" / "tags.csv", tags)
    write(root / "shop" / "picks.csv", picks)
    write(root / "shop" / "ratings.csv", "user,item,rating\n1,3,4\n2,1,5\n")
    write(root / "ratings.toml", RATINGS_SPEC)
    return write(root / "shop.toml", SHOP_SPEC)


def _items(store: GraphStore) -> dict[int, dict[str, Any]]:
    rows = store.query("MATCH (i:Item) RETURN i.id AS id, i.title AS title, i.price AS price")
    return {r["id"]: {"title": r["title"], "price": r["price"]} for r in rows}


def _rels(store: GraphStore, rel_type: str) -> set[tuple[Any, Any]]:
    q = f"MATCH (a)-[:{rel_type}]->(b) RETURN coalesce(a.id, a.iri) AS a, coalesce(b.id, b.iri, b.name) AS b"
    return {(r["a"], r["b"]) for r in store.query(q)}


def _tags(store: GraphStore) -> set[str]:
    return {r["name"] for r in store.query("MATCH (t:Tag) RETURN t.name AS name")}


def _loaded(store: GraphStore, root: Path, **options: Any) -> Ingestor:
    ingestor = Ingestor(store, root, IngestOptions(**options))
    sync(store, ingestor, _shop(root))
    ingestor.run(root / "ratings.toml")
    return ingestor


def _edit(root: Path) -> None:
    _shop(root, ITEMS_2, TAGS_2, PICKS_2)


def _assert_synced(store: GraphStore) -> None:
    assert _items(store) == {
        1: {"title": "Lamp", "price": None},  # the price the source no longer states is gone
        2: {"title": "Standing desk", "price": 99.0},
        3: {"title": None, "price": None},  # still rated (another source refers to it): kept, bare
        4: {"title": "Stool", "price": 20.0},
    }
    assert _rels(store, "TAGGED") == {(1, "light"), (2, "wood"), (2, "oak"), (4, "wood")}
    assert _tags(store) == {"light", "wood", "oak"}  # 'old' is stated by nothing and linked to nothing
    # The knowledge source dropped its pick (2, 1), but RATED is an interaction it does not declare.
    assert _rels(store, "RATED") == {(1, 3), (2, 1), (1, 2)}


def test_sync_makes_the_graph_what_the_edited_table_says(store: GraphStore, tmp_path: Path) -> None:
    ingestor = _loaded(store, tmp_path, batch_size=2)
    assert _items(store)[3] == {"title": "Chair", "price": 45.0} and "old" in _tags(store)
    _edit(tmp_path)
    report = sync(store, ingestor, tmp_path / "shop.toml")
    _assert_synced(store)
    assert report.rels_deleted == 2 and report.nodes_deleted == 1  # (1, old), (3, wood); Tag old
    assert report.protected == ("RATED",) and not report.resumed
    sources = store.query("MATCH (:User {id: 2})-[r:RATED]->(:Item {id: 1}) RETURN r.kgrec_sources AS s")
    assert sources == [{"s": ["ratings"]}]  # stated by both before; the shop no longer states it
    again = sync(store, ingestor, tmp_path / "shop.toml")
    assert again.rels_deleted == 0 and again.nodes_deleted == 0
    _assert_synced(store)


def test_relationships_record_every_source_that_stated_them(store: GraphStore, tmp_path: Path) -> None:
    _loaded(store, tmp_path)
    rows = store.query("MATCH (a)-[r:RATED]->(b) RETURN a.id AS u, b.id AS i, r.kgrec_sources AS s")
    assert {(r["u"], r["i"]): sorted(r["s"]) for r in rows} == {
        (1, 3): ["ratings"],
        (2, 1): ["ratings", "shop"],
        (1, 2): ["shop"],
    }
    tag = store.query("MATCH (t:Tag {name: 'wood'}) RETURN t.kgrec_sources AS s")
    assert tag == [{"s": ["shop"]}]  # created as an endpoint: the shop states it


def test_plain_ingest_of_an_edited_source_still_removes_nothing(store: GraphStore, tmp_path: Path) -> None:
    ingestor = _loaded(store, tmp_path)
    _edit(tmp_path)
    ingestor.run(tmp_path / "shop.toml")
    assert set(_items(store)) == {1, 2, 3, 4} and _items(store)[3]["title"] == "Chair"
    assert "old" in _tags(store) and (2, 1) in _rels(store, "RATED")


def test_the_interactions_own_source_deletes_its_removed_ones(store: GraphStore, tmp_path: Path) -> None:
    ingestor = _loaded(store, tmp_path)
    sync(store, ingestor, tmp_path / "ratings.toml")
    write(tmp_path / "shop" / "ratings.csv", "user,item,rating\n2,1,5\n")
    report = sync(store, ingestor, tmp_path / "ratings.toml")
    assert report.protected == () and _rels(store, "RATED") == {(2, 1), (1, 2)}


def test_a_kill_during_the_load_is_finished_by_the_rerun(store: GraphStore, tmp_path: Path) -> None:
    ingestor = _loaded(store, tmp_path, batch_size=2)
    _edit(tmp_path)
    dying = Ingestor(FailingStore(store, after=3), tmp_path, IngestOptions(batch_size=2))  # type: ignore[arg-type]
    with pytest.raises(Interrupt):
        sync(store, dying, tmp_path / "shop.toml")
    run, phase = store.sync_state("shop")  # type: ignore[misc]
    assert phase == "load" and "old" in _tags(store)  # nothing swept before the load completes
    report = sync(store, ingestor, tmp_path / "shop.toml")
    assert report.resumed and report.run == run
    assert any(u.resumed_from > 0 or u.up_to_date for u in report.load.units)
    _assert_synced(store)
    assert store.sync_state("shop") == (run, "done")


class _DiesInSweep:
    """Wraps a store and dies before the sweep step ``step``, like a killed process."""

    def __init__(self, store: GraphStore, step: str) -> None:
        self._store, self._step = store, step

    def sweep(self, step: str, *args: Any, **kw: Any) -> int:
        if step == self._step:
            raise Interrupt
        return self._store.sweep(step, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize("step", ["nodes", "orphans"])
def test_a_kill_during_the_sweep_is_finished_by_the_rerun(store: GraphStore, tmp_path: Path, step: str) -> None:
    ingestor = _loaded(store, tmp_path, batch_size=2)
    _edit(tmp_path)
    with pytest.raises(Interrupt):
        sync(_DiesInSweep(store, step), ingestor, tmp_path / "shop.toml")  # type: ignore[arg-type]
    run, phase = store.sync_state("shop")  # type: ignore[misc]
    assert phase == "sweep" and (1, "old") not in _rels(store, "TAGGED")  # the first step had run
    report = sync(store, ingestor, tmp_path / "shop.toml")
    assert report.resumed and report.run == run
    assert all(u.up_to_date for u in report.load.units)  # the load is not redone
    _assert_synced(store)


def test_a_source_edited_after_a_killed_sync_starts_a_new_run(store: GraphStore, tmp_path: Path) -> None:
    ingestor = _loaded(store, tmp_path, batch_size=2)
    dying = Ingestor(FailingStore(store, after=2), tmp_path, IngestOptions(batch_size=2))  # type: ignore[arg-type]
    with pytest.raises(Interrupt):
        sync(store, dying, tmp_path / "shop.toml")
    run, _ = store.sync_state("shop")  # type: ignore[misc]
    _edit(tmp_path)
    report = sync(store, ingestor, tmp_path / "shop.toml")
    assert report.run != run and not report.resumed
    _assert_synced(store)


def test_relationships_from_before_provenance_are_kept(store: GraphStore, tmp_path: Path) -> None:
    ingestor = _loaded(store, tmp_path)
    store.query("MATCH (a:Item {id: 3}), (t:Tag {name: 'light'}) CREATE (a)-[:TAGGED]->(t)")  # no kgrec_sources
    _edit(tmp_path)
    sync(store, ingestor, tmp_path / "shop.toml")
    assert (3, "light") in _rels(store, "TAGGED")


E = "http://e/"
KG_SPEC = 'name = "{name}"\ndataset = "kg"\n[[rdf]]\nfile = "{name}.nt"\n'
KG = f"""<{E}a> <{E}knows> <{E}b> .
<{E}a> <{E}name> "A" .
<{E}b> <{E}name> "B" .
<{E}b> <{E}age> "7"^^<http://www.w3.org/2001/XMLSchema#integer> .
<{E}c> <{E}name> "C" .
<{E}c> <{E}knows> <{E}a> .
<{E}d> <{E}name> "D" .
<{E}d> <{E}knows> <{E}a> .
"""
# Edited: a's name changed, b lost its age, c and d gone entirely, a new triple a -> e.
KG_2 = f"""<{E}a> <{E}knows> <{E}b> .
<{E}a> <{E}name> "A2" .
<{E}b> <{E}name> "B" .
<{E}a> <{E}likes> <{E}e> .
"""
# Another source refers to d.
OTHER = f"<{E}x> <{E}knows> <{E}d> .\n"


def _entities(store: GraphStore) -> dict[str, dict[str, Any]]:
    rows = store.query("MATCH (n:Entity) RETURN n.iri AS iri, n.name AS name, n.age AS age")
    return {r["iri"].removeprefix(E): {"name": r["name"], "age": r["age"]} for r in rows}


def test_sync_makes_the_graph_what_the_edited_rdf_says(store: GraphStore, tmp_path: Path) -> None:
    for name, text in (("kg", KG), ("other", OTHER)):
        write(tmp_path / "kg" / f"{name}.nt", text)
        write(tmp_path / f"{name}.toml", KG_SPEC.format(name=name))
    ingestor = Ingestor(store, tmp_path, IngestOptions(batch_size=2))
    sync(store, ingestor, tmp_path / "kg.toml")
    ingestor.run(tmp_path / "other.toml")
    assert set(_entities(store)) == {"a", "b", "c", "d", "x"}
    write(tmp_path / "kg" / "kg.nt", KG_2)
    report = sync(store, ingestor, tmp_path / "kg.toml")
    assert _entities(store) == {
        "a": {"name": "A2", "age": None},
        "b": {"name": "B", "age": None},
        "d": {"name": None, "age": None},  # the other source states d: kept, without kg's name
        "e": {"name": None, "age": None},
        "x": {"name": None, "age": None},
    }
    assert _rels(store, "KNOWS") == {(E + "a", E + "b"), (E + "x", E + "d")}
    assert _rels(store, "LIKES") == {(E + "a", E + "e")}
    assert report.rels_deleted == 2 and report.nodes_deleted == 1  # c -> a, d -> a; c


BIG_SPEC = """
name = "big"
dataset = "big"
[[tables]]
file = "links.csv"
  [[tables.relationships]]
  type = "LINKS"
  start = { label = "Page", column = "a", type = "int", create = true }
  end = { label = "Page", column = "b", type = "int", create = true }
"""


def _links(n: int, drop: int | None) -> tuple[str, set[tuple[int, int]]]:
    pairs = [(i, (i * 7 + 1) % n) for i in range(n) if drop is None or i % drop]
    return "a,b\n" + "".join(f"{a},{b}\n" for a, b in pairs), set(pairs)


def test_kgrec_ingest_sync_killed_with_sigkill_is_finished_by_the_rerun(store: GraphStore, tmp_path: Path) -> None:
    from tests.cli.test_ingest_cli import _env, _kgrec

    n = 30_000
    text, _ = _links(n, drop=None)  # every link
    write(tmp_path / "big" / "links.csv", text)
    spec = write(tmp_path / "big.toml", BIG_SPEC)
    first = _kgrec("ingest", "--sync", "--no-progress", str(spec), data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "big: synced: 0 relationship(s) and 0 node(s) no longer stated were deleted" in first.stdout
    old_run, _ = store.sync_state("big")  # type: ignore[misc]
    text, expected = _links(n, drop=10)  # every tenth link gone
    write(tmp_path / "big" / "links.csv", text)
    cmd = [
        sys.executable,
        "-m",
        "kgrec.cli.main",
        "ingest",
        "--sync",
        "--no-progress",
        "--batch-size",
        "500",
        str(spec),
    ]
    proc = subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            cp, state = store.checkpoint("big/links.csv"), store.sync_state("big")
            new = state is not None and state[0] != old_run
            if new and cp is not None and cp.sync == state[0] and cp.records_done >= 5_000:  # type: ignore[index]
                break
            assert proc.poll() is None, "the run ended before it could be interrupted"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert store.counts().types == {"LINKS": n}  # killed in the load: nothing swept yet
    result = _kgrec("ingest", "--sync", "--no-progress", "--json", str(spec), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sync"]["resumed"] and report["units"][0]["resumed_from"] >= 5_000
    assert report["sync"]["relationships_deleted"] == n - len(expected)
    assert _rels(store, "LINKS") == expected
    orphans = store.query("MATCH (p:Page) WHERE NOT EXISTS { (p)--() } RETURN count(p) AS c")
    assert orphans == [{"c": 0}]  # pages only the dropped links stated are gone
