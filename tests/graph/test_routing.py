"""``neo4j://`` routing URIs against the local single server: reads in read transactions, writes in write
transactions, bookmarks that carry a write to the reads after it; export and serving through such a URI.

A single Neo4j server answers routing requests with itself for every role, so the driver goes through the
same routing table, access modes and bookmarks it uses with a cluster or Aura.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j.exceptions import ClientError

from kgrec.graph.answers import AnswerGraph, connect_for_service
from kgrec.graph.server import read_password
from kgrec.graph.snapshots import export_training_snapshot
from kgrec.graph.store import GraphStore
from kgrec.recommend.service import Recommendations
from kgrec.settings import Settings
from tests.conftest import declare_schema
from tests.graph.test_snapshots import GRAPH
from tests.recommend.conftest import world_bundle, world_scores  # noqa: F401 - fixtures of the serving test
from tests.twotastes import ANIMATED, load_world

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def routed(neo4j_settings: Settings) -> Settings:
    """Settings that reach the test server through a routing URI, as a cluster or Aura would be reached."""
    uri = f"neo4j://127.0.0.1:{neo4j_settings.bolt_port}"
    return Settings(NEO4J_URI=uri, NEO4J_PASSWORD=read_password(neo4j_settings))


@pytest.fixture
def routed_store(routed: Settings, store: GraphStore) -> Iterator[GraphStore]:
    """A store on the emptied test database, connected by ``neo4j://``."""
    with GraphStore.connect(routed) as s:
        yield s


def test_reads_run_in_read_transactions_and_cannot_write(routed_store: GraphStore) -> None:
    assert routed_store.read("RETURN 1 AS one") == [{"one": 1}]
    with pytest.raises(ClientError, match="(?i)read"):  # a cluster would send it to a secondary
        routed_store.read("CREATE (:RoutingProbe)")
    assert routed_store.query("CREATE (:RoutingProbe) RETURN 1 AS made") == [{"made": 1}]
    assert routed_store.read("MATCH (n:RoutingProbe) RETURN count(n) AS n") == [{"n": 1}]
    assert routed_store.counts().labels == {"RoutingProbe": 1}


def test_session_writes_advance_the_bookmarks_that_reads_wait_for(routed_store: GraphStore) -> None:
    bookmarks = routed_store._driver.execute_query_bookmark_manager
    before = set(bookmarks.get_bookmarks())
    routed_store.delete_all()  # a session write (as batch writes are), not an execute_query
    assert set(bookmarks.get_bookmarks()) - before  # so the next read waits for it on any member


def test_export_through_a_routing_uri(routed_store: GraphStore) -> None:
    routed_store.query(GRAPH)
    declare_schema(routed_store)
    snap = export_training_snapshot(routed_store)
    assert sorted(t[1] for t in snap.edges) == ["DIRECTED_BY", "RATED"]
    rated = ("User", "RATED", "Item")
    assert snap.edges[rated].tolist() == [[0, 1], [0, 1]]
    assert snap.edge_props[rated]["rating"].tolist() == [4.0, 2.0]


def test_serving_and_writing_recommendations_through_a_routing_uri(
    routed: Settings,
    store: GraphStore,
    world_scores,  # noqa: ANN001, F811
) -> None:
    load_world(store)
    with connect_for_service(routed) as routed_store:
        service = Recommendations(AnswerGraph(routed_store), world_scores)
        recs = service.recommend(2, k=4)
        assert sum(r.item in ANIMATED for r in recs) >= 3 and all(r.paths for r in recs)
        assert service.write([1], k=2) == 2  # write transactions...
        rows = service.graph.stored_recommendations([1])  # ...and the read right after sees them
        assert [(r["user"], r["rank"]) for r in rows] == [(1, 1), (1, 2)]
