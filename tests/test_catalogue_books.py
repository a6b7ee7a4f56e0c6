"""A catalogue of another kind, end to end: books bought by customers, with their own labels.

Nothing here is MovieLens-shaped: the users are ``Customer`` nodes, the items ``Book``
nodes keyed by ISBN, the interaction a binary ``BOUGHT`` without rating or timestamp,
the knowledge authors and series. Spec files (written here) are the only input; the
answer must speak their declared words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgrec.graph.answers import AnswerGraph
from kgrec.graph.snapshots import export_training_snapshot
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import IngestOptions, Ingestor
from kgrec.settings import Settings
from tests.conftest import write

pytestmark = pytest.mark.neo4j

# Two tastes: customers c1..c8 read crime (Christie, Simenon), c9..c16 read fantasy (Le Guin, Pratchett).
CRIME = {
    "isbn-c1": "Christie",
    "isbn-c2": "Christie",
    "isbn-c3": "Christie",
    "isbn-c4": "Simenon",
    "isbn-c5": "Simenon",
}
FANTASY = {
    "isbn-f1": "Le Guin",
    "isbn-f2": "Le Guin",
    "isbn-f3": "Le Guin",
    "isbn-f4": "Pratchett",
    "isbn-f5": "Pratchett",
}

SPEC = """
name = "bookshop"
dataset = "bookshop"

[[tables]]
file = "books.csv"
  [[tables.nodes]]
  label = "Book"
  key = { column = "isbn", property = "isbn" }
  properties = { title = "title" }
  [[tables.relationships]]
  type = "WRITTEN_BY"
  start = { label = "Book", property = "isbn", column = "isbn" }
  end = { label = "Author", property = "name", column = "author", create = true }

[[tables]]
file = "orders.csv"
  [[tables.relationships]]
  type = "BOUGHT"
  start = { label = "Customer", property = "code", column = "customer", create = true }
  end = { label = "Book", property = "isbn", column = "isbn" }

[schema]
users = "Customer"
items = "Book"

[schema.nodes.Book]
name = "title"
noun = "book"

[schema.nodes.Author]
noun = "author"

[schema.relationships.BOUGHT]
role = "interaction"
verb = "bought"
phrase = "also bought"
reverse = "was also bought by"

[schema.relationships.WRITTEN_BY]
phrase = "was written by"
reverse = "also wrote"
person = true
"""


def _orders() -> list[tuple[str, str]]:
    rows = []
    for c in range(1, 17):
        books = CRIME if c <= 8 else FANTASY
        for i, isbn in enumerate(sorted(books)):
            if (c + i) % 5 != 0:  # each customer misses one book of their taste
                rows.append((f"c{c}", isbn))
    return rows


@pytest.fixture(scope="module")
def shop(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphStore, Path]]:
    root = tmp_path_factory.mktemp("books")
    books = "isbn,title,author\n" + "".join(f"{k},Book {k[-2:]},{a}\n" for k, a in {**CRIME, **FANTASY}.items())
    write(root / "bookshop" / "books.csv", books)
    write(root / "bookshop" / "orders.csv", "customer,isbn\n" + "".join(f"{c},{b}\n" for c, b in _orders()))
    spec = write(root / "bookshop.toml", SPEC)
    with GraphStore.connect(neo4j_settings) as store:
        store.delete_all()
        assert Ingestor(store, root, IngestOptions()).run(spec).bad == []
        yield store, root


def test_a_book_shop_trains_and_answers_in_its_own_words(shop: tuple[GraphStore, Path]) -> None:
    from kgrec.learn.config import TrainConfig
    from kgrec.learn.run import train_run
    from kgrec.recommend.model import ModelScores
    from kgrec.recommend.service import Recommendations

    store, root = shop
    snapshot = export_training_snapshot(store)
    assert ("Customer", "BOUGHT", "Book") in snapshot.edges and "timestamp" not in str(snapshot.edge_props)
    config = TrainConfig(
        model="kgrec",
        fusion="none",
        dim=8,
        layers=2,
        lr=0.05,
        batch_size=32,
        epochs=30,
        patience=30,
        eval_every=30,
        threads=1,
        seed=3,
    )
    train_run(snapshot, config, root / "model")
    service = Recommendations(AnswerGraph(store), ModelScores.load(root / "model"))
    recs = service.recommend("c1", k=3)
    assert recs and all(r.item.startswith("isbn-") for r in recs)
    bought = {b for c, b in _orders() if c == "c1"}
    assert not bought & {r.item for r in recs}, "never recommend what the customer has"
    sentences = [p.sentence for r in recs for p in r.paths]
    crowd = re.compile(r"^\d+ (people|other person) who bought Book \S+ also bought Book \S+\.$")
    assert sentences and all(s.startswith("You bought Book ") or crowd.match(s) for s in sentences), sentences
    assert any("was written by" in s and "who also wrote" in s for s in sentences), sentences
    assert not any("rated" in s or "/5" in s for s in sentences), sentences
