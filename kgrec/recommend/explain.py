"""Explanation paths: real paths in Neo4j from a user to an item, ranked by the learned embeddings.

Candidates come from the graph (:class:`~kgrec.graph.answers.AnswerGraph`):
three hops user -RATED-> seen film -- mid -- item, where ``mid`` is a
knowledge-graph node (director, actor, category, genre, ...) or one of the
users nearest to this user in the learned embedding space; four hops over the
knowledge graph only for items that no three-hop path reaches.

Support of a path: the mean, over its intermediate nodes ``v``, of
``(cos(u, v) + cos(v, i)) / 2`` with the final learned vectors of the user
``u``, the node ``v`` and the item ``i``. A node that lies in the direction of
both the user and the item is one through which the GNN carried the signal that
makes the score; a popular but unrelated node (a big genre) scores low however
many paths run through it. A node without a vector (a pruned leaf) adds 0.
At most one path per ``mid`` node is kept (the best), and the paths returned
are the best of each kind of middle node first (a user, an entity, a genre),
then the next best: three paths give three different reasons, ordered by support.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from kgrec.graph.answers import AnswerGraph, node_key
from kgrec.recommend.model import ModelScores, Node
from kgrec.recommend.results import Path, PathKind, Step
from kgrec.recommend.sentences import display_name, sentence

log = logging.getLogger(__name__)


class PathFinder:
    """Finds, ranks and words explanation paths.

    Args:
        graph: The graph to read paths from.
        scores: The trained model (vectors of every node type).
        types: Relationship types a path may use (the model's relations).
        neighbours: Nearest users (by embedding) that collaborative paths may go through (default: ``50``).
        per_item: Paths returned per item (default: ``3``).
    """

    def __init__(
        self, graph: AnswerGraph, scores: ModelScores, *, types: list[str], neighbours: int = 50, per_item: int = 3
    ) -> None:
        self.graph, self.scores, self.types = graph, scores, types
        self.neighbours, self.per_item = neighbours, per_item

    def for_user(
        self, user: Any, items: list[Any], cold: set[Any], *, user_vector: np.ndarray | None = None
    ) -> dict[Any, list[Path]]:
        """Top paths from a known ``user`` to each of ``items`` (``cold``: items without training ratings)."""
        u = self.scores.user_vector(user) if user_vector is None else user_vector
        near = [k for k in self.scores.nearest_users(u, self.neighbours + 1) if k != user][: self.neighbours]
        rows = self.graph.paths3(user, items, types=self.types, neighbours=near)
        start = Step("User", user, f"user {user}", "RATED", True)
        found = self._rank(rows, start, u, cold)
        for item in items:
            if not found.get(item):
                found[item] = self._four_hops(user, item, u, cold)
        return found

    def for_liked(self, liked: list[Any], items: list[Any], user_vector: np.ndarray, cold: set[Any]) -> dict:
        """Top paths from a user known only by ``liked`` items (paths start at a liked item)."""
        rows = self.graph.paths_from_items(liked, items, types=self.types)
        return self._rank(rows, None, user_vector, cold)

    def support(self, u: np.ndarray, nodes: list[Node], item: Any) -> float:
        """Mean of ``(cos(u, v) + cos(v, i)) / 2`` over the intermediate ``nodes``."""
        i = self.scores.unit_vector(("Item", item))
        un = u / max(float(np.linalg.norm(u)), 1e-12)
        parts = []
        for node in nodes:
            v = self.scores.unit_vector(node)
            parts.append(0.0 if v is None or i is None else (float(un @ v) + float(v @ i)) / 2)
        return float(np.mean(parts)) if parts else 0.0

    def _rank(self, rows: list[dict], start: Step | None, u: np.ndarray, cold: set[Any]) -> dict[Any, list[Path]]:
        best: dict[Any, list[Path]] = {}
        for row in rows:
            mid = node_key(row["mid_labels"], {"id": row["mid_id"], "name": row["mid_name"], "iri": row["mid_iri"]})
            mid_name = display_name(mid, row["mid_title"] or row["mid_name"])
            candidates = [self._three(row, s, mid, mid_name, start, u, cold) for s in row["seen"]]
            best.setdefault(row["key"], []).append(max(candidates, key=lambda p: p.support))
        return {k: _diverse(v, self.per_item) for k, v in best.items()}

    def _three(
        self, row: dict, seen: dict, mid: Node, mid_name: str, start: Step | None, u: np.ndarray, cold: set[Any]
    ) -> Path:
        item = row["key"]
        steps = [] if start is None else [start]
        steps += [
            Step("Item", seen["key"], seen["name"], seen["type"], bool(seen["out"])),
            Step(mid[0], mid[1], mid_name, row["type2"], bool(row["out2"])),
            Step("Item", item, self._title(item, row), None, None),
        ]
        kind: PathKind = "content" if item in cold else ("collaborative" if mid[0] == "User" else "knowledge")
        support = self.support(u, [("Item", seen["key"]), mid], item)
        return Path(tuple(steps), sentence(steps, seen.get("rating"), cold=item in cold), support, kind)

    def _four_hops(self, user: Any, item: Any, u: np.ndarray, cold: set[Any]) -> list[Path]:
        paths = []
        for row in self.graph.paths4(user, item, types=self.types):
            nodes = [node_key(n["labels"], n) for n in row["nodes"]]
            steps = [
                Step(label, key, display_name((label, key), n["title"] or n["name"]), r["type"], r["forward"])
                for (label, key), n, r in zip(nodes, row["nodes"], row["rels"])
            ]
            steps.append(Step("Item", item, row["nodes"][-1]["title"] or str(item), None, None))
            kind: PathKind = "content" if item in cold else "knowledge"
            support = self.support(u, nodes[1:-1], item)
            paths.append(Path(tuple(steps), sentence(steps, row["rating"], cold=item in cold), support, kind))
        by_mid: dict[Any, Path] = {}
        for p in sorted(paths, key=lambda p: -p.support):
            by_mid.setdefault((p.steps[2].key, p.steps[3].key), p)
        return _diverse(list(by_mid.values()), self.per_item)

    @staticmethod
    def _title(item: Any, row: dict) -> str:
        return str(row.get("title") or item)


def _diverse(paths: list[Path], n: int) -> list[Path]:
    """The best path through each label of middle node first, then the next best; by support."""
    ranked = sorted(paths, key=lambda p: -p.support)
    chosen, labels = [], set()
    for p in ranked:
        if p.steps[-2].label not in labels:
            chosen.append(p)
            labels.add(p.steps[-2].label)
    chosen += [p for p in ranked if p not in chosen]
    return sorted(chosen[:n], key=lambda p: -p.support)
