"""The first reason is chosen by its masking effect: the most effective contender, or a specific knowledge
path whose effect is comparable (``COMPARABLE`` of the best); the other places keep the support order."""

from __future__ import annotations

import pytest

from kgrec.graph.answers import AnswerGraph
from kgrec.recommend.faithful import COMPARABLE, arrange, choose_first
from kgrec.recommend.service import Recommendations

SPECIFIC, FRIEND, CROWD, UNNAMED, BROAD, BROAD_UNNAMED = 0, 1, 2, 3, 4, 5


def test_the_most_effective_specific_path_goes_first_not_the_best_supported() -> None:
    # support order shows A (best-supported specific), B (specific), C (people); D, a specific path with
    # less support, contends too and moves the score most: it goes first and takes B's place, not C's
    tiers = [SPECIFIC, SPECIFIC, CROWD, SPECIFIC]
    assert arrange(tiers, [0.1, 0.2, 0.15, 0.5], shown=3, per_item=3) == [3, 0, 2]


def test_a_far_more_effective_crowd_goes_first_and_the_specific_reasons_follow() -> None:
    tiers = [SPECIFIC, SPECIFIC, CROWD]
    assert arrange(tiers, [0.1, 0.05, 1.0], shown=3, per_item=3) == [2, 0, 1]


def test_a_specific_path_with_a_comparable_effect_stays_first() -> None:
    tiers = [SPECIFIC, BROAD, CROWD]
    assert arrange(tiers, [COMPARABLE * 1.01, 0.3, 1.0], shown=3, per_item=3) == [0, 1, 2]
    assert arrange(tiers, [COMPARABLE * 0.99, 0.3, 1.0], shown=3, per_item=3) == [2, 0, 1]


def test_a_broad_or_unnamed_path_goes_first_only_when_no_specific_one_is_comparable() -> None:
    assert choose_first([(False, 0.9), (True, 0.8)]) == 1  # tiers BROAD, SPECIFIC
    assert choose_first([(False, 0.9), (True, 0.1)]) == 0
    assert choose_first([(False, 0.9), (False, 0.95)]) == 1  # nothing specific: the most effective
    assert choose_first([(False, -0.1), (True, -0.5)]) == 1  # nothing moves the score up: specific first


def test_a_path_through_an_unnamed_node_is_never_first_while_a_readable_one_exists() -> None:
    # the unnamed path moves the score most; the readable ones decide among themselves (the crowd wins)
    tiers = [UNNAMED, SPECIFIC, CROWD, BROAD_UNNAMED]
    assert arrange(tiers, [5.0, 0.1, 0.5, 9.0], shown=3, per_item=3)[0] == 2
    assert arrange(tiers, [5.0, 0.4, 0.5, 9.0], shown=3, per_item=3)[0] == 1  # specific, comparable
    assert arrange([UNNAMED, BROAD_UNNAMED], [1.0, 2.0], shown=2, per_item=3)[0] == 1  # nothing readable


def test_the_chosen_path_takes_the_place_of_the_last_of_its_own_kind() -> None:
    # a friend more effective than anything: the crowd (its own kind is FRIEND, none shown) gives way last
    tiers = [SPECIFIC, UNNAMED, CROWD, FRIEND]
    assert arrange(tiers, [0.1, 0.1, 0.2, 2.0], shown=3, per_item=3) == [3, 0, 1]
    assert arrange([], [], shown=0, per_item=3) == []


@pytest.mark.neo4j
def test_first_reasons_on_the_film_world_follow_their_exact_effects(world_graph: AnswerGraph, world_scores) -> None:  # noqa: ANN001
    service = Recommendations(world_graph, world_scores)
    kinds = set()
    for user in (1, 2, 12, 15):
        for rec in service.recommend(user, k=5):
            if not rec.paths:
                continue
            base = world_scores.masked_score(user, rec.item, [])
            for p in rec.paths:  # every shown path's effect is what a full re-propagation without it loses
                full = base - world_scores.masked_score(user, rec.item, [(s.label, s.key) for s in p.steps[1:-1]])
                assert p.effect == pytest.approx(full, abs=1e-5)
            first, best = rec.paths[0], max(p.effect for p in rec.paths)
            assert first.effect == best or (first.specific and first.effect >= COMPARABLE * best)
            kinds.add(first.specific)
    assert kinds == {True, False}  # both outcomes happen: a specific first reason and a more effective other
