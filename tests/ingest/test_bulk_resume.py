"""A ``--bulk`` load interrupted from the import on is loaded again, whole, by the next run."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.graph.server import LocalNeo4j
from kgrec.graph.store import GraphStore
from kgrec.ingest.bulk import BulkLoader
from kgrec.ingest.bulk_import import unfinished
from kgrec.ingest.load import Ingestor
from kgrec.settings import Settings
from tests.ingest.test_bulk import _dataset, _graph

pytestmark = pytest.mark.neo4j


def test_a_load_killed_during_its_import_is_loaded_again(
    store: GraphStore, neo4j_settings: Settings, tmp_path: Path
) -> None:
    spec = _dataset(tmp_path)
    Ingestor(store, tmp_path).run(spec)  # what the killed import may have left: a database that is not empty
    expected = _graph(store)
    (neo4j_settings.instance_dir / "run" / "kgrec-bulk-import").touch()  # the mark the import leaves until finished
    LocalNeo4j(neo4j_settings).stop()  # killed with the server stopped for the import

    BulkLoader(neo4j_settings, tmp_path).run([spec])
    assert not unfinished(neo4j_settings)
    with GraphStore.connect(neo4j_settings) as after:
        assert _graph(after) == expected
        assert after.checkpoint("shop/users.csv") is not None
