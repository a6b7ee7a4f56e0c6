"""``--bulk`` names RDF entities from their IRIs (``name_from_iri``) as a plain ingest does."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.graph.store import GraphStore
from kgrec.ingest.bulk import BulkLoader
from kgrec.ingest.load import Ingestor
from kgrec.settings import Settings
from tests.conftest import write
from tests.ingest.test_bulk import SPEC, _dataset, _graph

pytestmark = pytest.mark.neo4j


def test_bulk_names_entities_from_their_iris(store: GraphStore, neo4j_settings: Settings, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    named = SPEC.replace('file = "kg.ttl"\n', 'file = "kg.ttl"\nname_from_iri = "name"\n')
    assert named != SPEC
    write(spec, named)
    Ingestor(store, tmp_path).run(spec)
    expected = _graph(store)
    bob = [n for n in expected[0] if "'http://ex.org/bob'" in n]
    assert len(bob) == 1 and "('name', 'bob')" in bob[0]  # ex:bob states no name: its IRI's tail
    store.delete_all()

    BulkLoader(neo4j_settings, tmp_path).run([spec])
    with GraphStore.connect(neo4j_settings) as after:
        assert _graph(after) == expected
