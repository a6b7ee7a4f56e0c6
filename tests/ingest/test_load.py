"""Ingestion against a real Neo4j: counts, idempotency, resume, bad input, hostile values."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kgrec.errors import InputDataError
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import IngestOptions, Ingestor
from tests.conftest import write
from tests.ingest.killed import FailingStore, Interrupt

pytestmark = pytest.mark.neo4j

SPEC = """
name = "tiny"
dataset = "tiny"

[[tables]]
file = "users.csv"
columns = ["uid", "age", "name"]
  [[tables.nodes]]
  label = "User"
  key = { column = "uid", type = "int" }
  properties = { age = { column = "age", type = "int" }, name = "name" }

[[tables]]
file = "items.tsv"
delimiter = "\\t"
header = false
columns = ["iid", "title"]
  [[tables.nodes]]
  label = "Item"
  key = { column = "iid", type = "int" }
  properties = { title = "title" }

[[tables]]
file = "ratings.csv"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int" }
  end = { label = "Item", column = "item", type = "int" }
  properties = { rating = { column = "rating", type = "float", required = true } }
"""


def _dataset(root: Path, n_users: int = 30, n_items: int = 20, ratings: str | None = None) -> Path:
    write(
        root / "tiny" / "users.csv",
        "uid,age,name\n" + "".join(f"{u},{20 + u},user {u}\n" for u in range(1, n_users + 1)),
    )
    write(root / "tiny" / "items.tsv", "".join(f"{i}\titem {i}\n" for i in range(1, n_items + 1)))
    if ratings is None:
        ratings = "user,item,rating\n" + "".join(
            f"{u},{i},{(u * i) % 5 + 1}\n"
            for u in range(1, n_users + 1)
            for i in range(1, n_items + 1)
            if (u + i) % 3 == 0
        )
    write(root / "tiny" / "ratings.csv", ratings)
    return write(root / "tiny.toml", SPEC)


def _expected_ratings(n_users: int = 30, n_items: int = 20) -> int:
    return sum(1 for u in range(1, n_users + 1) for i in range(1, n_items + 1) if (u + i) % 3 == 0)


def _snapshot(store: GraphStore) -> tuple[dict[str, int], dict[str, int]]:
    c = store.counts()
    return c.labels, c.types


def test_loads_exact_counts_and_is_idempotent(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=50)).run(spec)
    assert report.counts.nodes_created == {"User": 30, "Item": 20}
    assert _snapshot(store) == ({"User": 30, "Item": 20}, {"RATED": _expected_ratings()})
    again = Ingestor(store, tmp_path).run(spec)
    assert all(u.up_to_date for u in again.units)
    forced = Ingestor(store, tmp_path, IngestOptions(force=True, batch_size=7)).run(spec)
    assert forced.counts.nodes_created.get("User", 0) == 0 and forced.counts.rels_created.get("RATED", 0) == 0
    assert _snapshot(store) == ({"User": 30, "Item": 20}, {"RATED": _expected_ratings()})
    row = store.query(
        "MATCH (u:User {id: 7})-[r:RATED]->(i:Item {id: 2}) RETURN u.age AS age, u.name AS name, r.rating AS rating"
    )
    assert row == [{"age": 27, "name": "user 7", "rating": float(7 * 2 % 5 + 1)}]


def test_resumes_after_interruption_without_duplicates(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    with pytest.raises(Interrupt):
        Ingestor(FailingStore(store, after=12), tmp_path, IngestOptions(batch_size=10)).run(spec)  # type: ignore[arg-type]
    partial = store.counts().types.get("RATED", 0)
    assert 0 < partial < _expected_ratings()
    cp = store.checkpoint("tiny/ratings.csv")
    assert cp is not None and cp.create and cp.rels_written == partial  # the first load creates
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=10)).run(spec)
    ratings = next(u for u in report.units if u.unit.endswith("ratings.csv"))
    assert ratings.resumed_from > 0
    assert _snapshot(store) == ({"User": 30, "Item": 20}, {"RATED": _expected_ratings()})
    assert _duplicates(store) == 0
    cp = store.checkpoint("tiny/ratings.csv")
    assert cp is not None and cp.complete and cp.create and cp.rels_written == _expected_ratings()


def _duplicates(store: GraphStore) -> int:
    rows = store.query("MATCH (u:User)-[r:RATED]->(i:Item) WITH u, i, count(r) AS n WHERE n > 1 RETURN count(*) AS d")
    return int(rows[0]["d"])


OTHER_SPEC = """
name = "other"
dataset = "tiny"
[[tables]]
file = "more.csv"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int" }
  end = { label = "Item", column = "item", type = "int" }
  properties = { rating = { column = "rating", type = "float" } }
"""


def test_resume_merges_when_another_source_wrote_the_type_meanwhile(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    with pytest.raises(Interrupt):
        Ingestor(FailingStore(store, after=12), tmp_path, IngestOptions(batch_size=10)).run(spec)  # type: ignore[arg-type]
    # Ratings the interrupted load has not reached yet, written by another source in between.
    write(tmp_path / "tiny" / "more.csv", "user,item,rating\n30,15,1\n29,19,2\n")
    Ingestor(store, tmp_path).run(write(tmp_path / "other.toml", OTHER_SPEC))
    Ingestor(store, tmp_path, IngestOptions(batch_size=10)).run(spec)
    cp = store.checkpoint("tiny/ratings.csv")
    assert cp is not None and cp.complete and not cp.create
    assert store.counts().types == {"RATED": _expected_ratings()} and _duplicates(store) == 0


def test_first_load_creates_and_a_forced_reload_merges(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    first = Ingestor(store, tmp_path, IngestOptions(batch_size=25)).run(spec)
    assert first.counts.rels_created == {"RATED": _expected_ratings()}
    assert store.checkpoint("tiny/ratings.csv").create  # type: ignore[union-attr]
    forced = Ingestor(store, tmp_path, IngestOptions(force=True, batch_size=25)).run(spec)
    assert forced.counts.rels_created.get("RATED", 0) == 0
    assert not store.checkpoint("tiny/ratings.csv").create  # type: ignore[union-attr]
    assert store.counts().types == {"RATED": _expected_ratings()} and _duplicates(store) == 0


def test_a_source_stating_a_relationship_twice_still_gives_one(store: GraphStore, tmp_path: Path) -> None:
    ratings = "user,item,rating\n1,1,5\n2,2,4\n1,1,3\n"  # (1, 1) twice, in different batches
    spec = _dataset(tmp_path, ratings=ratings)
    Ingestor(store, tmp_path, IngestOptions(batch_size=2)).run(spec)
    assert store.counts().types == {"RATED": 2}
    assert not store.checkpoint("tiny/ratings.csv").create  # type: ignore[union-attr]
    rows = store.query("MATCH (:User {id: 1})-[r:RATED]->(:Item {id: 1}) RETURN r.rating AS rating")
    assert rows == [{"rating": 3.0}]  # the last statement wins, as with MERGE ... SET


def test_relationships_already_in_the_graph_are_merged(store: GraphStore, tmp_path: Path) -> None:
    write(tmp_path / "tiny" / "more.csv", "user,item,rating\n1,2,1\n7,3,1\n")  # (1, 2) is in ratings.csv
    spec = _dataset(tmp_path)
    Ingestor(store, tmp_path).run(write(tmp_path / "other.toml", OTHER_SPEC))  # no users yet: skipped
    assert store.counts().types == {}
    Ingestor(store, tmp_path).run(spec)
    Ingestor(store, tmp_path, IngestOptions(force=True)).run(tmp_path / "other.toml")
    assert store.counts().types == {"RATED": _expected_ratings() + 1} and _duplicates(store) == 0
    write(tmp_path / "tiny" / "more.csv", "user,item,rating\n1,2,1\n8,2,1\n")  # changed file, first load
    Ingestor(store, tmp_path).run(tmp_path / "other.toml")
    assert store.counts().types == {"RATED": _expected_ratings() + 2} and _duplicates(store) == 0


def test_spilled_batches_load_the_same_graph(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    spill = tmp_path / "spill"
    spill.mkdir()
    options = IngestOptions(batch_size=20, memory_rows=30, spill_dir=spill)
    Ingestor(store, tmp_path, options).run(spec)
    assert _snapshot(store) == ({"User": 30, "Item": 20}, {"RATED": _expected_ratings()})
    row = store.query("MATCH (:User {id: 7})-[r:RATED]->(:Item {id: 2}) RETURN r.rating AS rating")
    assert row == [{"rating": float(7 * 2 % 5 + 1)}]
    assert list(spill.iterdir()) == []


BAD_RATINGS = {
    "wrong field count": ("user,item,rating\n1,1,5\n2,2\n", 3, "expected 3 fields, found 2"),
    "unparsable number": ("user,item,rating\n1,1,5\n2,2,five\n", 3, "not a number: 'five'"),
    "missing key": ("user,item,rating\n1,1,5\n,2,4\n", 3, "missing key in column 'user'"),
    "invalid encoding": (b"user,item,rating\n1,1,5\n2,2,4\xff\n", 3, "invalid byte sequence"),
}


@pytest.mark.parametrize("case", sorted(BAD_RATINGS))
def test_bad_input_names_file_and_line_and_writes_nothing(store: GraphStore, tmp_path: Path, case: str) -> None:
    ratings, line, reason = BAD_RATINGS[case]
    spec = _dataset(tmp_path, ratings=ratings)  # type: ignore[arg-type]
    before = _snapshot(store)
    with pytest.raises(InputDataError) as e:
        Ingestor(store, tmp_path).run(spec)
    bad = e.value.records[0]
    assert bad.file.endswith("ratings.csv") and bad.line == line and reason in bad.reason
    assert f"ratings.csv:{line}: " in str(e.value)
    assert _snapshot(store) == before  # users and items of the same spec were not written either


def test_skip_bad_rows_writes_good_ones_and_reports_each(store: GraphStore, tmp_path: Path) -> None:
    ratings = "user,item,rating\n1,1,5\n2,2\n3,3,x\n4,4,4\n,5,1\n"
    spec = _dataset(tmp_path, ratings=ratings)
    rejects = tmp_path / "rejects.csv"
    report = Ingestor(store, tmp_path, IngestOptions(skip_bad=True, rejects=rejects)).run(spec)
    assert [(b.line, b.reason) for b in report.bad] == [
        (3, "expected 3 fields, found 2"),
        (4, "column 'rating': not a number: 'x'"),
        (6, "missing key in column 'user'"),
    ]
    assert store.counts().types == {"RATED": 2}
    rows = list(csv.DictReader(rejects.open()))
    assert [r["line"] for r in rows] == ["3", "4", "6"] and rows[0]["record"] == "2,2"


HOSTILE = [
    'O\'Brien "quoted"',
    "`}) MATCH (n) DETACH DELETE n //",
    "{rows: $rows}",
    "RETURN 1; DROP CONSTRAINT x",
    "日本語 · émoji 🎬 \u202e",
    "x" * 200_000,
]


def test_hostile_values_are_stored_verbatim(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path, n_users=len(HOSTILE))
    path = tmp_path / "tiny" / "users.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["uid", "age", "name"])
        for i, value in enumerate(HOSTILE, start=1):
            w.writerow([i, 30, value])
    Ingestor(store, tmp_path).run(spec)
    names = store.query("MATCH (u:User) RETURN u.id AS id, u.name AS name ORDER BY id")
    assert [r["name"] for r in names] == HOSTILE
    assert store.counts().labels["User"] == len(HOSTILE)


def test_rdf_syntax_error_writes_nothing(store: GraphStore, tmp_path: Path) -> None:
    write(tmp_path / "kg" / "kg.ttl", '@prefix ex: <http://e/> .\nex:a ex:knows ex:b .\nex:b ex:knows "oops .\n')
    spec = write(tmp_path / "kg.toml", 'name = "kg"\ndataset = "kg"\n[[rdf]]\nfile = "kg.ttl"\n')
    with pytest.raises(InputDataError, match=r"kg.ttl:3: invalid turtle RDF"):
        Ingestor(store, tmp_path).run(spec)
    assert _snapshot(store) == ({}, {})
