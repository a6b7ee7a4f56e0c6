"""Explanation paths: real paths in the graph from a user to an item, ranked by what they add to its score.

Paths are found in the :class:`~kgrec.graph.neighbourhood.Neighbourhood`, an
in-memory copy of the graph's knowledge-graph hops, interactions and social
relationships, so an answer costs no Cypher beyond the user's own interactions.
Labels and types are the declared schema's (below, MovieLens's ``RATED``).
Shapes, at most four hops:

* three hops user -RATED-> rated film -- mid -- item, where ``mid`` is a
  knowledge-graph node (director, actor, category, genre, ...) or one of the
  users nearest to this user in the learned space (``collaborative``);
* two hops user -FRIEND_OF- friend -RATED-> item over a relationship the schema
  declares ``social`` (``social``);
* four hops user -RATED-> rated film -- m1 -- m2 -- item over the knowledge
  graph, for items that no three-hop path reaches.

Paths start from the user's strongest interactions (:func:`strongest`).

Support of a path (how much it carries of the model's score): kgrec's GNN is
linear in its propagation, so a score ``w <u, i>`` splits into what each
neighbour sends along its edge (:meth:`ModelScores.direct_messages`). A path
user -> s -> mid -> item is supported by what the rated film ``s`` sends into
the user's vector, scored against the item (``w <m(s -> u), i>``), plus what
``mid`` sends into the item's vector, scored against the user
(``w <u, m(mid -> i)>``). A social path's friend ``f`` is supported in the same
way by ``w <m(f -> u), i> + w <u, m(f -> i)>``. Both are parts of the score
that silencing the path's nodes removes, but not all of it (a start film's echo
through the item's other raters is missing): the first place is decided by the
exact masking effects of a few contenders (:mod:`kgrec.recommend.faithful`,
``docs/explanations.md``). For a user folded in from liked items, a liked film's
share of the user vector is its vector over their count. Baselines without
knowledge-graph propagation fall back to cosine
similarity along the path.

Reasons worth reading (``docs/explanations.md``). A middle node's *degree* is how many
items it is one knowledge hop from (counted in the neighbourhood): a director of four films
says more than Drama. A node is *specific* when its degree is at most ``broad``
(``broad_share`` of the catalogue, at least ``BROAD_MIN``). At most one path per ``mid``
node is kept (through its best-supported rated film); an item's paths are, in this order:
specific knowledge reasons (ranked by model support and by degree: the sum of the two
ranks, one per kind of relationship first), a friend, one collaborative reason worded
about people (``42 people who rated Blue 5/5 also rated Red 4 or 5``, the count read from
the interactions), then broad knowledge nodes, and nodes with nothing to read but an id
last. Paths never start from an item without a name when the user has named ones.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kgrec.graph.neighbourhood import Hop, Neighbourhood
from kgrec.recommend.effect import MaskingEffect
from kgrec.recommend.faithful import COMPARABLE, CONTENDERS, RIVALS, arrange
from kgrec.recommend.model import ModelScores, Node
from kgrec.recommend.results import Path, PathKind, Step
from kgrec.recommend.sentences import crowd, display_name, liked_level, sentence
from kgrec.recommend.starts import strongest
from kgrec.schema import GraphSchema

__all__ = ["PathFinder", "strongest"]

log = logging.getLogger(__name__)

SETTLE = 3
"""Rounds in which first reasons are made into paths and re-measured (a crowd's person may change)."""
FOUR_HOP_BUDGET = 5000
"""Most (m2, m1) pairs a four-hop search looks at per item."""
BROAD_SHARE = 0.01
"""Default ``broad_share``: a middle node next to more than this share of the items is broad."""
BROAD_MIN = 5
"""A middle node next to at most this many items is always specific (small catalogues)."""


@dataclass(frozen=True)
class _Start:
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


@dataclass(frozen=True)
class _Candidate:
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


@dataclass(frozen=True)
class _Contest:
    """An item's contenders for the first place: the support order's first ``shown``, then the others."""

    contenders: list[_Candidate]
    shown: int
    tiers: list[int]
    built: dict[int, Path]
    """Paths already made, by position (the support order's)."""
    nodes: list[list[Node]]
    """Each contender's middle nodes (empty without effects)."""


class _Via:
    """(middle node, start film) pairs as flat arrays: the films next to each middle node.

    ``edge`` is the neighbourhood edge from the film to the node, or ``-1`` for
    a rating hop (film <-RATED- another user).
    """

    def __init__(self, hood: Neighbourhood, starts: list[Any], mid: np.ndarray, position: np.ndarray, edge: np.ndarray):
        order = np.argsort(mid, kind="stable")  # grouped by middle node
        self.hood, self.starts = hood, starts
        self.mid, self.position, self.edge = mid[order], position[order], edge[order]
        self.unique, first = np.unique(self.mid, return_index=True)
        self.ptr = np.append(first, len(self.mid))
        self.mids = set(self.unique.tolist())

    def pairs_of(self, mids: np.ndarray) -> np.ndarray:
        """The pair numbers of the (sorted, present) middle nodes ``mids``, grouped by node in that order."""
        at = np.searchsorted(self.unique, mids)
        return np.concatenate([np.arange(self.ptr[j], self.ptr[j + 1]) for j in at])

    def option(self, p: int) -> tuple[Any, Hop]:
        """The start film of pair ``p`` and its hop to the middle node."""
        e = int(self.edge[p])
        hop = self.hood.edge_hop[e] if e >= 0 else Hop(int(self.mid[p]), self.hood.interaction, False)
        return self.starts[int(self.position[p])], hop

    def by_mid(self, node: int) -> list[tuple[Any, Hop]]:
        """The (film, hop) pairs of one middle node."""
        j = int(np.searchsorted(self.unique, node))
        return [self.option(p) for p in range(self.ptr[j], self.ptr[j + 1])] if node in self.mids else []


class PathFinder:
    """Finds, ranks and words explanation paths.

    Args:
        hood: Returns the current neighbourhood (loaded from the graph on first use).
        scores: The trained model.
        neighbours: Nearest users (by embedding) that collaborative paths may go through (default: ``50``).
        per_item: Paths returned per item (default: ``3``).
        broad_share: Middle nodes next to more than this share of the items (and more than
            ``BROAD_MIN``) are broad: reasons through them come after the specific ones (default: ``0.01``).
        comparable: A specific knowledge path is the first reason when its masking effect is at least
            this share of the most effective contender's (default: ``0.6``; :mod:`kgrec.recommend.faithful`).
    """

    def __init__(
        self,
        hood: Callable[[], Neighbourhood],
        scores: ModelScores,
        *,
        neighbours: int = 50,
        per_item: int = 3,
        broad_share: float = BROAD_SHARE,
        comparable: float = COMPARABLE,
    ) -> None:
        self.hood, self.scores = hood, scores
        self.neighbours, self.per_item, self.broad_share = neighbours, per_item, broad_share
        self.contenders, self.rivals, self.comparable = CONTENDERS, RIVALS, comparable
        self._effects: MaskingEffect | None = None
        self._tried = False

    def broad(self, hood: Neighbourhood) -> int:
        """The largest degree of a specific middle node in ``hood``."""
        return max(BROAD_MIN, int(self.broad_share * hood.item_count))

    def for_user(
        self,
        user: Any,
        items: list[Any],
        cold: set[Any],
        *,
        starts: dict[Any, float | None],
        user_vector: np.ndarray | None = None,
    ) -> dict[Any, list[Path]]:
        """Top paths from ``user`` (who rated ``starts``, with their ratings) to each of ``items``.

        ``user_vector`` is given for a user the model does not know (folded in from
        what they rated); ``cold`` are items without training ratings.
        """
        hood = self.hood()
        starts = _named_first(hood, starts)
        keys = list(starts)
        if user_vector is None:
            vector = self.scores.user_vector(user)
            sent = self._sent((hood.schema.users, user), keys)
        else:
            vector = user_vector
            sent = self._item_vectors(keys) / max(len(keys), 1)
        near = [k for k in self.scores.nearest_users(vector, self.neighbours + 1) if k != user][: self.neighbours]
        step = Step(hood.schema.users, user, f"user {user}", hood.interaction, True)
        return self._paths(_Start(step, starts, vector, sent, near), items, cold)

    def for_liked(self, liked: list[Any], items: list[Any], user_vector: np.ndarray, cold: set[Any]) -> dict:
        """Top paths from a user known only by ``liked`` items (paths start at a liked item)."""
        liked = list(_named_first(self.hood(), dict.fromkeys(liked)))
        start = _Start(None, dict.fromkeys(liked), user_vector, self._item_vectors(liked) / max(len(liked), 1), [])
        return self._paths(start, items, cold)

    # -- search ---------------------------------------------------------------------------------

    def _paths(self, start: _Start, items: list[Any], cold: set[Any]) -> dict[Any, list[Path]]:
        hood = self.hood()
        targets = {item: hood.id_of(hood.schema.items, item) for item in items}
        via = self._via(hood, start, hood.around(t for t in targets.values() if t is not None), items)
        contests: dict[Any, _Contest] = {}
        for item, target in targets.items():
            if target is None:
                contests[item] = _Contest([], 0, [], {}, [])
                continue
            found = self._three(hood, start, via, item, target) + self._social(hood, start, item, target)
            if not any(not c.social for c in found):
                two_away = hood.around(hood.around([target]).tolist())
                found += self._four(hood, start, self._via(hood, start, two_away, []), item, target)
            contests[item] = self._contest(hood, start, item, found, item in cold)
        effects = self._user_effects(start, list(contests), [c.nodes for c in contests.values()])
        found = {item: e for item, e in zip(contests, effects) if e is not None}
        for _ in range(SETTLE):  # first reasons not yet paths are made, re-measured if their nodes moved
            moved = [item for item in found if self._settle(hood, start, item, contests[item], found[item], cold)]
            if not self._remeasure(start, contests, found, moved):
                break
        moved = [item for item in found if self._settle(hood, start, item, contests[item], found[item], cold)]
        self._remeasure(start, contests, found, moved)  # rare: these keep their place
        return {item: self._shown(contests[item], found.get(item)) for item in contests}

    def _contest(self, hood: Neighbourhood, start: _Start, item: Any, found: list[_Candidate], cold: bool) -> _Contest:
        """The support order's paths for ``item`` and, where the model has exact local masking effects, the
        further contenders for the first place (:mod:`kgrec.recommend.faithful`) and their middle nodes."""
        groups = self._groups(hood, found)
        ordered = self._ordered(hood, found, groups)[: self.per_item]
        if not ordered or not self._effective(start):
            built = {j: self._path(hood, start, item, c, cold) for j, c in enumerate(ordered)}
            return _Contest(ordered, len(ordered), [], built, [])
        extra = []
        for tier, group in sorted(groups.items()):  # the best-supported few of each kind
            extra += _by_support(group)[: self.contenders if tier == 0 else self.rivals]
        contenders = ordered + [c for c in extra if all(c is not x for x in ordered)]
        tier_of = {id(c): tier for tier, group in groups.items() for c in group}
        tiers = [tier_of[id(c)] for c in contenders]
        built = {j: self._path(hood, start, item, c, cold) for j, c in enumerate(ordered)}
        nodes = [_shown_nodes(built[j]) if j in built else _nodes(hood, c) for j, c in enumerate(contenders)]
        return _Contest(contenders, len(ordered), tiers, built, nodes)

    def _settle(
        self, hood: Neighbourhood, start: _Start, item: Any, contest: _Contest, effects: list[float], cold: set[Any]
    ) -> bool:
        """Makes the first reason chosen by ``effects`` into a path if it is not one yet; whether its nodes
        differ from its candidate's (a crowd's path goes through one of the people counted, maybe not the
        candidate's person: its effect must be measured again)."""
        first = _first(contest, effects, self)
        if first in contest.built:
            return False
        path = contest.built[first] = self._path(hood, start, item, contest.contenders[first], item in cold)
        nodes = _shown_nodes(path)
        moved, contest.nodes[first] = nodes != contest.nodes[first], nodes
        return moved

    def _remeasure(
        self, start: _Start, contests: dict[Any, _Contest], found: dict[Any, list[float]], moved: list[Any]
    ) -> bool:
        """Measures again the first reasons of ``moved`` items (their paths' own nodes); whether any."""
        firsts = [_first(contests[item], found[item], self) for item in moved]
        again = self._user_effects(start, moved, [[contests[i].nodes[j]] for i, j in zip(moved, firsts)])
        for item, j, effect in zip(moved, firsts, again):
            found[item][j] = found[item][j] if effect is None else effect[0]
        return bool(moved)

    def _shown(self, contest: _Contest, effects: list[float] | None) -> list[Path]:
        """The paths shown: the support order, the first reason chosen by effect where there are effects."""
        if effects is None:
            return [contest.built[j] for j in range(contest.shown)]
        chosen = arrange(contest.tiers, effects, contest.shown, self.per_item, self.comparable)
        return [dataclasses.replace(contest.built[j], effect=float(effects[j])) for j in chosen if j in contest.built]

    def _effective(self, start: _Start) -> bool:
        """Whether exact local masking effects exist for this user (not for a user folded in, a baseline
        model, a decoder that is not linear in the graph vectors)."""
        if start.step is None or self.scores is None or self.scores.messages is None:
            return False
        if self._effects is None and not self._tried:
            self._tried, self._effects = True, MaskingEffect.of(self.scores)
        return self._effects is not None and self.scores.has_user(start.step.key)

    def _user_effects(self, start: _Start, items: list[Any], nodes: list[list[list[Node]]]) -> list[list[float] | None]:
        """Per item, the masking effect of each contender's middle nodes (``None``: no effects)."""
        if not self._effective(start) or self._effects is None or start.step is None:
            return [None] * len(items)
        wanted = [j for j, n in enumerate(nodes) if n]
        found = self._effects.user_drops(start.step.key, [items[j] for j in wanted], [nodes[j] for j in wanted])
        out: list[list[float] | None] = [None] * len(items)
        for j, effects in zip(wanted, found):
            out[j] = effects
        return out

    def _via(self, hood: Neighbourhood, start: _Start, wanted: np.ndarray, items: list[Any]) -> _Via:
        """Pairs (middle node among ``wanted``, start film next to it); also (near user who rated
        one of ``items``, start film they rated too)."""
        keys = list(start.rated)
        nodes = [hood.id_of(hood.schema.items, k) for k in keys]
        known = [j for j, n in enumerate(nodes) if n is not None]
        owner, edges = hood.edges_into([nodes[j] for j in known], wanted)
        mids, positions, links = [hood.edge_next[edges]], [np.asarray(known, dtype=np.int64)[owner]], [edges]
        started, position = set(keys), {k: j for j, k in enumerate(keys)}
        for other in start.near:
            node = hood.id_of(hood.schema.users, other)
            rated = hood.ratings.get(other, {})
            if node is None or not any(item in rated for item in items):
                continue
            shared = [position[k] for k in started & rated.keys()]
            mids.append(np.full(len(shared), node, dtype=np.int64))
            positions.append(np.asarray(shared, dtype=np.int64))
            links.append(np.full(len(shared), -1, dtype=np.int64))
        return _Via(hood, keys, np.concatenate(mids), np.concatenate(positions), np.concatenate(links))

    def _three(self, hood: Neighbourhood, start: _Start, via: _Via, item: Any, target: int) -> list[_Candidate]:
        edges = hood.edges(target)
        end_mid = hood.edge_next[edges]
        raters = hood.raters.get(item, {})
        users = [n for u in start.near if u in raters and (n := hood.id_of(hood.schema.users, u)) is not None]
        end_mid = np.concatenate([end_mid, np.asarray(users, dtype=np.int64)])
        end_edge = np.concatenate([edges, np.full(len(users), -1, dtype=np.int64)])
        keep = np.isin(end_mid, via.unique, assume_unique=False)
        mids, first_end = np.unique(end_mid[keep], return_index=True)
        if not len(mids):
            return []
        end_edge = end_edge[keep][first_end]
        share = self._start_array(start, item)
        mid_support = np.asarray(self._mid_support(hood, start, item, mids.tolist()))
        pick = via.pairs_of(mids)
        value = share[via.position[pick]]
        order = np.lexsort((-value, via.mid[pick]))  # by middle node, best start film first
        best = order[np.unique(via.mid[pick][order], return_index=True)[1]]  # one per middle node, in mids order
        total = value[best] + mid_support
        found = []
        tiers = self._tiers(hood, mids)
        order = np.lexsort((-total, tiers))  # specific, readable first
        users = order[tiers[order] == 1][: self.per_item]  # a few other users, so they crowd out no knowledge
        for m in np.concatenate([order[tiers[order] != 1][: 8 * self.per_item], users]):
            if not np.isfinite(total[m]):
                continue
            s, hop = via.option(int(pick[best[m]]))
            e = int(end_edge[m])
            end = _reverse(hood.edge_hop[e], target) if e >= 0 else Hop(target, hood.interaction, True)
            found.append(_Candidate(float(total[m]), s, hop, (int(mids[m]),), end))
        return found

    def _four(self, hood: Neighbourhood, start: _Start, via: dict, item: Any, target: int) -> list[_Candidate]:
        share, found, looked = self._start_support(start, item), [], 0
        share = {k: v for k, v in share.items() if np.isfinite(v)}
        for end in hood.hops[target]:
            m2 = end.node
            for inner in hood.hops[m2]:
                m1 = inner.node
                looked += 1
                if m1 == target or m1 not in via.mids or looked > FOUR_HOP_BUDGET:
                    continue
                for s, hop in via.by_mid(m1):
                    if s in share and hood.id_of(hood.schema.items, s) != m2:
                        found.append(
                            _Candidate(share.get(s, 0.0), s, hop, (m1, m2), _reverse(end, target), _reverse(inner, m2))
                        )
        if not found:
            return []
        mids = self._mid_support(hood, start, item, sorted({c.middle[1] for c in found}))
        by_m2 = dict(zip(sorted({c.middle[1] for c in found}), mids))
        return [
            _Candidate(c.support + by_m2[c.middle[1]], c.start, c.start_hop, c.middle, c.end_hop, c.inner_hop)
            for c in found
        ]

    def _social(self, hood: Neighbourhood, start: _Start, item: Any, target: int) -> list[_Candidate]:
        """Two hops user -social- friend -interaction-> item, for each friend who has ``item``."""
        if start.step is None:
            return []
        user, raters = start.step.key, hood.raters.get(item, {})
        links = [(f, t, out) for f, t, out in hood.friends.get(user, ()) if f in raters and f != user]
        mids = [hood.id_of(hood.schema.users, f) for f, _, _ in links]
        if not links or None in mids:
            return []
        share = self._friend_share(start, item, [f for f, _, _ in links])
        mid = self._mid_support(hood, start, item, mids)  # type: ignore[arg-type]
        end = Hop(target, hood.interaction, True)
        return [
            _Candidate(a + b, None, Hop(m, t, out), (m,), end, social=True)  # type: ignore[arg-type]
            for (_, t, out), m, a, b in zip(links, mids, share, mid)
            if np.isfinite(a + b)
        ]

    # -- support --------------------------------------------------------------------------------

    def _friend_share(self, start: _Start, item: Any, friends: list[Any]) -> list[float]:
        """Per friend: the score its message into the user's vector gives ``item`` (baselines: the
        cosine of the friend and the item)."""
        users, (i, weight) = self.scores.users, self.scores.graph_item_vector(item)
        nodes = [(users, f) for f in friends]
        sent = self.scores.direct_messages((users, start.step.key if start.step else None), nodes)
        if sent is None:
            unit = i / max(float(np.linalg.norm(i)), 1e-12)
            return [0.0 if (v := self.scores.unit_vector(n)) is None else float(v @ unit) for n in nodes]
        return (sent @ i * weight).astype(np.float64).tolist()

    def _start_array(self, start: _Start, item: Any) -> np.ndarray:
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

    def _start_support(self, start: _Start, item: Any) -> dict[Any, float]:
        """Start film -> :meth:`_start_array`'s value."""
        return dict(zip(start.rated, self._start_array(start, item).tolist()))

    def _mid_support(self, hood: Neighbourhood, start: _Start, item: Any, mids: list[int]) -> list[float]:
        """For each middle node next to ``item``: the score its message into the item gives the user."""
        nodes = [_model_node(hood, m) for m in mids]
        sent = self.scores.direct_messages((self.scores.items, item), nodes)
        if sent is None:  # baselines: cosine of the node and the user
            u = start.vector / max(float(np.linalg.norm(start.vector)), 1e-12)
            return [0.0 if (v := self.scores.unit_vector(n)) is None else float(v @ u) for n in nodes]
        _, weight = self.scores.graph_item_vector(item)
        return (sent @ start.vector * weight).tolist()

    def _sent(self, user: Node, keys: list[Any]) -> np.ndarray:
        sent = self.scores.direct_messages(user, [(self.scores.items, k) for k in keys])
        return self._item_vectors(keys) if sent is None else sent

    def _item_vectors(self, keys: list[Any]) -> np.ndarray:
        """Final vectors of ``keys`` (zero rows for items the model lacks)."""
        label = self.scores.items
        out = np.zeros((len(keys), self.scores.vectors[label].shape[1]), dtype=np.float32)
        for j, key in enumerate(keys):
            row = self.scores.rows.get(label, {}).get(key)
            if row is not None:
                out[j] = self.scores.vectors[label][row]
        return out

    # -- choosing and wording -------------------------------------------------------------------

    def _tiers(self, hood: Neighbourhood, mids: np.ndarray) -> np.ndarray:
        """Per middle node: 0 specific and named, 1 a user, 2 specific without a name, 3 broad, 4 broad
        without a name."""
        users = np.fromiter((hood.nodes[m].label == hood.schema.users for m in mids.tolist()), dtype=bool)
        specific = hood.degree[mids] <= self.broad(hood)
        tier = np.where(specific, 0, 3) + np.where(hood.named[mids], 0, np.where(specific, 2, 1))
        return np.where(users, 1, tier)

    def _tier(self, hood: Neighbourhood, c: _Candidate) -> int:
        """0 specific knowledge, 1 a friend, 2 another user, 3 specific without a name, 4 broad, 5 broad
        without a name."""
        if c.social:
            return 1
        if hood.nodes[c.middle[-1]].label == hood.schema.users:
            return 2
        specific = max(int(hood.degree[m]) for m in c.middle) <= self.broad(hood)
        if _readable(hood, c.middle):
            return 0 if specific else 4
        return 3 if specific else 5

    def _chosen(self, hood: Neighbourhood, found: list[_Candidate]) -> list[_Candidate]:
        """The first ``per_item`` of :meth:`_ordered`."""
        return self._ordered(hood, found)[: self.per_item]

    def _groups(self, hood: Neighbourhood, found: list[_Candidate]) -> dict[int, list[_Candidate]]:
        """The best-supported candidate of each last middle node, by :meth:`_tier`."""
        best: dict[tuple[tuple[int, ...], bool], _Candidate] = {}
        for c in sorted(found, key=lambda c: -c.support):
            best.setdefault((c.middle, c.social), c)
        tiers: dict[int, list[_Candidate]] = {}
        for c in best.values():
            tiers.setdefault(self._tier(hood, c), []).append(c)
        return tiers

    def _ordered(
        self, hood: Neighbourhood, found: list[_Candidate], tiers: dict[int, list[_Candidate]] | None = None
    ) -> list[_Candidate]:
        """One per last middle node, ordered: specific knowledge reasons (the best-supported first, then
        by the sum of their support rank and their degree rank, one per relationship type first; all but
        the last place), a friend and one collaborative reason, further specific ones, specific nodes
        without a name, other friends, broad knowledge, broad nodes without a name."""
        tiers = self._groups(hood, found) if tiers is None else tiers
        specific = _by_rank_sum(hood, tiers.get(0, []))
        if specific:  # the first reason is the best-supported specific one (what the score depends on most)
            best = max(specific, key=lambda c: c.support)
            specific = [best] + [c for c in specific if c is not best]
        kinds: set[str] = set()
        first = [c for c in specific if c.end_hop.rel_type not in kinds and not kinds.add(c.end_hop.rel_type)]
        specific = first + [c for c in specific if all(c is not x for x in first)]
        people = _by_support(tiers.get(1, []))[:1] + _by_support(tiers.get(2, []))[:1]  # a friend, others
        keep = max(self.per_item - 1, 1)  # the last place goes to people when there are some
        ordered = specific[:keep] + people + specific[keep:] + _by_rank_sum(hood, tiers.get(3, []))
        ordered += _by_support(tiers.get(1, []))[1:] + _by_support(tiers.get(4, [])) + _by_support(tiers.get(5, []))
        return ordered

    def _path(self, hood: Neighbourhood, start: _Start, item: Any, c: _Candidate, cold: bool) -> Path:
        schema = hood.schema
        if c.social and start.step is not None:
            steps = [Step(schema.users, start.step.key, start.step.name, c.start_hop.rel_type, c.start_hop.forward)]
        else:
            steps = [] if start.step is None else [start.step]
            hop = c.start_hop
            steps.append(Step(schema.items, c.start, hood.item_title(c.start), hop.rel_type, hop.forward))
        hops = [c.inner_hop, c.end_hop] if c.inner_hop is not None else [c.end_hop]
        middle = list(c.middle)
        count, levels = None, (None, None)
        if not c.social and hood.nodes[middle[-1]].label == schema.users:  # about people, not ids
            count, levels, other = self._crowd(hood, start, c.start, item, hood.nodes[middle[-1]].key)
            middle[-1] = hood.id_of(schema.users, other) if other is not None else middle[-1]
        for node, hop in zip(middle, hops):
            label, key, name = _ref(hood, node)
            shown = name if c.social or label != schema.users else None  # other users by key, friends by name
            name = display_name(schema, label, key, shown) if hood.named[node] else _unnamed(schema, label, key, hop)
            steps.append(Step(label, key, name, hop.rel_type, hop.forward, int(hood.degree[node])))
        steps.append(Step(schema.items, item, hood.item_title(item), None, None))
        kind: PathKind = "social" if c.social else "content" if cold else "knowledge"
        if kind == "knowledge" and steps[-2].label == schema.users:
            kind = "collaborative"
        if count is not None:
            text = crowd(schema, steps[1].name, steps[-1].name, count, levels)
        else:
            text = sentence(schema, steps, start.rated.get(c.start), cold=cold)
        specific = self._tier(hood, c) == 0
        return Path(tuple(steps), text, c.support, kind, count, specific)

    def _crowd(
        self, hood: Neighbourhood, start: _Start, film: Any, item: Any, other: Any
    ) -> tuple[int, tuple[float | None, float | None], Any]:
        """How many people liked ``film`` as the user did and ``item`` (a collaborative reason's count),
        the levels counted and the person the path goes through (``other`` when one of them)."""
        liked = liked_level(hood.schema)
        own = start.rated.get(film)
        levels = (None if liked is None else own if own is not None else liked, liked)
        user = start.step.key if start.step is not None else None
        people = hood.co_raters(film, item, levels, but=user)
        if not people:  # the path's own person did not like both: count everyone who has both
            levels = (None, None)
            people = hood.co_raters(film, item, levels, but=user)
        return len(people), levels, other if other in people or not people else people[0]


def _reverse(hop: Hop, origin: int) -> Hop:
    """``hop`` (seen from ``origin``) as seen from its other end, pointing back at ``origin``."""
    return Hop(origin, hop.rel_type, not hop.forward)


def _first(contest: _Contest, effects: list[float], finder: PathFinder) -> int:
    """The position of the first reason ``effects`` choose among ``contest``'s contenders."""
    return arrange(contest.tiers, effects, contest.shown, finder.per_item, finder.comparable)[0]


def _nodes(hood: Neighbourhood, c: _Candidate) -> list[Node]:
    """The middle nodes of the path ``c`` becomes (start item first; a friend alone)."""
    middle = [_model_node(hood, m) for m in c.middle]
    return middle if c.social else [(hood.schema.items, c.start), *middle]


def _shown_nodes(path: Path) -> list[Node]:
    return [(s.label, s.key) for s in path.steps[1:-1]]


def _model_node(hood: Neighbourhood, mid: int) -> Node:
    label, key, _ = _ref(hood, mid)
    return label, key


def _ref(hood: Neighbourhood, node: int) -> tuple[str, Any, str | None]:
    ref = hood.nodes[node]
    return ref.label, ref.key, ref.name


def _readable(hood: Neighbourhood, middle: tuple[int, ...]) -> bool:
    """Whether every middle node has a name (users read as ``user 42``, so they count as named)."""
    return bool(hood.named[list(middle)].all())


def _unnamed(schema: GraphSchema, label: str, key: Any, hop: Hop) -> str:
    """A node without a name, by what it is to the item: ``a person (m.04bpvh)``, ``a tag (17)``, else
    ``m.02h40lc (no name in the graph)``."""
    decl, ident = schema.relationships.get(hop.rel_type), str(key).rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    noun = decl and (decl.noun or ("person" if decl.person else None))
    if not noun:
        return f"{ident} (no name in the graph)"
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun} ({ident})"


def _named_first(hood: Neighbourhood, starts: dict[Any, float | None]) -> dict[Any, float | None]:
    """``starts`` without items that have no name (a placeholder title dropped at ingest), unless all lack one."""
    named = {k: w for k, w in starts.items() if (n := hood.id_of(hood.schema.items, k)) is not None and hood.named[n]}
    return named or starts


def _by_support(found: list[_Candidate]) -> list[_Candidate]:
    return sorted(found, key=lambda c: -c.support)


def _by_rank_sum(hood: Neighbourhood, found: list[_Candidate]) -> list[_Candidate]:
    """Best first by the sum of the support rank and the specificity (degree) rank; ties by support."""
    by_support = {id(c): r for r, c in enumerate(_by_support(found))}
    degree = {id(c): max(int(hood.degree[m]) for m in c.middle) for c in found}
    ordered = sorted(degree.values())
    rank = {key: bisect.bisect_left(ordered, d) for key, d in degree.items()}  # ties share a rank
    return sorted(found, key=lambda c: (by_support[id(c)] + rank[id(c)], -c.support))
