"""The trained model as the answers use it: exact scores, fold-in users, node vectors, masking.

:class:`ModelScores` loads a bundle once, runs the model's forward pass once and
keeps the result. Scores are the model's own (``model.score_users``), so late
and hybrid fusion are scored exactly, not approximated by a dot product.

New users (no retraining): a user given only a few liked items gets the mean of
those items' final vectors as their user vector (LightGCN-style fold-in: in
LightGCN a user's propagated vector is a normalised sum of the items they
interacted with) and is scored by the same decoder.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kgrec.errors import NotFoundError, NotTrainedError
from kgrec.learn.bundle import Bundle, load_bundle
from kgrec.learn.kgrec_model import KGRecModel
from kgrec.learn.messages import EdgeMessages
from kgrec.recommend.csr import BySender, group
from kgrec.recommend.key_rows import KeyRows
from kgrec.recommend.near import NearUsers, normalise
from kgrec.schema import GraphSchema, recorded_schema

log = logging.getLogger(__name__)

Node = tuple[str, Any]
"""A node as (primary label, key)."""
INCOMING = 4_000_000
"""Incoming edges :meth:`ModelScores.direct_rows` keeps grouped by sender (the receiving nodes asked about
last), at most."""


class ModelScores:
    """Scores and vectors of one trained bundle.

    Args:
        bundle: The loaded bundle (its snapshot gives the keys of every node type).
    """

    def __init__(self, bundle: Bundle) -> None:
        snapshot = bundle.snapshot
        self.bundle, self.model = bundle, bundle.model
        self.name = f"{bundle.config.model}:{bundle.path.name}"
        self.user_keys = [_plain(k) for k in bundle.split.user_keys]
        self.item_keys = [_plain(k) for k in bundle.split.item_keys]
        self.user_index, self.item_index = KeyRows(self.user_keys), KeyRows(self.item_keys)
        """Key -> row of the model's users and items (the split's order)."""
        self.trained_items = np.zeros(len(self.item_keys), dtype=bool)
        self.trained_items[bundle.split.train[1]] = True
        self._rated_rows = _rated_rows(bundle.split)
        self.messages: EdgeMessages | None = None
        """Per-edge messages of kgrec's GNN (path support); ``None`` for the baselines."""
        if isinstance(self.model, KGRecModel):  # one full pass gives both
            self.state, self.messages = self.model.embed_with_messages()
        else:
            with torch.no_grad():
                self.state = self.model.embed()
        schema = recorded_schema(snapshot.schema)
        self.users, self.items = schema.users, schema.items
        """The labels of users and items in the graph the model was trained on."""
        nodes = self.model.node_vectors(self.state, users=self.users, items=self.items)
        if not nodes:
            raise NotTrainedError(f"{self.name}: this model has no user and item vectors (a popularity baseline?)")
        self.rows = {t: KeyRows(snapshot.node_keys[t][n.ids.numpy()]) for t, n in nodes.items()}
        """Node type -> key -> row of :attr:`vectors`."""
        self.vectors = {t: np.asarray(n.vectors.detach().numpy(), dtype=np.float32) for t, n in nodes.items()}
        """Node type -> ``(N, dim)`` final vectors."""
        item, weight = self.model.item_graph_vectors(self.state)
        self.state_item = item.detach().numpy()
        self.graph_weight = None if weight is None else weight.detach().numpy()
        self.relation_types = sorted({t[1] for t in snapshot.edges} - {"RECOMMENDED"})
        """Relationship types the model was trained over (explanation paths use only these)."""
        self._unit = {t: normalise(v) for t, v in self.vectors.items()}
        self.near = NearUsers(self._unit[self.users])
        """The nearest users by cosine (an index above a size: :mod:`kgrec.recommend.near`)."""
        self._senders: dict[str, BySender] = {}
        self._row_keys: dict[str, list[Any]] = {}

    @classmethod
    def load(cls, path: Path | str) -> ModelScores:
        """Load the bundle at ``path`` (the snapshot it was trained on is inside it).

        Raises:
            NotTrainedError: No bundle there, or one this kgrec cannot read (retrain it).
        """
        return cls(load_bundle(path))

    def check_graph(self, schema: GraphSchema) -> None:
        """Refuse to answer over a graph other than the one the model was trained on.

        Raises:
            NotTrainedError: The graph's declared schema or sources differ from the bundle's.
        """
        trained = self.bundle.meta.get("graph") or {}
        where = self.bundle.path
        if trained.get("schema_fingerprint") is None:
            raise NotTrainedError(f"{where}: trained by an older kgrec that did not record its graph; retrain it")
        if trained["schema_fingerprint"] != schema.fingerprint() or set(trained["datasets"]) != set(schema.datasets):
            raise NotTrainedError(
                f"{where} was trained on another graph ({_difference(trained, schema)}): pass --model (or "
                f"KGREC_MODEL) a model trained on this graph, or train one with `kgrec train --out DIR`"
            )

    # -- scores ---------------------------------------------------------------------------------

    def has_user(self, user: Any) -> bool:
        """Whether the model knows ``user``."""
        return user in self.user_index

    def user_scores(self, user: Any) -> np.ndarray:
        """The model's score of every item (split order) for a known user."""
        if user not in self.user_index:
            raise NotFoundError(f"user {user!r} is not in the model (new users: recommend from liked items)")
        with torch.no_grad():
            scores = self.model.score_users(self.state, torch.tensor([self.user_index[user]]))
        return scores[0].numpy().astype(np.float64)

    def rated_in_split(self, user: Any) -> set[Any]:
        """The items the training data had ``user`` rate (train, validation and test alike)."""
        row = self.user_index.get(user)
        if row is None:
            return set()
        ptr, items = self._rated_rows
        return {self.item_keys[i] for i in items[ptr[row] : ptr[row + 1]].tolist()}

    def fold_in_vector(self, liked: list[Any]) -> np.ndarray:
        """A new user's vector: the mean of the liked items' final vectors."""
        rows = [self.rows[self.items][k] for k in liked if k in self.rows[self.items]]
        if not rows:
            raise NotFoundError(f"none of the liked items {liked!r} is in the model")
        return self.vectors[self.items][rows].mean(axis=0)

    def vector_scores(self, user_vector: np.ndarray) -> np.ndarray:
        """Scores of every item for a user given by vector (the model's decoder, no retraining)."""
        with torch.no_grad():
            scores = self.model.score_vectors(self.state, torch.from_numpy(user_vector.astype(np.float32))[None])
        return scores[0].numpy().astype(np.float64)

    # -- vectors --------------------------------------------------------------------------------

    def unit_vector(self, node: Node) -> np.ndarray | None:
        """The L2-normalised final vector of a node, or ``None`` when the model has none (pruned leaf)."""
        row = self.rows.get(node[0], {}).get(node[1])
        return None if row is None else self._unit[node[0]][row]

    def graph_item_vector(self, item: Any) -> tuple[np.ndarray, float]:
        """An item's final graph vector and the weight of the graph score in its fused score.

        With late or hybrid fusion an item's score is ``w * <user, item> + sum of
        per-modality scores``; ``w`` is 1 without them.
        """
        row = self.item_index[item]
        return self.state_item[row], 1.0 if self.graph_weight is None else float(self.graph_weight[row])

    def direct_messages(self, dst: Node, sources: list[Node]) -> np.ndarray | None:
        """What each of ``sources`` sends straight to its neighbour ``dst`` in the trained GNN.

        Row ``j`` is source ``j``'s share of ``dst``'s final vector over the edges
        that join them (zero where the training graph has no such edge); ``None``
        for models without knowledge-graph propagation.
        """
        if self.messages is None:
            return None
        return self.direct_rows(dst, self.stacked_rows(sources))

    def direct_rows(self, dst: Node, sources: np.ndarray) -> np.ndarray | None:
        """:meth:`direct_messages` of distinct senders given by their rows in the GNN's stacked order (``-1``:
        a node the model lacks, a zero row), from ``dst``'s incoming edges from them, summed per sender in
        edge order (only those edges are read: a popular item has hundreds of thousands)."""
        msg = self.messages
        if msg is None:
            return None
        out = np.zeros((len(sources), msg.coef.shape[1]), dtype=np.float32)
        row = self.rows.get(dst[0], {}).get(dst[1])
        if row is None or dst[0] not in msg.into:
            return out
        _, _, weight, relation = msg.into[dst[0]]
        edges, many, begin = self._by_sender(dst[0]).find(row, sources)
        hit = many > 0
        if hit.any():
            values = weight[edges, None] * msg.coef[relation[edges]]
            out[hit] = np.add.reduceat(values, begin[hit], axis=0)
        known = sources >= 0
        out[known] *= msg.sent[sources[known]] / (msg.layers + 1)
        return out

    def _by_sender(self, label: str) -> BySender:
        """The incoming edges of ``label``'s nodes grouped by sender (made once per label)."""
        found = self._senders.get(label)
        if found is None:
            ptr, src, _, _ = self.messages.into[label]  # type: ignore[union-attr]
            found = self._senders[label] = BySender(ptr, src, INCOMING)
        return found

    def stacked_rows(self, nodes: list[Node]) -> np.ndarray:
        """The rows of ``nodes`` in the GNN's stacked propagation order (``-1``: a node the model lacks)."""
        offsets = self.messages.offsets if self.messages else {}
        found = (
            offsets[t] + r if t in offsets and (r := self.rows.get(t, {}).get(k)) is not None else -1 for t, k in nodes
        )
        return np.fromiter(found, np.int64, len(nodes))

    def user_vector(self, user: Any) -> np.ndarray:
        """The final vector of a known user."""
        return self.vectors[self.users][self.rows[self.users][user]]

    def nearest_users(self, vector: np.ndarray, n: int) -> list[Any]:
        """The ``n`` users whose vectors are closest in cosine to ``vector``."""
        keys = self.row_keys(self.users)
        return [keys[i] for i in self.near.nearest(vector, n).tolist()]

    def nearest_items(self, item: Any, k: int) -> list[tuple[Any, float]]:
        """The ``k`` items closest to ``item`` in cosine over the final (fused) vectors."""
        row = self.rows[self.items].get(item)
        if row is None:
            raise NotFoundError(f"item {item!r} is not in the model")
        sims = self._unit[self.items] @ self._unit[self.items][row]
        sims[row] = -np.inf
        top = np.argsort(-sims)[:k]
        keys = self.row_keys(self.items)
        return [(keys[i], float(sims[i])) for i in top]

    def row_keys(self, node_type: str) -> list[Any]:
        """The keys of ``node_type`` in the order of its rows of :attr:`vectors` (made once: a request
        must not list a million users again)."""
        keys = self._row_keys.get(node_type)
        if keys is None:
            keys = self._row_keys[node_type] = list(self.rows[node_type])
        return keys

    # -- masking (faithfulness) -----------------------------------------------------------------

    def masked_score(self, user: Any, item: Any, masked: list[Node]) -> float:
        """The model's score of (``user``, ``item``) with ``masked`` nodes silenced in propagation.

        A masked node sends no messages in any layer, as if its relationships were
        removed. Only kgrec's GNN propagates over the knowledge graph; other models
        raise ``NotTrainedError``.
        """
        if not isinstance(self.model, KGRecModel):
            raise NotTrainedError(f"{self.name}: masking needs kgrec's GNN")
        silent: dict[str, list[int]] = {}
        for t, k in masked:
            if k in self.rows.get(t, {}):
                silent.setdefault(t, []).append(self.rows[t][k])
        with torch.no_grad():
            state = self.model.embed(silent={t: torch.tensor(r, dtype=torch.long) for t, r in silent.items()})
            score = self.model.score_pairs(
                state, torch.tensor([self.user_index[user]]), torch.tensor([self.item_index[item]])
            )
        return float(score[0])


def _rated_rows(split: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every user's items in the split (train, validation and test alike) as CSR over user rows: arrays,
    not a million lists."""
    every = (split.train, split.valid, split.test, split.cold_test)
    parts = [np.asarray(p, dtype=np.int64).reshape(2, -1) for p in every]
    users, items = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    order, ptr = group(users, len(split.user_keys))
    return ptr, items[order].astype(np.int32)


def _plain(key: Any) -> Any:
    return key.item() if isinstance(key, np.generic) else key


def _difference(trained: dict[str, Any], schema: GraphSchema) -> str:
    """What differs between the graph a bundle was trained on and ``schema``'s graph, in a few words."""
    was, now = sorted(trained["datasets"]), sorted(schema.datasets)
    if was != now:
        return f"its sources: {', '.join(was)}; this graph's: {', '.join(now)}"
    then = set(trained.get("nodes", {}))
    labels = [f"+{x}" for x in sorted(set(schema.keys) - then)] + [f"-{x}" for x in sorted(then - set(schema.keys))]
    return "the same sources, but their declared schema has changed since" + (
        f" (node labels {', '.join(labels)})" if labels else ""
    )
