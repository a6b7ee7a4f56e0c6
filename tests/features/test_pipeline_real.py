"""The pipeline with the real image encoder on real posters, against a real Neo4j."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.features.encoder import create_encoder
from kgrec.features.pipeline import FeaturePipeline
from kgrec.graph import cypher
from kgrec.graph.store import GraphStore
from tests.conftest import write
from tests.features.test_encoders_real import _jpeg

pytestmark = [pytest.mark.neo4j, pytest.mark.realdata]

SPEC = """
name = "posters"
dataset = "posters"
[[features]]
modality = "image"
encoder = "efficientnet-lite0"
files = "{id}.jpg"
"""
TITLES = {
    1: "Toy Story (1995)",
    2: "GoldenEye (1995)",
    14: "Postino, Il (1994)",
    98: "Silence of the Lambs, The (1991)",
}
TITLES[1001] = "Toy Story (cropped poster)"


def test_real_posters_similar_posters_query_and_cached_rerun(store: GraphStore, data_dir: Path, tmp_path: Path) -> None:
    posters = data_dir / "movielens-100k-posters"
    assert not (posters / "14.jpg").exists()  # item 14 has no poster in the mirror
    for i in (1, 2, 98):
        write(tmp_path / "posters" / f"{i}.jpg", (posters / f"{i}.jpg").read_bytes())
    write(tmp_path / "posters" / "1001.jpg", _jpeg((posters / "1.jpg").read_bytes(), (0.0, 0.1, 1.0, 0.9)))
    store.query(
        "UNWIND keys($t) AS k CREATE (:Item {id: toInteger(k), title: $t[k]})", t={str(k): v for k, v in TITLES.items()}
    )
    spec = write(tmp_path / "posters.toml", SPEC)

    [cov] = FeaturePipeline(store, tmp_path, tmp_path / "cache").run(spec)
    assert (cov.vectors, cov.total, cov.computed) == (4, 5, 4)
    rows = store.query(cypher.statement("browser/similar_posters"), title="Toy Story (1995)", k=3)
    assert [r["id"] for r in rows][0] == 1001 and len(rows) == 3 and 14 not in [r["id"] for r in rows]
    dims = store.query("MATCH (n:Item {id: 2}) RETURN size(n.feat_image) AS d")
    assert dims == [{"d": 1280}]

    lazy = create_encoder("efficientnet-lite0")
    [again] = FeaturePipeline(store, tmp_path, tmp_path / "cache", encoders={lazy.name: lazy}).run(spec)
    assert (again.cached, again.computed, again.vectors) == (4, 0, 4)
    assert not lazy.loaded  # type: ignore[attr-defined]  # the model was never even loaded
