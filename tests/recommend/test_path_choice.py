"""Which of an item's candidate paths are shown, in which order: specific knowledge first (by support
and by degree), then people, then broad nodes; unreadable nodes only when nothing else is left."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from kgrec.recommend.candidates import Candidate
from kgrec.recommend.explain import BROAD_MIN, PathFinder

HOP = SimpleNamespace(rel_type="X", forward=True)
OTHER = SimpleNamespace(rel_type="Y", forward=True)
# middle nodes: 0 and 5 users; 1 a genre of 400 items; 2 a director of 3; 3 and 4 unnamed Freebase
# entities; 6 an actor of 8; 7 a tag of 40; 8 a writer of 2; 9 a category of 6
HOOD = SimpleNamespace(
    schema=SimpleNamespace(users="User"),
    item_count=1000,
    named=np.array([True, True, True, False, False, True, True, True, True, True]),
    degree=np.array([30, 400, 3, 2, 2, 50, 8, 40, 2, 6]),
    nodes=[
        SimpleNamespace(label=label)
        for label in ("User", "Genre", "Entity", "Entity", "Entity", "User", "Entity", "Tag", "Entity", "Category")
    ],
)


def _finder(per_item: int = 3) -> PathFinder:
    return PathFinder(lambda: HOOD, None, per_item=per_item)  # type: ignore[arg-type]


def _cand(middle: int, support: float, hop: SimpleNamespace = HOP) -> Candidate:
    return Candidate(support, 1, hop, (middle,), hop)  # type: ignore[arg-type]


def _chosen(found: list[Candidate], per_item: int = 3) -> list[int]:
    return [c.middle[0] for c in _finder(per_item)._chosen(HOOD, found)]  # type: ignore[arg-type]


def test_broad_is_a_share_of_the_catalogue_and_never_below_the_minimum() -> None:
    assert _finder().broad(HOOD) == 10  # type: ignore[arg-type]
    assert _finder().broad(SimpleNamespace(item_count=20)) == BROAD_MIN  # type: ignore[arg-type]


def test_a_specific_node_comes_before_a_broad_one_with_more_support() -> None:
    # the genre (400 items) and the tag (40) carry more of the score than the director (3 films)
    assert _chosen([_cand(1, 0.9), _cand(7, 0.8), _cand(2, 0.1)], per_item=2) == [2, 1]
    assert _chosen([_cand(1, 0.9), _cand(7, 0.8), _cand(2, 0.1)]) == [2, 1, 7]  # broad: by support


def test_specific_reasons_rank_by_support_and_by_degree() -> None:
    # support ranks 6, 9, 2, 8; degree ranks 8, 2, 9, 6: sums 6: 3, 9: 3, 2: 3, 8: 3 -> ties by support
    even = [_cand(6, 0.9), _cand(9, 0.8), _cand(2, 0.5), _cand(8, 0.1)]
    assert _chosen(even, per_item=4) == [6, 9, 2, 8]
    # the best-supported first; then by rank sums 8: 2+0, 9: 1+2, 2: 3+1 (the writer of 2 films first)
    close = [_cand(6, 0.9), _cand(9, 0.85), _cand(8, 0.8), _cand(2, 0.1)]
    assert _chosen(close, per_item=4) == [6, 8, 9, 2]


def test_one_specific_reason_per_relationship_type_first() -> None:
    found = [_cand(8, 0.9), _cand(2, 0.8), _cand(6, 0.1, OTHER)]
    assert _chosen(found, per_item=2) == [8, 6]  # the actor's type before the second writer


def test_the_last_place_goes_to_people_and_one_collaborative_reason_at_most() -> None:
    found = [_cand(2, 0.1), _cand(8, 0.2), _cand(6, 0.3), _cand(0, 0.9), _cand(5, 0.95), _cand(1, 2.0)]
    # the best-supported (6), then by rank sums 8: 1+0, 2: 2+1; the best-supported other user (one only)
    assert _chosen(found) == [6, 8, 5]
    assert _chosen(found, per_item=5) == [6, 8, 2, 5, 1]  # people in the last place but one, then broad


def test_specific_nodes_without_a_name_come_after_people_and_before_broad_ones() -> None:
    assert _chosen([_cand(3, 0.9), _cand(0, 0.5), _cand(5, 0.45), _cand(1, 0.4)]) == [0, 3, 1]
    assert _chosen([_cand(3, 0.9), _cand(0, 0.5)]) == [0, 3]
    assert _chosen([_cand(1, 0.9), _cand(3, 0.1), _cand(2, 0.05)]) == [2, 3, 1]


def test_ids_are_not_names_and_unnamed_nodes_read_by_what_they_are() -> None:
    from kgrec.graph.neighbourhood import Hop, _id_like
    from kgrec.recommend.explain import _unnamed
    from kgrec.schema import GraphSchema, RelDecl

    assert [_id_like(t) for t in ("m.018yhr", "m.02 p5w ", "urn:satori:3864", "http://x.org/a")] == [True] * 4
    assert not any(_id_like(t) for t in ("U2", "St. Louis", "Mr. Bungle", "Hal Ashby", "Blink-182", None))
    schema = GraphSchema(relationships={"ACTOR": RelDecl(person=True), "LABEL": RelDecl(noun="record label")})
    fb = "http://rdf.freebase.com/ns/m.02_p5w"
    assert _unnamed(schema, "Entity", fb, Hop(0, "ACTOR", False)) == "a person (m.02_p5w)"
    assert _unnamed(schema, "Entity", fb, Hop(0, "LABEL", True)) == "a record label (m.02_p5w)"
    assert _unnamed(schema, "Entity", fb, Hop(0, "LANGUAGE", True)) == "m.02_p5w (no name in the graph)"
