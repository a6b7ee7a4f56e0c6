"""Random real paths between a user and an item: the baseline an explanation's faithfulness is measured
against (``bench/recommend_latency.py``).

Masking the nodes of the path an answer shows first should lower the model's score more than masking
the nodes of *another real path of the same length between the same user and item*; random nodes
drawn from the whole graph are almost never near either, so beating them says little. The paths
are drawn from the :class:`~kgrec.graph.neighbourhood.Neighbourhood` (every hop a stored
relationship), uniformly among:

* two hops: user -social- friend -interaction-> item;
* three hops: user -> an item they interacted with -> a knowledge node next to the item, or another
  user who interacted with both;
* four hops: user -> an item they interacted with -> m1 -> m2 -> item over knowledge hops (at most
  ``budget`` looked at).
"""

from __future__ import annotations

import random
from typing import Any

from kgrec.graph.neighbourhood import Neighbourhood
from kgrec.recommend.model import Node


def random_paths(
    hood: Neighbourhood, user: Any, item: Any, hops: int, n: int, rng: random.Random, *, budget: int = 20000
) -> list[list[Node]]:
    """Up to ``n`` distinct random real paths from ``user`` to ``item`` with ``hops`` relationships,
    each as its middle nodes (label, key), user and item left out."""
    found = {2: _two, 3: _three, 4: _four}.get(hops, lambda *a: [])(hood, user, item, budget)
    unique = list(dict.fromkeys(tuple(p) for p in found))
    return [list(p) for p in rng.sample(unique, min(n, len(unique)))]


def _two(hood: Neighbourhood, user: Any, item: Any, budget: int) -> list[list[Node]]:
    raters = hood.raters.get(item, {})
    return [[(hood.schema.users, f)] for f, _, _ in hood.friends.get(user, ()) if f in raters and f != user]


def _three(hood: Neighbourhood, user: Any, item: Any, budget: int) -> list[list[Node]]:
    s, target = hood.schema, hood.id_of(hood.schema.items, item)
    if target is None:
        return []
    next_to_item = {h.node for h in hood.hops[target]}
    raters = set(hood.raters.get(item, {})) - {user}
    out: list[list[Node]] = []
    for film in hood.ratings.get(user, {}):
        start = hood.id_of(s.items, film)
        if film == item or start is None:
            continue
        for mid in {h.node for h in hood.hops[start]} & next_to_item:
            out.append([(s.items, film), (hood.nodes[mid].label, hood.nodes[mid].key)])
        out += [
            [(s.items, film), (s.users, other)] for other in sorted(raters & hood.raters.get(film, {}).keys(), key=str)
        ]
    return out


def _four(hood: Neighbourhood, user: Any, item: Any, budget: int) -> list[list[Node]]:
    s, target = hood.schema, hood.id_of(hood.schema.items, item)
    if target is None:
        return []
    starts = {
        n: film for film in hood.ratings.get(user, {}) if film != item and (n := hood.id_of(s.items, film)) is not None
    }
    out: list[list[Node]] = []
    for end in hood.hops[target]:
        for inner in hood.hops[end.node]:
            m1, m2 = inner.node, end.node
            for first in hood.hops[m1] if m1 != target and m1 not in starts else ():
                if first.node in starts and first.node != m2 and len(out) < budget:
                    out.append([(s.items, starts[first.node]), _ref(hood, m1), _ref(hood, m2)])
    return out


def _ref(hood: Neighbourhood, node: int) -> Node:
    return hood.nodes[node].label, hood.nodes[node].key
