"""The feature pipeline against a real Neo4j, with fast fake encoders that count their calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.errors import DataNotFoundError
from kgrec.features.pipeline import FeatureOptions, FeaturePipeline, shipped_feature_specs
from kgrec.graph import cypher
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import Ingestor
from tests.conftest import REPO, write
from tests.features.fakes import FakeImage, FakeText

pytestmark = pytest.mark.neo4j

SPEC = """
name = "tiny-features"
dataset = "posters"

[[features]]
modality = "text"
encoder = "fake-text"
properties = ["title", "description", "abstract"]

[[features]]
modality = "image"
encoder = "fake-image"
files = "{id}.jpg"
"""

ITEMS = [
    {"id": 1, "title": "Toy Story (1995)", "description": "Toys come alive.", "abstract": None},
    {"id": 2, "title": "GoldenEye (1995)", "description": None, "abstract": "A Bond film."},
    {"id": 3, "title": "Four Rooms (1995)", "description": None, "abstract": None},
    {"id": 4, "title": "", "description": None, "abstract": None},
]
# Fake image vectors are the first three bytes + 1: item 3 looks like item 1, item 2 does not; 4 has no poster.
POSTERS = {1: b"\x10\x10\x80rest", 2: b"\x80\x05\x05rest", 3: b"\x11\x10\x7fother"}


def _setup(store: GraphStore, root: Path, posters: dict[int, bytes] = POSTERS) -> Path:
    store.query("UNWIND $items AS i CREATE (n:Item) SET n = i", items=ITEMS)
    for key, data in posters.items():
        write(root / "posters" / f"{key}.jpg", data)
    return write(root / "features.toml", SPEC)


def _pipeline(store: GraphStore, root: Path, **options: object) -> tuple[FeaturePipeline, FakeText, FakeImage]:
    text, image = FakeText(), FakeImage()
    opts = FeatureOptions(**options)  # type: ignore[arg-type]
    return (
        FeaturePipeline(store, root, root / "cache", opts, encoders={"fake-text": text, "fake-image": image}),
        text,
        image,
    )


def _vectors(store: GraphStore, prop: str) -> dict[int, list[float]]:
    rows = store.query("MATCH (n:Item) WHERE n[$p] IS NOT NULL RETURN n.id AS id, n[$p] AS v", p=prop)
    return {r["id"]: r["v"] for r in rows}


def test_vectors_coverage_and_the_joined_text(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path)
    pipeline, text, image = _pipeline(store, tmp_path, batch_size=2)
    cov = {c.modality: c for c in pipeline.run(spec)}
    assert (cov["text"].vectors, cov["text"].total, cov["text"].missing) == (3, 4, 1)  # item 4 has no text
    assert (cov["image"].vectors, cov["image"].total, cov["image"].missing) == (3, 4, 1)  # item 4 has no poster
    assert cov["image"].computed == 3 and cov["image"].cached == 0 and cov["image"].written
    assert sorted(text.inputs) == [
        "Four Rooms (1995)",
        "GoldenEye (1995)\nA Bond film.",
        "Toy Story (1995)\nToys come alive.",
    ]
    assert text.calls == 2  # batches of 2
    got = _vectors(store, "feat_image")
    assert set(got) == {1, 2, 3} and got[1] == pytest.approx([17.0, 17.0, 129.0])
    assert set(_vectors(store, "feat_text")) == {1, 2, 3}


def test_a_second_run_encodes_nothing(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path)
    _pipeline(store, tmp_path)[0].run(spec)
    before = _vectors(store, "feat_text")
    pipeline, text, image = _pipeline(store, tmp_path)
    cov = pipeline.run(spec)
    assert text.calls == 0 and image.calls == 0
    assert [(c.cached, c.computed) for c in cov] == [(3, 0), (3, 0)]
    assert _vectors(store, "feat_text") == before


def test_only_changed_inputs_are_encoded_again(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path)
    _pipeline(store, tmp_path)[0].run(spec)
    write(tmp_path / "posters" / "2.jpg", b"\x01\x02\x03new")
    store.query("MATCH (n:Item {id: 3}) SET n.description = 'Four hotel rooms.'")
    pipeline, text, image = _pipeline(store, tmp_path)
    pipeline.run(spec)
    assert image.inputs == [b"\x01\x02\x03new"] and text.inputs == ["Four Rooms (1995)\nFour hotel rooms."]
    assert _vectors(store, "feat_image")[2] == pytest.approx([2.0, 3.0, 4.0])


def test_vector_index_answers_similar_items(store: GraphStore, tmp_path: Path) -> None:
    _pipeline(store, tmp_path)[0].run(_setup(store, tmp_path))
    index = store.query(cypher.statement("features/vector_index_show"), name="item_feat_image")
    assert index == [{"name": "item_feat_image", "labels": ["Item"], "properties": ["feat_image"], "dim": 3}]
    rows = store.query(cypher.statement("browser/similar_posters"), title="Toy Story (1995)", k=2)
    assert [r["id"] for r in rows] == [3, 2] and rows[0]["score"] > rows[1]["score"]


def test_a_dataset_without_the_modality_fails_nothing(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path, posters={})
    (tmp_path / "posters").mkdir()
    pipeline, _, image = _pipeline(store, tmp_path)
    cov = {c.modality: c for c in pipeline.run(spec)}
    assert (cov["image"].vectors, cov["image"].total, cov["image"].fraction) == (0, 4, 0.0)
    assert image.calls == 0 and _vectors(store, "feat_image") == {}
    assert store.query(cypher.statement("browser/similar_posters"), title="Toy Story (1995)", k=3) == []


def test_an_unreadable_file_costs_only_its_own_vector(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path, posters={**POSTERS, 2: b"BAD jpeg"})
    pipeline, _, image = _pipeline(store, tmp_path, batch_size=8)
    cov = {c.modality: c for c in pipeline.run(spec)}
    assert cov["image"].vectors == 2 and cov["image"].computed == 2
    assert len(cov["image"].unreadable) == 1 and cov["image"].unreadable[0].file.endswith("2.jpg")
    assert set(_vectors(store, "feat_image")) == {1, 3}


def test_a_vanished_input_removes_the_old_vector(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path)
    _pipeline(store, tmp_path)[0].run(spec)
    (tmp_path / "posters" / "3.jpg").unlink()
    _pipeline(store, tmp_path)[0].run(spec)
    assert set(_vectors(store, "feat_image")) == {1, 2}


def test_modality_filter_and_no_write(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path)
    pipeline, text, image = _pipeline(store, tmp_path, modalities=["image"], write=False)
    cov = pipeline.run(spec)
    assert [c.modality for c in cov] == ["image"] and not cov[0].written and cov[0].vectors == 3
    assert text.calls == 0 and _vectors(store, "feat_image") == {}
    pipeline, _, image = _pipeline(store, tmp_path, modalities=["image"])
    pipeline.run(spec)
    assert image.calls == 0 and set(_vectors(store, "feat_image")) == {1, 2, 3}  # written from the cache


def test_changing_the_dimension_recreates_the_index(store: GraphStore, tmp_path: Path) -> None:
    store.ensure_vector_index("item_feat_image", "Item", "feat_image", 5)
    _pipeline(store, tmp_path)[0].run(_setup(store, tmp_path))
    index = store.query(cypher.statement("features/vector_index_show"), name="item_feat_image")
    assert index[0]["dim"] == 3


def test_ingest_accepts_and_ignores_a_features_spec(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path)
    report = Ingestor(store, tmp_path).run(spec)
    assert report.units == [] and _vectors(store, "feat_text") == {}


def test_shipped_feature_specs(tmp_path: Path) -> None:
    assert [p.name for p in shipped_feature_specs()] == ["lastfm-features.toml", "movielens-100k-features.toml"]
    assert shipped_feature_specs(REPO / "ingest")[0].parent == REPO / "ingest"
    write(
        tmp_path / "plain.toml",
        'name = "p"\n[[tables]]\nfile = "x.csv"\n  [[tables.nodes]]\n  label = "A"\n  key = { column = "id" }\n',
    )
    with pytest.raises(DataNotFoundError, match="declares"):
        shipped_feature_specs(tmp_path)


def test_vectors_are_float32_lists_in_neo4j(store: GraphStore, tmp_path: Path) -> None:
    _pipeline(store, tmp_path)[0].run(_setup(store, tmp_path))
    row = store.query("MATCH (n:Item {id: 1}) RETURN valueType(n.feat_text) AS t, n.feat_text AS v")[0]
    assert row["t"].startswith("LIST<FLOAT")
    assert np.allclose(row["v"], FakeText().encode(["Toy Story (1995)\nToys come alive."])[0])
