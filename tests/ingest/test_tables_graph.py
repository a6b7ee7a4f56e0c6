"""Tables as people export them, against a real Neo4j: missing columns, update-only nodes, counted relationships."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kgrec.errors import InputDataError
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import IngestOptions, Ingestor
from tests.conftest import write
from tests.ingest.killed import FailingStore, Interrupt

pytestmark = pytest.mark.neo4j

ARTISTS = """
name = "artists"
dataset = "fm"
[[tables]]
file = "artists.tsv.gz"
delimiter = "\\t"
quotechar = ""
  [[tables.nodes]]
  label = "Artist"
  key = { column = "id", type = "int" }
  properties = { name = "name" }
"""

TAGS = """
name = "tags"
dataset = "fm"
[[tables]]
file = "artist_tags.csv"
  [[tables.nodes]]
  label = "Artist"
  key = { column = "artist", type = "int" }
  create = false
  properties = { top_tag = "tag" }
"""

LISTENS = """
name = "listens"
dataset = "fm"
[[tables]]
file = "listens.csv"
  [[tables.relationships]]
  type = "LISTENED"
  start = { label = "User", column = "user", type = "int", create = true }
  end = { label = "Artist", column = "artist", type = "int" }
  count = "times"
  properties = { last = "when" }
"""

# user 1 listened to artist 1 three times, to artist 2 once; user 2 to artist 1 twice;
# artist 9 does not exist (skipped, not counted).
LISTENS_CSV = "user,artist,when\n1,1,a\n1,2,b\n2,1,c\n1,1,d\n9,9,e\n2,1,f\n1,1,g\n"
EXPECTED_TIMES = {(1, 1, 3, "g"), (1, 2, 1, "b"), (2, 1, 2, "f")}


def _artists(root: Path) -> Path:
    rows = 'id\tname\n1\t"Weird Al" Yankovic\n2\tLee "Scratch" Perry\n3\tAbba\n'
    write(root / "fm" / "artists.tsv.gz", gzip.compress(rows.encode()))
    return write(root / "artists.toml", ARTISTS)


def _times(store: GraphStore) -> set[tuple[int, int, int, str]]:
    rows = store.query(
        "MATCH (u:User)-[r:LISTENED]->(a:Artist) RETURN u.id AS u, a.id AS a, r.times AS n, r.last AS last"
    )
    return {(r["u"], r["a"], r["n"], r["last"]) for r in rows}


def test_compressed_table_with_bare_quotes_loads(store: GraphStore, tmp_path: Path) -> None:
    Ingestor(store, tmp_path).run(_artists(tmp_path))
    names = store.query("MATCH (a:Artist) RETURN a.id AS id, a.name AS name ORDER BY id")
    expected = [(1, '"Weird Al" Yankovic'), (2, 'Lee "Scratch" Perry'), (3, "Abba")]
    assert [(r["id"], r["name"]) for r in names] == expected


def test_missing_column_fails_before_writing_anything(store: GraphStore, tmp_path: Path) -> None:
    Ingestor(store, tmp_path).run(_artists(tmp_path))
    before = store.counts()
    write(tmp_path / "fm" / "listens.csv", "\ufeffuser,artist_id,when\r\n1,1,a\r\n")
    spec = write(tmp_path / "listens.toml", LISTENS)
    with pytest.raises(InputDataError) as e:
        Ingestor(store, tmp_path).run(spec)
    assert str(e.value) == (
        f"{tmp_path / 'fm' / 'listens.csv'}:1: missing column(s) 'artist'; the file has: 'user', 'artist_id', 'when'"
    )
    assert store.counts() == before
    assert store.checkpoint("listens/listens.csv") is None


def test_update_only_nodes_never_create_and_count_the_missing(store: GraphStore, tmp_path: Path) -> None:
    Ingestor(store, tmp_path).run(_artists(tmp_path))
    write(tmp_path / "fm" / "artist_tags.csv", "artist,tag\n1,parody\n3,pop\n7,rock\n8,jazz\n7,metal\n")
    report = Ingestor(store, tmp_path).run(write(tmp_path / "tags.toml", TAGS))
    assert store.counts().labels == {"Artist": 3}
    assert report.counts.nodes_created == {"Artist": 0}
    assert report.counts.nodes_missing == {"Artist": 3}
    tags = store.query("MATCH (a:Artist) RETURN a.id AS id, a.top_tag AS tag ORDER BY id")
    assert [(r["id"], r["tag"]) for r in tags] == [(1, "parody"), (2, None), (3, "pop")]


def test_counted_relationships_stay_right_on_rerun_and_force(store: GraphStore, tmp_path: Path) -> None:
    Ingestor(store, tmp_path).run(_artists(tmp_path))
    write(tmp_path / "fm" / "listens.csv", LISTENS_CSV)
    spec = write(tmp_path / "listens.toml", LISTENS)
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=2)).run(spec)
    assert _times(store) == EXPECTED_TIMES
    assert report.counts.rels_created == {"LISTENED": 3} and report.counts.rels_skipped == {"LISTENED": 1}
    Ingestor(store, tmp_path).run(spec)  # up to date: nothing rewritten
    assert _times(store) == EXPECTED_TIMES
    Ingestor(store, tmp_path, IngestOptions(batch_size=3, force=True)).run(spec)  # reloaded: recounted, not doubled
    assert _times(store) == EXPECTED_TIMES
    assert store.counts().types == {"LISTENED": 3}


def test_counted_relationships_stay_right_after_a_resumed_run(store: GraphStore, tmp_path: Path) -> None:
    Ingestor(store, tmp_path).run(_artists(tmp_path))
    write(tmp_path / "fm" / "listens.csv", LISTENS_CSV)
    spec = write(tmp_path / "listens.toml", LISTENS)
    with pytest.raises(Interrupt):
        Ingestor(FailingStore(store, after=2), tmp_path, IngestOptions(batch_size=2)).run(spec)  # type: ignore[arg-type]
    cp = store.checkpoint("listens/listens.csv")
    assert cp is not None and not cp.complete and cp.records_done == 4
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=2)).run(spec)
    assert report.units[0].resumed_from == 4
    assert _times(store) == EXPECTED_TIMES
