"""The HTTP API on the film world: answers, 404/422/401, and 503 while Neo4j is away, then recovery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kgrec.graph.answers import AnswerGraph
from kgrec.graph.server import read_password
from kgrec.settings import Settings
from tests.recommend.proxy import Proxy
from tests.twotastes import ANIMATED, LASSETER

pytestmark = pytest.mark.neo4j
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def proxy(neo4j_settings: Settings) -> Iterator[Proxy]:
    p = Proxy(neo4j_settings.bolt_port)
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def client(world_graph: AnswerGraph, world_scores, neo4j_settings: Settings, proxy: Proxy) -> Iterator[TestClient]:  # noqa: ANN001
    from kgrec.api import create_app

    settings = Settings(NEO4J_URI=f"bolt://127.0.0.1:{proxy.port}", NEO4J_PASSWORD=read_password(neo4j_settings))
    with TestClient(create_app(world_scores, settings, token=TOKEN)) as c:
        yield c


def test_the_server_prepares_explanation_paths_at_start(client: TestClient) -> None:
    import time

    deadline = time.monotonic() + 60
    while (health := client.get("/health").json())["explanations"] != "ready" and time.monotonic() < deadline:
        time.sleep(0.2)
    # the world's model: kgrec's GNN in a bundle folder named "bundle" (tests/recommend/conftest.py)
    assert health == {"status": "ok", "neo4j": "reachable", "model": "kgrec:bundle", "explanations": "ready"}


def test_recommendations_with_paths_and_filters(client: TestClient) -> None:
    r = client.get("/users/2/recommendations", params={"k": 3}, headers=AUTH)
    assert r.status_code == 200, r.text
    recs = r.json()
    assert [x["rank"] for x in recs] == [1, 2, 3] and all(x["paths"] for x in recs)
    assert {"item", "title", "score", "rank", "cold", "paths"} <= set(recs[0])
    step = recs[0]["paths"][0]["steps"][0]
    assert step == {"label": "User", "key": 2, "name": "user 2", "rel_type": "RATED", "forward": True, "degree": None}
    assert all(s["degree"] >= 1 for s in recs[0]["paths"][0]["steps"][2:-1])  # middle nodes say their degree
    noir = client.get(
        "/users/2/recommendations", params={"k": 2, "genre": "Film-Noir", "explain": "false"}, headers=AUTH
    ).json()
    assert noir and all(x["item"] > 200 and x["paths"] == [] for x in noir)


def test_explain_similar_and_new_user(client: TestClient) -> None:
    e = client.get("/users/1/explain/102", headers=AUTH).json()
    assert any(s["key"] == LASSETER for p in e["paths"] for s in p["steps"])
    sim = client.get("/items/101/similar", params={"modality": "text", "k": 3}, headers=AUTH).json()
    assert [s["rank"] for s in sim] == [1, 2, 3] and all(s["item"] in ANIMATED for s in sim)
    new = client.post("/recommendations", json={"liked": [101, 104], "k": 3}, headers=AUTH)
    assert new.status_code == 200 and len(new.json()) == 3


def test_not_found_and_invalid_parameters(client: TestClient) -> None:
    r = client.get("/users/999/recommendations", headers=AUTH)
    assert r.status_code == 404 and r.json()["detail"] == "user 999 is not in the graph"
    assert client.get("/users/1/explain/999", headers=AUTH).status_code == 404
    assert client.get("/items/101/similar", params={"modality": "image"}, headers=AUTH).status_code == 404
    for params in ({"k": 0}, {"k": 101}, {"k": "ten"}, {"year_min": "soon"}, {"label": "a b"}):
        assert client.get("/users/1/recommendations", params=params, headers=AUTH).status_code == 422, params
    assert client.get("/items/101/similar", params={"modality": "smell"}, headers=AUTH).status_code == 422
    assert client.post("/recommendations", json={"liked": []}, headers=AUTH).status_code == 422


def test_bearer_token(client: TestClient) -> None:
    assert client.get("/users/1/recommendations").status_code == 401
    wrong = client.get("/users/1/recommendations", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "kgrec"


def test_503_while_neo4j_is_away_then_recovers_without_restart(client: TestClient, proxy: Proxy) -> None:
    assert client.get("/health").status_code == 200
    proxy.stop()
    try:
        for path in ("/health", "/users/1/recommendations", "/users/1/explain/102"):
            r = client.get(path, headers=AUTH)
            assert r.status_code == 503, (path, r.text)
            assert "Neo4j is unavailable" in r.json()["detail"]
    finally:
        proxy.start()
    assert client.get("/health").status_code == 200
    assert client.get("/users/1/recommendations", params={"k": 2}, headers=AUTH).status_code == 200


def test_http_answers_are_the_python_answers_as_json(client: TestClient) -> None:
    import json

    svc = client.app.state.connection.service()  # the server's own service: the same answers

    def plain(value: object) -> object:
        return json.loads(json.dumps(value))  # tuples -> lists, as any JSON reader sees them

    r = client.get("/users/2/recommendations", params={"k": 5}, headers=AUTH)
    assert r.headers["content-type"] == "application/json"
    assert r.json() == plain([x.to_dict() for x in svc.recommend(2, 5)])
    assert client.get("/users/1/explain/102", headers=AUTH).json() == plain(svc.explain(1, 102).to_dict())
    sim = client.get("/items/101/similar", params={"modality": "text", "k": 3}, headers=AUTH).json()
    assert sim == plain([s.to_dict() for s in svc.similar(101, 3, modality="text")])
    schema = client.get("/openapi.json").json()["paths"]["/users/{user}/recommendations"]["get"]["responses"]
    assert schema["200"]["content"]["application/json"]["schema"]["type"] == "array"
