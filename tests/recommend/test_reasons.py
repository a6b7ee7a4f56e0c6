"""Reasons worth reading on the film world: specific nodes first, collaborative reasons about people
(their count re-counted in Cypher), no placeholder starts, the first reason stored for Neo4j Browser."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest

from kgrec.graph import cypher
from kgrec.graph.answers import AnswerGraph
from kgrec.recommend.baseline import random_paths
from kgrec.recommend.explain import _named_first
from kgrec.recommend.faithful import COMPARABLE
from kgrec.recommend.service import Recommendations
from tests.recommend.test_service import assert_real
from tests.twotastes import LASSETER, LASSETER_FILMS, ratings

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def service(world_graph: AnswerGraph, world_scores) -> Recommendations:  # noqa: ANN001
    return Recommendations(world_graph, world_scores)


def test_the_director_of_four_films_comes_before_the_genre_of_ten(service: Recommendations) -> None:
    paths = service.explain(1, 102).paths
    first = next(p for p in paths if p.specific)
    assert [(s.label, s.key) for s in first.steps][2] == ("Entity", LASSETER)
    assert first.steps[2].degree == len(LASSETER_FILMS)  # counted in the graph's knowledge hops
    genres = [p for p in paths if p.steps[-2].label == "Genre"]
    assert all(not p.specific and p.steps[-2].degree == 10 for p in genres)  # 10 animated films: broad
    assert all(paths.index(g) > paths.index(first) for g in genres)
    # the director goes first unless another reason moves the score far more (kgrec.recommend.faithful)
    assert paths[0] is first or paths[0].effect * COMPARABLE > first.effect


def test_collaborative_reasons_speak_about_people_with_counts_from_the_graph(service: Recommendations) -> None:
    stars = {(u, i): s for u, i, s in ratings()}
    seen = 0
    for user in (2, 3, 12, 15):
        for rec in service.recommend(user, k=5):
            for p in rec.paths:
                if p.kind != "collaborative":
                    continue
                seen += 1
                start = p.steps[1].key
                assert "user " not in p.sentence and p.sentence.startswith(f"{p.count} ")
                levels = (stars[user, start], 4.0) if "/5" in p.sentence or " or 5" in p.sentence else (None, None)
                assert service.graph.co_raters(start, rec.item, levels, but=user) == p.count
                other = p.steps[2].key
                assert (stars[other, start] >= (levels[0] or 0)) and stars[other, rec.item] >= (levels[1] or 0)
                assert_real(service.graph, p, ("User", user), rec.item)
    assert seen  # the world has collaborative reasons to check


def test_paths_never_start_from_an_item_without_a_name() -> None:
    items = SimpleNamespace(items="Item")
    hood = SimpleNamespace(
        schema=items, named=np.array([True, False, True]), id_of=lambda label, k: {7: 0, 267: 1}.get(k)
    )
    assert list(_named_first(hood, {267: 4.0, 7: 5.0, 9: 5.0})) == [7]  # 9 is not in the graph either
    assert list(_named_first(hood, {267: 4.0})) == [267]  # nothing else to start from


def test_random_real_paths_have_the_length_and_ends_asked_for(service: Recommendations) -> None:
    hood, rng = service.neighbourhood.get(), random.Random(3)
    for user, item in ((1, 102), (15, 205)):
        paths = random_paths(hood, user, item, 3, 6, rng)
        assert paths and len({tuple(p) for p in paths}) == len(paths)
        for middle in paths:
            nodes = [("User", user), *middle, ("Item", item)]
            assert len(nodes) == 4
            assert service.graph.has_relationship(nodes[0], "RATED", nodes[1])
            kinds = [t for t in ("DIRECTED_BY", "IN_GENRE", "RATED") if _linked(service.graph, nodes[1], t, nodes[2])]
            assert kinds and any(_linked(service.graph, nodes[3], t, nodes[2]) for t in kinds)
    assert random_paths(hood, 1, 102, 2, 3, rng) == []  # the film world has no friends


def _linked(graph: AnswerGraph, a: tuple, rel_type: str, b: tuple) -> bool:
    return graph.has_relationship(a, rel_type, b) or graph.has_relationship(b, rel_type, a)


def test_written_recommendations_carry_the_first_reason_that_browser_draws(service: Recommendations) -> None:
    user = 3
    recs = service.recommend(user, k=3)
    service.write([user], k=3)
    names = service.graph.names()
    with service.graph.store._session() as session:  # the objects Browser receives: nodes, relationships
        rows = list(session.run(cypher.render("browser/my_recommendations", names=names), user=user))
    assert [r["rec"]["rank"] for r in rows] == [1, 2, 3]
    for rec, row in zip(recs, rows):
        first = rec.paths[0]
        assert row["rec"]["explanation"] == first.sentence
        drawn = {
            (r.type, r.start_node.element_id, r.end_node.element_id) for hop in row["why"] for r in hop.relationships
        }
        ids = service.graph.element_ids([(s.label, s.key) for s in first.steps])
        hops = set()
        for a, b in zip(first.steps, first.steps[1:]):
            ends = (ids[a.label, a.key], ids[b.label, b.key])
            hops.add((a.rel_type, *(ends if a.forward else ends[::-1])))
        assert drawn == hops, first.sentence

