"""Explanation paths: real paths in the graph from a user to an item, ranked by what they add to its score.

Paths are found in the :class:`~kgrec.graph.neighbourhood.Neighbourhood`, an
in-memory copy of the graph's knowledge-graph hops, interactions and social
relationships, so an answer costs no Cypher beyond the user's own interactions:
three hops through a knowledge node or a near user, two through a friend, four
through two knowledge nodes where nothing shorter exists
(:mod:`kgrec.recommend.candidates`). Paths start from the user's strongest
interactions (:func:`strongest`).

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
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from kgrec.graph.neighbourhood import Hop, Neighbourhood
from kgrec.recommend.candidates import Candidate, Search, Start, make_start
from kgrec.recommend.faithful import COMPARABLE, CONTENDERS, RIVALS, Contest, Effects, contest, first_reasons
from kgrec.recommend.model import ModelScores
from kgrec.recommend.nodes import (
    BROAD,
    BROAD_UNNAMED,
    FRIEND,
    PERSON,
    SPECIFIC,
    SPECIFIC_UNNAMED,
    NodeTable,
)
from kgrec.recommend.results import Path, PathKind, Step
from kgrec.recommend.sentences import crowd, display_name, liked_level, sentence
from kgrec.recommend.starts import strongest
from kgrec.schema import GraphSchema

__all__ = ["PathFinder", "strongest"]

log = logging.getLogger(__name__)

BROAD_SHARE = 0.01
"""Default ``broad_share``: a middle node next to more than this share of the items is broad."""
BROAD_MIN = 5
"""A middle node next to at most this many items is always specific (small catalogues)."""


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
        self.effects = Effects(scores)
        self._table: NodeTable | None = None

    def prepare(self) -> None:
        """Read the neighbourhood, index its nodes in the model, make the masking effects and the near users'
        index now (what the first answer would otherwise wait for)."""
        self._nodes(self.hood())
        self.effects.prepare()
        self.scores.near.prepare()

    @property
    def ready(self) -> bool:
        """Whether :meth:`prepare` has been done (a neighbourhood read again later is indexed by the next
        answer)."""
        return self._table is not None and self.effects.ready and self.scores.near.ready

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
        near = self.near_users(user, vector)
        step = Step(hood.schema.users, user, f"user {user}", hood.interaction, True)
        return self._paths(hood, make_start(hood, step, starts, vector, sent, near), items, cold)

    def near_users(self, user: Any, vector: np.ndarray | None = None) -> list[Any]:
        """The users nearest to ``user`` (by ``vector``, else by the model's vector of a known user) that
        collaborative paths may go through."""
        vector = self.scores.user_vector(user) if vector is None else vector
        return [k for k in self.scores.nearest_users(vector, self.neighbours + 1) if k != user][: self.neighbours]

    def for_liked(self, liked: list[Any], items: list[Any], user_vector: np.ndarray, cold: set[Any]) -> dict:
        """Top paths from a user known only by ``liked`` items (paths start at a liked item)."""
        hood = self.hood()
        liked = list(_named_first(hood, dict.fromkeys(liked)))
        sent = self._item_vectors(liked) / max(len(liked), 1)
        return self._paths(hood, make_start(hood, None, dict.fromkeys(liked), user_vector, sent, []), items, cold)

    def _paths(self, hood: Neighbourhood, start: Start, items: list[Any], cold: set[Any]) -> dict[Any, list[Path]]:
        search = Search(self.scores, self._nodes(hood), self.per_item)
        targets = {item: hood.id_of(hood.schema.items, item) for item in items}
        found = np.array([t for t in targets.values() if t is not None], dtype=np.int64)
        via = search.via(start, found)
        exact = self.effects.exact(start)
        contests: dict[Any, Contest] = {}
        for item, target in targets.items():
            if target is None:
                contests[item] = Contest([], 0, [], {}, [])
                continue
            paths = search.three(start, via, item, target) + search.social(start, item, target)
            if not any(not c.social for c in paths):
                paths += search.four(start, via, item, target)
            contests[item] = contest(self, hood, start, item, paths, item in cold, exact)
        return first_reasons(self, hood, start, contests, cold, self.effects)

    def _nodes(self, hood: Neighbourhood) -> NodeTable:
        """The :class:`NodeTable` of ``hood`` (made again when the neighbourhood is read again)."""
        table = self._table
        if table is None or table.hood is not hood:
            table = self._table = NodeTable(hood, self.scores, self.broad(hood))
        return table

    def _sent(self, user: tuple[str, Any], keys: list[Any]) -> np.ndarray:
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

    def _tier(self, hood: Neighbourhood, c: Candidate) -> int:
        """The kind of reason ``c`` is (:data:`~kgrec.recommend.nodes.SPECIFIC` ... ``BROAD_UNNAMED``)."""
        if c.tier is not None:
            return c.tier
        if c.social:
            return FRIEND
        if hood.nodes[c.middle[-1]].label == hood.schema.users:
            return PERSON
        specific = max(int(hood.degree[m]) for m in c.middle) <= self.broad(hood)
        if _readable(hood, c.middle):
            return SPECIFIC if specific else BROAD
        return SPECIFIC_UNNAMED if specific else BROAD_UNNAMED

    def _chosen(self, hood: Neighbourhood, found: list[Candidate]) -> list[Candidate]:
        """The first ``per_item`` of :meth:`ordered`."""
        return self.ordered(hood, found)[: self.per_item]

    def groups(self, hood: Neighbourhood, found: list[Candidate]) -> dict[int, list[Candidate]]:
        """The best-supported candidate of each last middle node, by :meth:`_tier`."""
        best: dict[tuple[tuple[int, ...], bool], Candidate] = {}
        for c in sorted(found, key=lambda c: -c.support):
            best.setdefault((c.middle, c.social), c)
        tiers: dict[int, list[Candidate]] = {}
        for c in best.values():
            tiers.setdefault(self._tier(hood, c), []).append(c)
        return tiers

    def ordered(
        self, hood: Neighbourhood, found: list[Candidate], tiers: dict[int, list[Candidate]] | None = None
    ) -> list[Candidate]:
        """One per last middle node, ordered: specific knowledge reasons (the best-supported first, then
        by the sum of their support rank and their degree rank, one per relationship type first; all but
        the last place), a friend and one collaborative reason, further specific ones, specific nodes
        without a name, other friends, broad knowledge, broad nodes without a name."""
        tiers = self.groups(hood, found) if tiers is None else tiers
        specific = _by_rank_sum(hood, tiers.get(SPECIFIC, []))
        if specific:  # the first reason is the best-supported specific one (what the score depends on most)
            best = max(specific, key=lambda c: c.support)
            specific = [best] + [c for c in specific if c is not best]
        kinds: set[str] = set()
        first = [c for c in specific if c.end_hop.rel_type not in kinds and not kinds.add(c.end_hop.rel_type)]
        specific = first + [c for c in specific if all(c is not x for x in first)]
        people = _by_support(tiers.get(FRIEND, []))[:1] + _by_support(tiers.get(PERSON, []))[:1]  # a friend, others
        keep = max(self.per_item - 1, 1)  # the last place goes to people when there are some
        ordered = specific[:keep] + people + specific[keep:] + _by_rank_sum(hood, tiers.get(SPECIFIC_UNNAMED, []))
        ordered += _by_support(tiers.get(FRIEND, []))[1:] + _by_support(tiers.get(BROAD, []))
        ordered += _by_support(tiers.get(BROAD_UNNAMED, []))
        return ordered

    def path(self, hood: Neighbourhood, start: Start, item: Any, c: Candidate, cold: bool) -> Path:
        """``c`` made into a path: its steps, named, and its sentence (a crowd's person may change)."""
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
            count, levels, middle[-1] = self._crowd(hood, start, c.start, item, middle[-1])
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
        specific = self._tier(hood, c) == SPECIFIC
        return Path(tuple(steps), text, c.support, kind, count, specific)

    def _crowd(
        self, hood: Neighbourhood, start: Start, film: Any, item: Any, other: int
    ) -> tuple[int, tuple[float | None, float | None], int]:
        """How many people liked ``film`` as the user did and ``item`` (a collaborative reason's count),
        the levels counted and the person the path goes through (node ``other`` when one of them, else
        the one whose key sorts first)."""
        liked = liked_level(hood.schema)
        own = start.rated.get(film)
        levels = (None if liked is None else own if own is not None else liked, liked)
        user = hood.id_of(hood.schema.users, start.step.key) if start.step is not None else None
        table = self._nodes(hood)
        people = _without(table.co_raters(film, item, levels), user)
        if not len(people):  # the path's own person did not like both: count everyone who has both
            levels = (None, None)
            people = _without(table.co_raters(film, item, levels), user)
        if not len(people) or _has(people, other):
            return len(people), levels, other
        return len(people), levels, min(people.tolist(), key=lambda n: str(hood.node_key[n]))


def _without(nodes: np.ndarray, node: int | None) -> np.ndarray:
    """``nodes`` (ascending) without ``node``."""
    return nodes if node is None or not _has(nodes, node) else nodes[nodes != node]


def _has(nodes: np.ndarray, node: int) -> bool:
    """Whether ``node`` is among ``nodes`` (ascending)."""
    at = int(np.searchsorted(nodes, node))
    return at < len(nodes) and int(nodes[at]) == node


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


def _by_support(found: list[Candidate]) -> list[Candidate]:
    return sorted(found, key=lambda c: -c.support)


def _by_rank_sum(hood: Neighbourhood, found: list[Candidate]) -> list[Candidate]:
    """Best first by the sum of the support rank and the specificity (degree) rank; ties by support."""
    by_support = {id(c): r for r, c in enumerate(_by_support(found))}
    degree = {id(c): max(int(hood.degree[m]) for m in c.middle) for c in found}
    ordered = sorted(degree.values())
    rank = {key: bisect.bisect_left(ordered, d) for key, d in degree.items()}  # ties share a rank
    return sorted(found, key=lambda c: (by_support[id(c)] + rank[id(c)], -c.support))
