"""bench.synth.make_catalogue: a small generated catalogue, read back from its files (no Neo4j)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from bench.synth import RELATIONS, CatalogueShape, make_catalogue
from kgrec.ingest.spec import load_spec

SHAPE = CatalogueShape(interactions=6_000, users=600, items=300, triples=4_000, seed=5)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return make_catalogue(tmp_path_factory.mktemp("synth"), SHAPE)


def test_counts_and_distinct_pairs(catalogue) -> None:  # noqa: ANN001
    folder = catalogue.data_dir / catalogue.name
    inter = _rows(folder / "interactions.csv")
    assert len(inter) == catalogue.interactions == SHAPE.interactions
    assert len({(r["user_id"], r["item_id"]) for r in inter}) == len(inter)
    assert {int(r["user_id"]) for r in inter} <= set(range(1, SHAPE.users + 1))
    assert {int(r["item_id"]) for r in inter} <= set(range(1, SHAPE.items + 1))
    assert min(int(r["views"]) for r in inter) >= 1
    assert len(_rows(folder / "users.csv")) == SHAPE.users
    items = _rows(folder / "items.csv")
    assert len(items) == SHAPE.items and all(len(r["description"].split()) > 10 for r in items)
    triples = _rows(folder / "knowledge.csv")
    assert len(triples) == catalogue.triples and SHAPE.triples * 0.9 <= len(triples) <= SHAPE.triples
    assert {r["relation"] for r in triples} == {r[1] for r in RELATIONS} and len(RELATIONS) == 20


def test_item_popularity_is_a_power_law(catalogue) -> None:  # noqa: ANN001
    counts = sorted(
        Counter(r["item_id"] for r in _rows(catalogue.data_dir / catalogue.name / "interactions.csv")).values()
    )
    top_tenth = sum(counts[-SHAPE.items // 10 :]) / SHAPE.interactions
    assert top_tenth > 0.25  # uniform popularity would give the top tenth of items ~10%
    assert max(counts) > 5 * SHAPE.interactions / SHAPE.items


def test_spec_declares_the_schema(catalogue) -> None:  # noqa: ANN001
    spec = load_spec(catalogue.spec)
    assert spec.dataset == catalogue.name and catalogue.spec.parent == catalogue.data_dir / catalogue.name
    part = spec.schema_part()
    assert set(part.keys) == {("User", "id"), ("Item", "id"), ("Entity", "name")}
    rels = part.decl.relationships
    assert rels["WATCHED"].role == "interaction" and rels["WATCHED"].kind == "count"
    assert all(rels[t].phrase and rels[t].reverse for t, *_ in RELATIONS)


def test_same_seed_same_files(tmp_path: Path, catalogue) -> None:  # noqa: ANN001
    again = make_catalogue(tmp_path, SHAPE)
    for name in ("users.csv", "items.csv", "interactions.csv", "knowledge.csv"):
        a = (catalogue.data_dir / catalogue.name / name).read_bytes()
        assert (again.data_dir / again.name / name).read_bytes() == a, name
    other = make_catalogue(tmp_path / "other", _reseeded())
    assert (other.data_dir / other.name / "interactions.csv").read_bytes() != (
        catalogue.data_dir / catalogue.name / "interactions.csv"
    ).read_bytes()


def _reseeded() -> CatalogueShape:
    return CatalogueShape(SHAPE.interactions, SHAPE.users, SHAPE.items, SHAPE.triples, seed=SHAPE.seed + 1)


def test_refuses_more_interactions_than_fit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="do not fit"):
        make_catalogue(tmp_path, CatalogueShape(interactions=1_000, users=10, items=100, triples=10))
