"""Recommendations, explanations and similar items on the film world, against a real Neo4j."""

from __future__ import annotations

import json

import pytest

from kgrec.errors import NotFoundError
from kgrec.graph.answers import AnswerGraph, Filters
from kgrec.recommend.results import Path
from kgrec.recommend.service import Recommendations
from tests.twotastes import ANIMATED, COLD, FANS, LASSETER, NOIR, ORPHAN, PIXAR, WILDER, ratings

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def service(world_graph: AnswerGraph, world_scores) -> Recommendations:  # noqa: ANN001
    return Recommendations(world_graph, world_scores)


def assert_real(graph: AnswerGraph, path: Path, start: tuple[str, object], item: object) -> None:
    """Re-match every hop of ``path`` in Neo4j, in its stated direction."""
    steps = path.steps
    assert (steps[0].label, steps[0].key) == start
    assert (steps[-1].label, steps[-1].key) == ("Item", item)
    assert 1 <= path.hops <= 4
    for a, b in zip(steps, steps[1:]):
        ends = ((a.label, a.key), (b.label, b.key))
        first, second = ends if a.forward else ends[::-1]
        assert graph.has_relationship(first, a.rel_type, second), f"no {a.rel_type} between {ends} in {path.sentence}"


def test_recommends_unseen_items_of_the_users_taste_with_real_paths(service: Recommendations) -> None:
    stars = {i: s for u, i, s in ratings() if u == 2}
    seen = set(stars)
    recs = service.recommend(2, k=4)
    assert [r.rank for r in recs] == [1, 2, 3, 4]
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    assert not seen & {r.item for r in recs}
    assert sum(r.item in ANIMATED for r in recs) >= 3
    assert all(r.paths for r in recs)
    for r in recs:
        assert len(r.paths) <= 3
        specific = [p.specific for p in r.paths if p.kind == "knowledge"]
        assert specific == sorted(specific, reverse=True)  # specific knowledge reasons before broad ones
        for p in r.paths:
            assert_real(service.graph, p, ("User", 2), r.item)
            assert stars[p.steps[1].key] >= 3, p.sentence  # a path never starts from a disliked film
    json.dumps([r.to_dict() for r in recs])


def test_paths_never_start_from_a_disliked_film(service: Recommendations) -> None:
    seen = service.graph.ratings(2)
    disliked = {i for u, i, s in ratings() if u == 2 and s < 3}
    assert disliked and disliked <= set(seen) and not disliked & set(service._starts(seen))
    for user in (2, 5, 14):
        stars = {i: s for u, i, s in ratings() if u == user}
        for r in service.recommend(user, k=6):
            assert all(stars[p.steps[1].key] >= 3 for p in r.paths), [p.sentence for p in r.paths]


def test_the_known_right_path_explains_a_bugs_life_for_user_1(service: Recommendations) -> None:
    explanation = service.explain(1, 102)
    assert explanation.title == "A Bug's Life (1998)" and explanation.rank >= 1
    keys = [[(s.label, s.key) for s in p.steps] for p in explanation.paths]
    right = [("User", 1), ("Item", 101), ("Entity", LASSETER), ("Item", 102)]
    assert right in keys
    path = explanation.paths[keys.index(right)]
    assert [s.rel_type for s in path.steps[:-1]] == ["RATED", "DIRECTED_BY", "DIRECTED_BY"]
    assert [s.forward for s in path.steps[:-1]] == [True, True, False]
    assert path.sentence == (
        "You rated Toy Story (1995) 5/5, which was directed by John Lasseter, who also directed A Bug's Life (1998)."
    )
    for p in explanation.paths:
        assert_real(service.graph, p, ("User", 1), 102)


def test_prepare_reads_the_neighbourhood_and_makes_the_masking_effects(
    world_graph: AnswerGraph,
    world_scores,  # noqa: ANN001
) -> None:
    fresh = Recommendations(world_graph, world_scores)
    assert not fresh.ready and not fresh.paths.effects.ready and fresh.paths._table is None
    fresh.prepare()
    assert fresh.ready and fresh.neighbourhood.loaded and fresh.paths.effects.ready
    assert fresh.paths._table is not None and fresh.paths._table.hood is fresh.neighbourhood.get()
    assert fresh.paths.effects.prepare()  # kgrec's GNN has exact effects; made once


def test_four_hops_where_no_shorter_path_exists(service: Recommendations) -> None:
    explanation = service.explain(1, ORPHAN)
    assert explanation.cold and explanation.paths
    keys = [(s.label, s.key) for s in explanation.paths[0].steps]
    assert keys == [("User", 1), ("Item", 101), ("Entity", LASSETER), ("Entity", PIXAR), ("Item", ORPHAN)]
    assert [s.rel_type for s in explanation.paths[0].steps[:-1]] == [
        "RATED",
        "DIRECTED_BY",
        "WORKED_FOR",
        "PRODUCED_BY",
    ]
    assert "Pixar" in explanation.paths[0].sentence and "is new" in explanation.paths[0].sentence
    for p in explanation.paths:
        assert p.hops == 4
        assert_real(service.graph, p, ("User", 1), ORPHAN)


def test_filters_and_exclusions(service: Recommendations) -> None:
    noir = service.recommend(3, k=3, filters=Filters(genre="Film-Noir"), explain=False)
    assert noir and all(r.item in NOIR for r in noir)
    years = service.recommend(3, k=5, filters=Filters(year_min=1995, year_max=2003), explain=False)
    assert years and all(1995 <= 1990 + r.item % 100 <= 2003 for r in years if r.item < 200)
    assert all(r.item < 200 for r in years)
    first = service.recommend(3, k=2, explain=False)
    rest = service.recommend(3, k=2, filters=Filters(exclude=tuple(r.item for r in first)), explain=False)
    assert not {r.item for r in first} & {r.item for r in rest}
    assert service.recommend(3, k=2, filters=Filters(label="Nope"), explain=False) == []
    by_prop = service.recommend(3, k=2, filters=Filters(prop="title", values=("Night Film (1951)",)), explain=False)
    assert [r.item for r in by_prop] == [210]


def test_cold_items_rank_by_taste_and_say_they_are_new(service: Recommendations) -> None:
    rank = {u: (service.explain(u, COLD[0]).rank, service.explain(u, COLD[1]).rank) for u in (2, 3, 15, 16)}
    assert all(a < b for u, (a, b) in rank.items() if u <= FANS)
    assert all(b < a for u, (a, b) in rank.items() if u > FANS)
    explanation = service.explain(2, COLD[0])
    assert explanation.cold and explanation.paths
    assert all(p.kind == "content" and "is new" in p.sentence for p in explanation.paths)
    assert {p.steps[2].label for p in explanation.paths} <= {"Entity", "Genre"}
    for p in explanation.paths:
        assert_real(service.graph, p, ("User", 2), COLD[0])


def test_a_new_user_gets_recommendations_from_liked_items(service: Recommendations) -> None:
    recs = service.recommend_for_items([201, 202], k=4)
    assert len(recs) == 4 and not {201, 202} & {r.item for r in recs}
    assert sum(r.item in NOIR for r in recs) >= 3
    for r in recs:
        for p in r.paths:
            assert p.steps[0].key in (201, 202) and p.sentence.startswith("You liked")
            assert_real(service.graph, p, ("Item", p.steps[0].key), r.item)
    assert any(r.paths for r in recs)


def test_unknown_user_and_item(service: Recommendations) -> None:
    with pytest.raises(NotFoundError, match="user 999"):
        service.recommend(999)
    with pytest.raises(NotFoundError, match="item 999"):
        service.explain(1, 999)
    with pytest.raises(NotFoundError, match="item 999"):
        service.similar(999)
    with pytest.raises(NotFoundError, match="liked items"):
        service.recommend_for_items([998, 999])


def test_similar_items_by_plot_and_by_fused_embedding(service: Recommendations) -> None:
    plot = service.similar(101, 5, modality="text")
    assert [s.rank for s in plot] == [1, 2, 3, 4, 5] and 101 not in {s.item for s in plot}
    assert all(s.item in ANIMATED for s in plot) and all(s.modality == "text" for s in plot)
    fused = service.similar(201, 5, modality="fused")
    assert sum(s.item in NOIR for s in fused) >= 4 and 201 not in {s.item for s in fused}
    with pytest.raises(NotFoundError, match="no image vector"):
        service.similar(101, modality="image")


def test_write_replaces_the_users_recommendations(service: Recommendations) -> None:
    assert service.write([1, 12], k=3) == 6
    assert service.write([1], k=2) == 2
    rows = service.graph.stored_recommendations([1, 12, 13])
    assert [(r["user"], r["rank"]) for r in rows] == [(1, 1), (1, 2), (12, 1), (12, 2), (12, 3)]
    assert rows[0]["model"].startswith("kgrec:")
    assert rows[0]["explanation"].startswith("You rated") or " people who rated " in rows[0]["explanation"]


def test_masking_the_top_path_lowers_the_score(service: Recommendations) -> None:
    scores = service.scores
    explanation = service.explain(1, 102)
    mids = [(s.label, s.key) for p in explanation.paths for s in p.steps[1:-1]]
    before = scores.masked_score(1, 102, [])
    assert before == pytest.approx(explanation.score, rel=1e-4)
    assert scores.masked_score(1, 102, mids) < before
    # Billy Wilder is three hops or more from user 1 and from A Bug's Life: silencing him changes nothing
    assert scores.masked_score(1, 102, [("Entity", WILDER)]) == pytest.approx(before, abs=1e-6)


def test_direct_messages_add_up_to_what_propagation_brought(world_scores) -> None:  # noqa: ANN001
    """Per-edge messages are an exact split: summed over every neighbour they give the final vector
    minus the node's own input share, ``x / (layers + 1)``, for users and items alike."""
    import numpy as np

    scores = world_scores
    model, state = scores.model, scores.state
    layers = model.prop.layers
    for label, key, final, ego in (
        ("User", 1, state.user, state.ego_user),
        ("Item", 102, state.item, state.ego_item),
    ):
        row = scores.rows[label][key]
        sources = [(t, k) for t, rows in scores.rows.items() for k in rows]
        sent = scores.direct_messages((label, key), sources)
        expected = final[row].detach().numpy() - ego[row].detach().numpy() / (layers + 1)
        np.testing.assert_allclose(sent.sum(0), expected, rtol=1e-4, atol=1e-5)
        assert np.count_nonzero(np.abs(sent).sum(1)) < len(sources) / 2  # only neighbours send


def test_path_support_is_the_score_its_nodes_carry(service: Recommendations) -> None:
    """A three-hop path's support is what its rated film sends into the user's vector scored against the
    item, plus what its middle node sends into the item's vector scored against the user."""
    import numpy as np

    scores = service.scores
    path = max(service.explain(1, 102).paths, key=lambda p: p.support)  # its film is a training rating
    seen, mid = (path.steps[1].label, path.steps[1].key), (path.steps[2].label, path.steps[2].key)
    item, weight = scores.graph_item_vector(102)
    user = scores.user_vector(1)
    expected = weight * (_sent(scores, seen, ("User", 1)) @ item + user @ _sent(scores, mid, ("Item", 102)))
    assert path.support == pytest.approx(float(expected), rel=1e-4)
    assert np.isfinite(path.support)


def test_a_film_listed_twice_is_recommended_once_and_never_when_its_twin_was_rated(
    service: Recommendations,
) -> None:
    hood = service.neighbourhood.get()
    saved = dict(hood.duplicates)
    try:
        first = [r.item for r in service.recommend(1, k=4, explain=False)]
        a, b = first[0], first[1]
        hood.duplicates.update({a: (b,), b: (a,)})  # pretend the two best are one film listed twice
        again = [r.item for r in service.recommend(1, k=4, explain=False)]
        assert a in again and b not in again
        rated = next(iter(service.graph.ratings(1)))
        hood.duplicates.update({rated: (a,), a: (rated,)})  # and the best is a twin of a film user 1 rated
        assert a not in [r.item for r in service.recommend(1, k=4, explain=False)]
    finally:
        hood.duplicates.clear()
        hood.duplicates.update(saved)


def test_the_neighbourhood_holds_every_knowledge_hop_and_rating_of_the_graph(service: Recommendations) -> None:
    hood = service.neighbourhood.refresh()
    lasseter = hood.id_of("Entity", LASSETER)
    films = {hood.nodes[h.node].key for h in hood.hops[lasseter] if h.rel_type == "DIRECTED_BY" and not h.forward}
    assert {101, 102, 103, 110} <= films
    assert hood.ratings[1] == service.graph.ratings(1)
    assert all(service.graph.has_relationship(("User", u), "RATED", ("Item", 101)) for u in hood.raters[101])


def _sent(scores, src: tuple[str, object], dst: tuple[str, object]):  # noqa: ANN001, ANN202 - ModelScores, array
    """What ``src`` sends straight into ``dst``, written out from the formula (not through direct_messages):
    the sum over the edges src -> dst of weight * relation coefficient * (src's summed layer inputs) / (L + 1)."""
    import numpy as np

    m = scores.messages
    ptr, sources, weights, relations = m.into[dst[0]]
    row, src_row = scores.rows[dst[0]][dst[1]], m.offsets[src[0]] + scores.rows[src[0]][src[1]]
    total = np.zeros(m.coef.shape[1], dtype=np.float64)
    for e in range(ptr[row], ptr[row + 1]):
        if sources[e] == src_row:
            total += weights[e] * m.coef[relations[e]] * m.sent[src_row] / (m.layers + 1)
    assert total.any(), f"{src} sends nothing into {dst}"
    return total
