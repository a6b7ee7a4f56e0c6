"""Ingestion against a real Neo4j: counts, idempotency, resume, bad input, hostile values."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kgrec.errors import InputDataError
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import IngestOptions, Ingestor
from tests.conftest import write

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


class _Interrupt(Exception):
    pass


class _FailingStore:
    """Wraps a store and dies after ``after`` batch writes, like a killed process."""

    def __init__(self, store: GraphStore, after: int) -> None:
        self._store, self._left = store, after

    def write(self, batch, checkpoint=None, **kw):  # type: ignore[no-untyped-def]
        if self._left == 0:
            raise _Interrupt
        self._left -= 1
        return self._store.write(batch, checkpoint, **kw)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._store, name)


def test_resumes_after_interruption_without_duplicates(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    with pytest.raises(_Interrupt):
        Ingestor(_FailingStore(store, after=12), tmp_path, IngestOptions(batch_size=10)).run(spec)  # type: ignore[arg-type]
    partial = store.counts().types.get("RATED", 0)
    assert 0 < partial < _expected_ratings()
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=10)).run(spec)
    ratings = next(u for u in report.units if u.unit.endswith("ratings.csv"))
    assert ratings.resumed_from > 0
    assert _snapshot(store) == ({"User": 30, "Item": 20}, {"RATED": _expected_ratings()})
    dupes = store.query("MATCH (u:User)-[r:RATED]->(i:Item) WITH u, i, count(r) AS n WHERE n > 1 RETURN count(*) AS d")
    assert dupes == [{"d": 0}]


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
