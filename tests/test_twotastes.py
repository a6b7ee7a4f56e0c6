"""The two-tastes worlds' two views hold one world: what Neo4j exports after the graph view wrote it
is the learning view's snapshot (nodes, relationships, text vectors), less the held-out ratings of
the cold films, with the world's stars."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.graph.snapshots import export_training_snapshot
from kgrec.graph.store import GraphStore
from kgrec.snapshot import GraphSnapshot
from kgrec.types import EdgeType
from tests.twotastes import FILMS, TOY, TwoTastes

RATED = ("User", "RATED", "Item")


def _by_key(snapshot: GraphSnapshot) -> dict[EdgeType, set[tuple[object, object]]]:
    keys = {label: k.tolist() for label, k in snapshot.node_keys.items()}
    return {(s, r, d): {(keys[s][a], keys[d][b]) for a, b in e.T.tolist()} for (s, r, d), e in snapshot.edges.items()}


def _text(snapshot: GraphSnapshot) -> dict[int, list[float]]:
    vectors = snapshot.node_props["Item"]["feat_text"]
    return {k: v for k, v in zip(snapshot.node_keys["Item"].tolist(), vectors.tolist()) if not np.isnan(v).any()}


@pytest.mark.neo4j
@pytest.mark.parametrize("world", [FILMS, TOY], ids=["films", "toy"])
def test_neo4j_exports_what_the_learning_view_holds(store: GraphStore, world: TwoTastes) -> None:
    world.load(store)
    exported, held = export_training_snapshot(store), world.snapshot()
    assert {t: sorted(k.tolist()) for t, k in exported.node_keys.items()} == {
        t: sorted(k.tolist()) for t, k in held.node_keys.items()
    }
    expected = _by_key(held)
    assert world.coming and set(world.coming) <= expected[RATED]
    expected[RATED] -= set(world.coming)  # nobody has rated a cold film yet
    assert _by_key(exported) == expected
    got, want = _text(exported), _text(held)
    assert got.keys() == want.keys() == set(world.films[0] + world.films[1])
    np.testing.assert_allclose([got[k] for k in sorted(got)], [want[k] for k in sorted(want)], rtol=1e-6)
    assert _stars(exported) == sorted(world.ratings)


def _stars(snapshot: GraphSnapshot) -> list[tuple[int, int, int]]:
    users, items = snapshot.node_keys["User"].tolist(), snapshot.node_keys["Item"].tolist()
    (u, i), stars = snapshot.edges[RATED].tolist(), snapshot.edge_props[RATED]["rating"].tolist()
    return sorted((users[a], items[b], int(s)) for a, b, s in zip(u, i, stars))
