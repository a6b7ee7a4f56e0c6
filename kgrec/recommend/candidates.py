"""Candidate reasons: real paths from a user to each recommended item, found in the neighbourhood, with
the support the model gives each (:mod:`kgrec.recommend.explain` ranks and words them).

Shapes, at most four hops (labels and types are the declared schema's; below, MovieLens's ``RATED``):

* three hops user -RATED-> start film -- mid -- item, ``mid`` a knowledge-graph node or one of the users
  nearest to this user in the learned space (:meth:`Search.three`);
* two hops user -FRIEND_OF- friend -RATED-> item over a ``social`` relationship (:meth:`Search.social`);
* four hops user -RATED-> start film -- m1 -- m2 -- item, for items no three-hop path reaches
  (:meth:`Search.four`).

A search works on arrays: the start films and the near users as neighbourhood node numbers
(:class:`Start`), each node's row in the model's stacked order and its kind of reason
(:class:`~kgrec.recommend.nodes.NodeTable`, made once per neighbourhood), so an item's candidates cost
a few array operations and only the few a contest can use become :class:`Candidate` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kgrec.graph.neighbourhood import Hop, Neighbourhood
from kgrec.recommend.csr import lookup, ranges
from kgrec.recommend.model import ModelScores
from kgrec.recommend.nodes import PERSON, NodeTable
from kgrec.recommend.results import Step

__all__ = ["Candidate", "Search", "Start", "Via", "make_start"]

FOUR_HOP_BUDGET = 5000
"""Most (m2, m1) pairs a four-hop search looks at per item."""


@dataclass(frozen=True)
class Start:
    """Where paths begin: the user (or none, for liked items), the films they may start from, their shares."""

    step: Step | None
    rated: dict[Any, float | None]
    """Start film -> the user's rating of it (``None`` when unknown)."""
    vector: np.ndarray
    """The user's graph vector."""
    sent: np.ndarray
    """``(len(rated), dim)``: each start film's direct share of the user's vector (zero when unknown)."""
    near: list[Any]
    """Users a collaborative path may pass through."""
    nodes: np.ndarray
    """Each start film's neighbourhood node (``rated`` order; ``-1``: not in the neighbourhood)."""
    near_nodes: np.ndarray
    """The neighbourhood nodes of ``near`` (in its order; those in the neighbourhood)."""


def make_start(
    hood: Neighbourhood,
    step: Step | None,
    rated: dict[Any, float | None],
    vector: np.ndarray,
    sent: np.ndarray,
    near: list,
) -> Start:
    """A :class:`Start`, with its films and near users found in ``hood``."""
    s = hood.schema
    nodes = np.array([-1 if (n := hood.id_of(s.items, k)) is None else n for k in rated], dtype=np.int64)
    near_nodes = [n for u in near if (n := hood.id_of(s.users, u)) is not None]
    return Start(step, rated, vector, sent, near, nodes, np.asarray(near_nodes, dtype=np.int64))


@dataclass(slots=True)
class Candidate:
    """A path that may become a reason, before it is worded."""

    support: float
    start: Any
    start_hop: Hop
    """From the start film to the middle node (four hops: to ``m1``)."""
    middle: tuple[int, ...]
    """Neighbourhood ids of the middle nodes (one, or ``m1, m2``)."""
    end_hop: Hop
    """From the last middle node to the item."""
    inner_hop: Hop | None = None
    """Four hops only: from ``m1`` to ``m2``."""
    social: bool = False
    """Two hops user -social- friend -interaction-> item: ``start`` is ``None``, ``start_hop`` the
    social hop from the user to the friend (``middle``)."""
    tier: int | None = None
    """Its kind of reason (``PathFinder._tier``) when the search knew it."""


class Via:
    """(middle node, start film) pairs as flat arrays: the films next to each middle node.

    ``edge`` is the neighbourhood edge from the film to the node, or ``-1`` for
    a rating hop (film <-RATED- another user).
    """

    def __init__(self, table: NodeTable, starts: list[Any], mid: np.ndarray, position: np.ndarray, edge: np.ndarray):
        order = np.argsort(mid, kind="stable")  # grouped by middle node
        self.table, self.starts, self.interaction = table, starts, table.hood.interaction
        self.mid, self.position, self.edge = mid[order], position[order], edge[order]
        self.unique, first = np.unique(self.mid, return_index=True)
        self.ptr = np.append(first, len(self.mid))
        self.mids = set(self.unique.tolist())

    def pairs_of(self, mids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pair numbers of the (sorted, present) middle nodes ``mids``, grouped by node in that order,
        and where each node's group begins."""
        at = np.searchsorted(self.unique, mids)
        lo, hi = self.ptr[at], self.ptr[at + 1]
        return ranges(lo, hi), np.cumsum(hi - lo) - (hi - lo)

    def option(self, p: int) -> tuple[Any, Hop]:
        """The start film of pair ``p`` and its hop to the middle node."""
        e = int(self.edge[p])
        hop = self.table.hop(e) if e >= 0 else Hop(int(self.mid[p]), self.interaction, False)
        return self.starts[int(self.position[p])], hop

    def by_mid(self, node: int) -> list[tuple[Any, Hop]]:
        """The (film, hop) pairs of one middle node."""
        j = int(np.searchsorted(self.unique, node))
        return [self.option(p) for p in range(self.ptr[j], self.ptr[j + 1])] if node in self.mids else []


class Search:
    """Finds an item's candidates for one start (a user or liked items) in one neighbourhood.

    Args:
        scores: The trained model.
        table: The neighbourhood's :class:`NodeTable`.
        per_item: Paths an item shows (the search keeps a few times as many candidates).
    """

    def __init__(self, scores: ModelScores, table: NodeTable, per_item: int) -> None:
        self.scores, self.table, self.hood, self.per_item = scores, table, table.hood, per_item
        self.interaction = self.hood.interaction
        self._friend_of: tuple[Start, list[tuple[Any, str, bool]], np.ndarray] | None = None

    def via(self, start: Start, targets: np.ndarray) -> Via:
        """Pairs (node next to a start film, that film); also (near user who has one of the items
        ``targets`` (nodes), start film they have too)."""
        hood = self.hood
        known = np.flatnonzero(start.nodes >= 0)
        src = start.nodes[known]
        edges = ranges(hood.edge_ptr[src], hood.edge_ptr[src + 1])
        owner = np.repeat(np.arange(len(src)), hood.edge_ptr[src + 1] - hood.edge_ptr[src])
        mids, positions, links = [hood.edge_next[edges]], [known[owner]], [edges]
        if len(targets) and len(start.near_nodes):
            near, position = self._near_pairs(start, targets)
            mids.append(near)
            positions.append(position)
            links.append(np.full(len(near), -1, dtype=np.int64))
        return Via(
            self.table, list(start.rated), np.concatenate(mids), np.concatenate(positions), np.concatenate(links)
        )

    def _near_pairs(self, start: Start, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(near user, position of a start film they have too), for the near users who have one of
        ``targets``: in the order of ``start.near``, films in the order of ``start.rated``."""
        table, users = self.hood.by_user, start.near_nodes
        lo, hi = table.ptr[users], table.ptr[users + 1]
        cols, owner = table.cols[ranges(lo, hi)], np.repeat(np.arange(len(users)), hi - lo)
        useful = np.zeros(len(users), dtype=bool)
        useful[owner[np.isin(cols, targets)]] = True
        by_node = np.argsort(start.nodes, kind="stable")
        at, shared = lookup(start.nodes[by_node], cols)
        shared &= useful[owner]
        owner, position = owner[shared], by_node[at[shared]]
        order = np.lexsort((position, owner))
        return users[owner[order]], position[order]

    def three(self, start: Start, via: Via, item: Any, target: int) -> list[Candidate]:
        """Three hops through a knowledge node or a near user who has ``item`` (node ``target``): the best
        start film of each middle node; per kind, the best-supported few."""
        hood = self.hood
        edges = hood.edges(target)
        raters = hood.by_item.row(target)[0]
        users = start.near_nodes[lookup(raters, start.near_nodes)[1]]
        end_mid = np.concatenate([hood.edge_next[edges], users])
        end_edge = np.concatenate([edges, np.full(len(users), -1, dtype=np.int64)])
        keep = lookup(via.unique, end_mid)[1]
        mids, first_end = np.unique(end_mid[keep], return_index=True)
        if not len(mids):
            return []
        end_edge = end_edge[keep][first_end]
        share = self.start_array(start, item)
        mid_support = self.mid_support(start, item, mids)
        pick, begin = via.pairs_of(mids)
        value = share[via.position[pick]]
        best = _first_best(value, begin)  # per middle node (mids order), its best start film's pair
        total = value[best] + mid_support
        tiers = self.table.tier[mids]
        order = np.lexsort((-total, tiers))  # specific, readable first
        users = order[tiers[order] == PERSON][: self.per_item]  # a few other users, so they crowd out no knowledge
        chosen = np.concatenate([order[tiers[order] != PERSON][: 8 * self.per_item], users])
        chosen = chosen[np.isfinite(total[chosen])]
        pair = pick[best[chosen]]
        films = [via.starts[j] for j in via.position[pair].tolist()]
        columns = (via.edge[pair], mids[chosen], end_edge[chosen], total[chosen], tiers[chosen])
        return [self._three(*c, target) for c in zip(films, *(a.tolist() for a in columns))]

    def _three(self, film: Any, first: int, mid: int, last: int, support: float, tier: int, target: int) -> Candidate:
        """A three-hop candidate: ``film`` -(edge ``first``, or a rating)- ``mid`` -(``last``, or a rating)- item."""
        hop = self.table.hop(first) if first >= 0 else Hop(mid, self.interaction, False)
        end = self.table.hop(last, target) if last >= 0 else Hop(target, self.interaction, True)
        return Candidate(support, film, hop, (mid,), end, tier=tier)

    def four(self, start: Start, via: Via, item: Any, target: int) -> list[Candidate]:
        """Four hops start film -- m1 -- m2 -- item over the knowledge graph (at most ``FOUR_HOP_BUDGET``
        (m2, m1) pairs looked at, in the order of the item's hops and then of m2's)."""
        hood = self.hood
        share = self.start_array(start, item)
        ends = hood.edges(target)
        lo, hi = hood.edge_ptr[hood.edge_next[ends]], hood.edge_ptr[hood.edge_next[ends] + 1]
        inner = ranges(lo, hi)[:FOUR_HOP_BUDGET]  # m2 -> m1
        end = np.repeat(ends, hi - lo)[: len(inner)]  # item -> m2
        m1 = hood.edge_next[inner]
        at, keep = lookup(via.unique, m1)
        keep &= m1 != target
        inner, end, at = inner[keep], end[keep], at[keep]
        pair, owner = ranges(via.ptr[at], via.ptr[at + 1]), np.repeat(np.arange(len(at)), np.diff(via.ptr)[at])
        position, m2 = via.position[pair], hood.edge_next[end[owner]]
        usable = np.isfinite(share[position]) & (start.nodes[position] != m2)  # no loop through the start film
        usable &= via.edge[pair] >= 0  # knowledge hops only (not a near user's rating)
        pair, owner, m2 = pair[usable], owner[usable], m2[usable]
        if not len(pair):
            return []
        m2s = np.unique(m2)
        total = share[via.position[pair]] + self.mid_support(start, item, m2s)[np.searchsorted(m2s, m2)]
        edges = zip(pair.tolist(), inner[owner].tolist(), end[owner].tolist(), m2.tolist(), total.tolist())
        table = self.table
        return [
            Candidate(support, *via.option(p), (int(via.mid[p]), mid2), table.hop(e2, target), table.hop(e1, mid2))
            for p, e1, e2, mid2, support in edges
        ]

    def social(self, start: Start, item: Any, target: int) -> list[Candidate]:
        """Two hops user -social- friend -interaction-> item, for each friend who has ``item``."""
        if start.step is None:
            return []
        links, nodes = self._friends(start)
        hit = np.flatnonzero(lookup(self.hood.by_item.row(target)[0], nodes)[1])
        if not len(hit):
            return []
        links, mids = [links[j] for j in hit.tolist()], nodes[hit]
        share = self.friend_share(start, item, [f for f, _, _ in links])
        mid = self.mid_support(start, item, mids).tolist()
        end = Hop(target, self.interaction, True)
        return [
            Candidate(a + b, None, Hop(m, t, out), (m,), end, social=True, tier=1)
            for (_, t, out), m, a, b in zip(links, mids.tolist(), share, mid)
            if np.isfinite(a + b)
        ]

    def _friends(self, start: Start) -> tuple[list[tuple[Any, str, bool]], np.ndarray]:
        """The user's social relationships (other user, type, stored from the user) to other users in the
        neighbourhood, and those users' nodes (found once per search)."""
        if self._friend_of is None or self._friend_of[0] is not start:
            hood, user = self.hood, start.step.key if start.step is not None else None
            links = [(f, t, out, hood.id_of(hood.schema.users, f)) for f, t, out in hood.friends.get(user, ())]
            links = [link for link in links if link[0] != user and link[3] is not None]
            nodes = np.array([link[3] for link in links], dtype=np.int64)
            self._friend_of = (start, [link[:3] for link in links], nodes)
        return self._friend_of[1], self._friend_of[2]

    # -- support --------------------------------------------------------------------------------

    def friend_share(self, start: Start, item: Any, friends: list[Any]) -> list[float]:
        """Per friend: the score its message into the user's vector gives ``item`` (baselines: the
        cosine of the friend and the item)."""
        users, (i, weight) = self.scores.users, self.scores.graph_item_vector(item)
        nodes = [(users, f) for f in friends]
        sent = self.scores.direct_messages((users, start.step.key if start.step else None), nodes)
        if sent is None:
            unit = i / max(float(np.linalg.norm(i)), 1e-12)
            return [0.0 if (v := self.scores.unit_vector(n)) is None else float(v @ unit) for n in nodes]
        return (sent @ i * weight).astype(np.float64).tolist()

    def start_array(self, start: Start, item: Any) -> np.ndarray:
        """Per start film (``start.rated`` order): the score its share of the user's vector gives ``item``
        (-inf for ``item`` itself: a path does not loop)."""
        i, weight = self.scores.graph_item_vector(item)
        if self.scores.messages is None:  # baselines: cosine of the film and the item
            norms = np.maximum(np.linalg.norm(start.sent, axis=1), 1e-12)
            out = start.sent @ i / norms / max(float(np.linalg.norm(i)), 1e-12)
        else:
            out = start.sent @ i * weight
        out = out.astype(np.float64)
        if item in start.rated:
            out[list(start.rated).index(item)] = -np.inf
        return out

    def mid_support(self, start: Start, item: Any, mids: np.ndarray) -> np.ndarray:
        """For each middle node next to ``item``: the score its message into the item gives the user."""
        sent = self.scores.direct_rows((self.scores.items, item), self.table.stacked[mids])
        if sent is None:  # baselines: cosine of the node and the user
            u = start.vector / max(float(np.linalg.norm(start.vector)), 1e-12)
            nodes = [(ref.label, ref.key) for ref in map(self.hood.nodes.__getitem__, mids.tolist())]
            return np.array([0.0 if (v := self.scores.unit_vector(n)) is None else float(v @ u) for n in nodes])
        _, weight = self.scores.graph_item_vector(item)
        return (sent @ start.vector * weight).astype(np.float64)


def _first_best(value: np.ndarray, begin: np.ndarray) -> np.ndarray:
    """Per group of ``value`` (groups start at ``begin``, none empty): the position of its largest value,
    the first of equal ones."""
    top = np.repeat(np.maximum.reduceat(value, begin), np.diff(np.append(begin, len(value))))
    hit = np.flatnonzero(value == top)
    return hit[np.searchsorted(hit, begin)]

