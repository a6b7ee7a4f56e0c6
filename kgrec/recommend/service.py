"""The answer service: top-k recommendations with paths, one explanation, similar items, writes.

Scores come from the trained model (:class:`~kgrec.recommend.model.ModelScores`),
everything that must be true of the graph now (what the user has seen, filters,
titles, paths, vector indexes) from Neo4j (:class:`~kgrec.graph.answers.AnswerGraph`)::

    scores = ModelScores.load("runs/kgrec")
    with GraphStore.connect(load_settings()) as store:
        service = Recommendations(AnswerGraph(store), scores)
        for rec in service.recommend(1, k=10, filters=Filters(where=(("genre", "Comedy"),))):
            print(rec.rank, rec.title, rec.paths[0].sentence if rec.paths else "")
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import torch

from kgrec.errors import ConfigError, NotFoundError
from kgrec.graph.answers import AnswerGraph, Filters, ItemRow
from kgrec.graph.neighbourhood import Neighbourhood, NeighbourhoodCache
from kgrec.recommend.explain import PathFinder
from kgrec.recommend.model import ModelScores
from kgrec.recommend.results import Explanation, Path, Recommendation, SimilarItem
from kgrec.recommend.sentences import owned
from kgrec.recommend.starts import MIN_STARTS, strongest

log = logging.getLogger(__name__)

Modality = Literal["fused", "text", "image"]
VECTOR_INDEXES: dict[str, tuple[str, str]] = {
    "fused": ("item_embedding", "embedding"),
    "text": ("item_feat_text", "feat_text"),
    "image": ("item_feat_image", "feat_image"),
}
"""Modality -> (Neo4j vector index, Item vector property)."""


class Recommendations:
    """Answers questions about one trained model over one graph.

    Args:
        graph: The graph (seen items, filters, titles, paths, writes).
        scores: The trained model.
        neighbours: Nearest users that collaborative paths may go through (default: ``50``).
        max_age: Seconds before the in-memory neighbourhood that paths are found in is read
            from the graph again (default: ``600``; see :mod:`kgrec.graph.neighbourhood`).
        per_item: Explanation paths per item (default: ``3``; the best-supported of each kind of
            reason first: a knowledge node, another user, a friend).
        min_starts: Paths start from the user's strongest interactions: those at or above the
            user's median weight, and at least this many when the user has them (default: ``5``;
            see :mod:`kgrec.recommend.starts`).
    """

    def __init__(
        self,
        graph: AnswerGraph,
        scores: ModelScores,
        *,
        neighbours: int = 50,
        max_age: float = 600.0,
        per_item: int = 3,
        min_starts: int = MIN_STARTS,
    ) -> None:
        self.graph, self.scores, self.min_starts = graph, scores, min_starts
        self.schema = graph.schema()
        scores.check_graph(self.schema)
        self.neighbourhood = NeighbourhoodCache(
            lambda: Neighbourhood.load(graph, scores.relation_types), max_age=max_age
        )
        self.paths = PathFinder(self.neighbourhood.get, scores, neighbours=neighbours, per_item=per_item)
        self._keys = np.empty(len(scores.item_keys), dtype=object)
        self._keys[:] = scores.item_keys  # item keys in the model's order, to index with arrays

    def prepare(self) -> None:
        """Read the neighbourhood paths are found in, index its nodes in the model and make the model's
        masking effects now, so that the first answers do not wait for them (a server does it at start)."""
        self.paths.prepare()

    @property
    def ready(self) -> bool:
        """Whether answers with explanations wait for nothing (see :meth:`prepare`)."""
        return self.neighbourhood.loaded and self.paths.ready

    def recommend(
        self, user: Any, k: int = 10, *, filters: Filters | None = None, explain: bool = True
    ) -> list[Recommendation]:
        """The ``k`` best items for ``user`` that they have not interacted with and that pass ``filters``.

        A user who is in the graph but not in the model (added after training) is
        folded in from the items they interacted with.

        Raises:
            NotFoundError: ``user`` is not in the graph.
            ConfigError: A ``where`` filter names an unknown key or a value no node has.
        """
        where = self.graph.where(filters)
        if self.scores.has_user(user):  # one round trip: the user's interactions and the first candidates
            vector, scores = None, self.scores.user_scores(user)
            order = self._order(scores, self.scores.rated_in_split(user), filters)
            rated, first = self.graph.ratings_and_candidates(user, order[: _page(k)], filters, where)
            if rated is None:
                raise NotFoundError(f"user {user!r} is not in the graph")
            top = self._pick(order, set(rated), k, filters, first, where)
        else:
            rated = self._rated(user)
            vector, scores = self._user_scores(user, rated)
            top = self._top(scores, set(rated), k, filters, where)
        if not explain:
            return self._results(top, scores, {})
        cold = {r.key for r in top if self._cold(r.key)}
        starts = self._starts(rated)
        paths = self.paths.for_user(user, [r.key for r in top], cold, starts=starts, user_vector=vector)
        return self._results(top, scores, paths)

    def recommend_for_items(
        self, liked: list[Any], k: int = 10, *, filters: Filters | None = None, explain: bool = True
    ) -> list[Recommendation]:
        """Recommendations for a new user known only by a few ``liked`` items (fold-in, no retraining)."""
        vector = self.scores.fold_in_vector(liked)
        scores = self.scores.vector_scores(vector)
        top = self._top(scores, set(liked), k, filters, self.graph.where(filters))
        if not explain:
            return self._results(top, scores, {})
        cold = {r.key for r in top if self._cold(r.key)}
        return self._results(top, scores, self.paths.for_liked(liked, [r.key for r in top], vector, cold))

    def explain(self, user: Any, item: Any) -> Explanation:
        """Why ``item`` suits ``user``: its score, its rank among the user's other items and its top paths.

        An item the user already has gets no rank: ``owned`` and a ``note`` say so instead.

        Raises:
            NotFoundError: ``user`` or ``item`` is not in the graph or the model.
        """
        rated = self._rated(user)
        rows = self.graph.items([item])
        if not rows or item not in self.scores.item_index:
            where = "the model" if rows else "the graph"
            raise NotFoundError(f"item {item!r} is not in {where}")
        vector, scores = self._user_scores(user, rated)
        score = scores[self.scores.item_index[item]]
        unseen = np.array([k not in rated for k in self.scores.item_keys])
        has = item in rated
        rank = None if has else 1 + int(((scores > score) & unseen).sum())
        note = owned(self.schema, rows[0].title, rated[item]) if has else None
        cold = self._cold(item)
        cold_set = {item} if cold else set()
        found = self.paths.for_user(user, [item], cold_set, starts=self._starts(rated), user_vector=vector)
        paths = found.get(item, [])
        return Explanation(user, item, rows[0].title, float(score), rank, cold, tuple(paths), has, note)

    def similar(self, item: Any, k: int = 10, *, modality: Modality = "fused") -> list[SimilarItem]:
        """The ``k`` items most like ``item`` by one modality's vector index, or by the fused embedding.

        ``fused`` uses the ``item_embedding`` index when the learned vectors are in
        Neo4j (``kgrec train --write``), else the model's vectors directly.

        Raises:
            NotFoundError: No such item, or it has no vector of that modality.
        """
        if modality not in VECTOR_INDEXES:
            raise ConfigError(f"unknown modality {modality!r}: use one of {', '.join(VECTOR_INDEXES)}")
        index, prop = VECTOR_INDEXES[modality]
        found, has_vector = self.graph.item_vector(item, prop)
        if not found:
            raise NotFoundError(f"item {item!r} is not in the graph")
        if has_vector:
            hits = self.graph.similar_by_index(item, index=index, prop=prop, k=k)
        elif modality == "fused":
            near = self.scores.nearest_items(item, k)
            titles = {r.key: r.title for r in self.graph.items([key for key, _ in near])}
            hits = [(key, titles.get(key, str(key)), s) for key, s in near]
        else:
            raise NotFoundError(f"item {item!r} has no {modality} vector (run `kgrec features`)")
        return [SimilarItem(key, title, score, rank, modality) for rank, (key, title, score) in enumerate(hits, 1)]

    def write(self, users: list[Any] | None = None, k: int = 10, *, explain: bool = True) -> int:
        """Store ``(:User)-[:RECOMMENDED {rank, score, model, explanation}]->(:Item)`` for ``users`` (default: all).

        Returns:
            How many relationships were written.
        """
        users = self.graph.users() if users is None else list(users)
        written = 0
        for chunk in _chunks(users, 100):
            rows = [_row(user, rec) for user in chunk for rec in self.recommend(user, k, explain=explain)]
            written += self.graph.write_recommendations(chunk, rows, self.scores.name)
        log.info("wrote %d RECOMMENDED relationships for %d users", written, len(users))
        return written

    # -- internals ------------------------------------------------------------------------------

    def _rated(self, user: Any) -> dict[Any, float | None]:
        found = self.graph.ratings(user)
        if found is None:
            raise NotFoundError(f"user {user!r} is not in the graph")
        return found

    def _user_scores(self, user: Any, rated: dict[Any, float | None]) -> tuple[np.ndarray | None, np.ndarray]:
        """The user's vector when folded in (``None`` for a user the model knows) and every item's score."""
        if self.scores.has_user(user):
            return None, self.scores.user_scores(user)
        vector = self.scores.fold_in_vector(list(rated))
        return vector, self.scores.vector_scores(vector)

    def _starts(self, rated: dict[Any, float | None]) -> dict[Any, float | None]:
        """Items a path may start from: the user's strongest interactions (:func:`strongest`)."""
        return strongest(rated, self.min_starts)

    def _cold(self, item: Any) -> bool:
        return not bool(self.scores.trained_items[self.scores.item_index[item]])

    def _top(
        self, scores: np.ndarray, seen: set[Any], k: int, filters: Filters | None, where: list[dict[str, Any]]
    ) -> list[ItemRow]:
        return self._pick(self._order(scores, seen, filters), seen, k, filters, None, where)

    def _order(self, scores: np.ndarray, seen: set[Any], filters: Filters | None) -> Ranking:
        """Item keys best first, without ``seen``, exclusions and the twins of seen films."""
        skip = seen | set(filters.exclude if filters else ())
        twins = self.neighbourhood.get().duplicates
        skip |= {key for s in seen for key in twins.get(s, ())}  # the same film listed under another key
        rows = [i for key in skip if (i := self.scores.item_index.get(key)) is not None]
        return Ranking(self._keys, scores, np.asarray(rows, dtype=np.int64))

    def _pick(
        self,
        order: Ranking,
        seen: set[Any],
        k: int,
        filters: Filters | None,
        first: list[ItemRow] | None,
        where: list[dict[str, Any]],
    ) -> list[ItemRow]:
        """The first ``k`` of ``order`` that exist, pass ``filters`` (``where``: their resolved conditions)
        and are not ``seen`` (or a seen film's twin).

        ``first``: the rows of the first page when already read (with the user's interactions).
        """
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        twins = self.neighbourhood.get().duplicates
        found: list[ItemRow] = []
        shown = set(seen) | {key for s in seen for key in twins.get(s, ())}
        start, size = 0, _page(k)
        while len(found) < k and start < len(order):
            page = order[start : start + size]
            rows = first if start == 0 and first is not None else self.graph.items(page, filters, where)
            for row in rows:
                if row.key not in shown:  # one listing per film: the better-scored one
                    found.append(row)
                    shown |= {row.key, *twins.get(row.key, ())}
            start, size = start + size, size * 4
        return found[:k]

    def _results(self, top: list[ItemRow], scores: np.ndarray, paths: dict[Any, list[Path]]) -> list[Recommendation]:
        return [
            Recommendation(
                r.key,
                r.title,
                float(scores[self.scores.item_index[r.key]]),
                rank,
                self._cold(r.key),
                tuple(paths.get(r.key, [])),
            )
            for rank, r in enumerate(top, 1)
        ]


class Ranking:
    """Item keys best first (ties in the model's order), without those left out: sorted only as far as
    asked (``ranking[a:b]``), as the first page usually suffices.

    Args:
        keys: Every item key, in the model's order.
        scores: Every item's score.
        skip: The rows of the items left out.
    """

    def __init__(self, keys: np.ndarray, scores: np.ndarray, skip: np.ndarray) -> None:
        self._keys = keys
        self._skip = np.zeros(len(scores), dtype=bool)
        self._skip[skip] = True
        self._values = -scores.astype(np.float64)
        self._values[skip] = np.inf
        self._len = len(scores) - int(self._skip.sum())
        self._sorted = np.zeros(0, dtype=np.int64)
        """Rows best first, none left out: a prefix of the whole stable order."""

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, part: slice) -> list[Any]:
        stop = len(self) if part.stop is None else min(part.stop, len(self))
        if stop > len(self._sorted):
            self._sort(max(stop, 4 * len(self._sorted)))
        return self._keys[self._sorted[part]].tolist()

    def _sort(self, n: int) -> None:
        """Sorts at least the first ``n``: every row up to the ``n``-th value (ties included, in order)."""
        values = self._values
        if n < len(values):  # a partial sort: torch's top-k is several times faster than np.partition
            last = float(torch.topk(torch.from_numpy(values), n, largest=False).values[-1])
            head = np.flatnonzero(values <= last)
            order = head[np.argsort(values[head], kind="stable")]
        else:
            order = np.argsort(values, kind="stable")
        self._sorted = order[~self._skip[order]]


def _page(k: int) -> int:
    """How many candidates the first read asks the graph about."""
    return max(4 * k, 50)


def _row(user: Any, rec: Recommendation) -> dict[str, Any]:
    """One RECOMMENDED row: the first reason's sentence and its path (nodes, relationship types)."""
    first = rec.paths[0] if rec.paths else None
    return {
        "user": user,
        "item": rec.item,
        "rank": rec.rank,
        "score": rec.score,
        "explanation": first.sentence if first else None,
        "path": [(s.label, s.key) for s in first.steps] if first else [],
        "path_types": [s.rel_type for s in first.steps[:-1]] if first else [],
    }


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
