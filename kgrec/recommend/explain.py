"""Explanation paths: real paths in Neo4j from a user to an item, ranked by the learned embeddings.

Candidates come from the graph (:class:`~kgrec.graph.answers.AnswerGraph`):
three hops user -RATED-> seen film -- mid -- item, where ``mid`` is a
knowledge-graph node (director, actor, category, genre, ...) or one of the
users nearest to this user in the learned embedding space; four hops over the
knowledge graph only for items that no three-hop path reaches. The seen film
is one of the user's rated films closest (in the learned space) to the user
(20) or to one of the items (5 each): a heavy rater's hundreds of films would
otherwise turn every popular genre into thousands of candidate rows.

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
        self.seen_per_user, self.seen_per_item = 20, 5

    def for_user(
        self,
        user: Any,
        items: list[Any],
        cold: set[Any],
        *,
        seen: list[Any],
        user_vector: np.ndarray | None = None,
    ) -> dict[Any, list[Path]]:
        """Top paths from a known ``user`` (who rated ``seen``) to each of ``items`` (``cold``: no training ratings)."""
        u = self.scores.user_vector(user) if user_vector is None else user_vector
        near = [k for k in self.scores.nearest_users(u, self.neighbours + 1) if k != user][: self.neighbours]
        targets = self.graph.item_links(items, types=self.types, neighbours=near)
        mids = sorted({r["mid"] for r in targets})
        candidates = self._seen_candidates(u, seen, items)
        links = self.graph.user_links(user, candidates, mids, types=self.types, neighbours=near)
        start = Step("User", user, f"user {user}", "RATED", True)
        found = self._join(targets, links, start, u, cold)
        for item in items:
            if not found.get(item):
                found[item] = self._four_hops(user, item, u, cold)
        return found

    def for_liked(self, liked: list[Any], items: list[Any], user_vector: np.ndarray, cold: set[Any]) -> dict:
        """Top paths from a user known only by ``liked`` items (paths start at a liked item)."""
        targets = self.graph.item_links(items, types=self.types, neighbours=[])
        links = self.graph.liked_links(liked, sorted({r["mid"] for r in targets}), types=self.types)
        return self._join(targets, links, None, user_vector, cold)

    def _seen_candidates(self, u: np.ndarray, seen: list[Any], items: list[Any]) -> list[Any]:
        """The rated items a path may start from: the closest to the user, and to each target, by embedding."""
        rows = [(k, v) for k in seen if (v := self.scores.unit_vector(("Item", k))) is not None]
        if len(rows) <= self.seen_per_user:
            return [k for k, _ in rows] + [k for k in seen if self.scores.unit_vector(("Item", k)) is None]
        keys, vectors = [k for k, _ in rows], np.stack([v for _, v in rows])
        picked = {keys[i] for i in np.argsort(-(vectors @ u))[: self.seen_per_user]}
        for item in items:
            target = self.scores.unit_vector(("Item", item))
            if target is not None:
                picked.update(keys[i] for i in np.argsort(-(vectors @ target))[: self.seen_per_item])
        return sorted(picked)

    def support(self, u: np.ndarray, nodes: list[Node], item: Any) -> float:
        """Mean of ``(cos(u, v) + cos(v, i)) / 2`` over the intermediate ``nodes``."""
        i = self.scores.unit_vector(("Item", item))
        un = u / max(float(np.linalg.norm(u)), 1e-12)
        return float(np.mean([_node_support(self.scores.unit_vector(n), un, i) for n in nodes])) if nodes else 0.0

    def _join(
        self, targets: list[dict], links: list[dict], start: Step | None, u: np.ndarray, cold: set[Any]
    ) -> dict[Any, list[Path]]:
        """Join item-side and user-side halves on their middle node; keep the best seen item per (item, mid)."""
        by_mid: dict[str, list[dict]] = {}
        for link in links:
            by_mid.setdefault(link["mid"], []).append(link)
        un = u / max(float(np.linalg.norm(u)), 1e-12)
        node_cache: dict[tuple[Node, Any], float] = {}

        def node_support(node: Node, item: Any) -> float:
            if (node, item) not in node_cache:
                node_cache[node, item] = _node_support(
                    self.scores.unit_vector(node), un, self.scores.unit_vector(("Item", item))
                )
            return node_cache[node, item]

        scored: dict[Any, list[tuple[float, dict, dict]]] = {}
        for row in targets:
            seen = [s for s in by_mid.get(row["mid"], []) if s["key"] != row["key"]]
            if not seen:
                continue
            best = max(seen, key=lambda s: node_support(("Item", s["key"]), row["key"]))
            mid = node_key(row["mid_labels"], {"id": row["mid_id"], "name": row["mid_name"], "iri": row["mid_iri"]})
            support = (node_support(("Item", best["key"]), row["key"]) + node_support(mid, row["key"])) / 2
            scored.setdefault(row["key"], []).append((support, row, best))
        return {item: self._chosen(rows, start, cold) for item, rows in scored.items()}

    def _chosen(self, rows: list[tuple[float, dict, dict]], start: Step | None, cold: set[Any]) -> list[Path]:
        """The best row per label of middle node first, then the next best; built into paths."""
        ranked = sorted(rows, key=lambda r: -r[0])
        chosen, labels = [], set()
        for r in ranked:
            label = node_key(
                r[1]["mid_labels"], {"id": r[1]["mid_id"], "name": r[1]["mid_name"], "iri": r[1]["mid_iri"]}
            )[0]
            if label not in labels:
                chosen.append(r)
                labels.add(label)
        chosen += [r for r in ranked if all(r is not c for c in chosen)]
        picked = sorted(chosen[: self.per_item], key=lambda r: -r[0])
        return [self._three(row, seen, support, start, cold) for support, row, seen in picked]

    def _three(self, row: dict, seen: dict, support: float, start: Step | None, cold: set[Any]) -> Path:
        item = row["key"]
        mid = node_key(row["mid_labels"], {"id": row["mid_id"], "name": row["mid_name"], "iri": row["mid_iri"]})
        steps = [] if start is None else [start]
        steps += [
            Step("Item", seen["key"], seen["name"], seen["type"], bool(seen["out"])),
            Step(
                mid[0], mid[1], display_name(mid, row["mid_title"] or row["mid_name"]), row["type2"], bool(row["out2"])
            ),
            Step("Item", item, str(row["title"]), None, None),
        ]
        kind: PathKind = "content" if item in cold else ("collaborative" if mid[0] == "User" else "knowledge")
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


def _node_support(v: np.ndarray | None, un: np.ndarray, i: np.ndarray | None) -> float:
    """``(cos(u, v) + cos(v, i)) / 2`` for unit vectors; 0 when the node or the item has no vector."""
    return 0.0 if v is None or i is None else (float(un @ v) + float(v @ i)) / 2
