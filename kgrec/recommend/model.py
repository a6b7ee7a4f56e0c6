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

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kgrec.errors import NotFoundError, NotTrainedError
from kgrec.learn.bundle import Bundle, load_bundle
from kgrec.schema import GraphSchema
from kgrec.snapshot import GraphSnapshot

log = logging.getLogger(__name__)

Node = tuple[str, Any]
"""A node as (primary label, key)."""


class ModelScores:
    """Scores and vectors of one trained bundle.

    Args:
        bundle: The loaded bundle.
        snapshot: The snapshot it was trained on (keys of every node type).
    """

    def __init__(self, bundle: Bundle, snapshot: GraphSnapshot) -> None:
        self.bundle, self.model = bundle, bundle.model
        self.name = f"{bundle.config.model}:{bundle.path.name}"
        self.user_keys = [_plain(k) for k in bundle.split.user_keys]
        self.item_keys = [_plain(k) for k in bundle.split.item_keys]
        self.user_index = {k: i for i, k in enumerate(self.user_keys)}
        self.item_index = {k: i for i, k in enumerate(self.item_keys)}
        self.trained_items = np.zeros(len(self.item_keys), dtype=bool)
        self.trained_items[bundle.split.train[1]] = True
        self._rated_rows = _rated_rows(bundle.split)
        with torch.no_grad():
            self.state = self.model.embed()
        schema = GraphSchema.from_json(snapshot.schema) if snapshot.schema else GraphSchema()
        self.users, self.items = schema.users, schema.items
        """The labels of users and items in the graph the model was trained on."""
        self.rows, self.vectors = _node_vectors(self.model, self.state, snapshot, (self.users, self.items))
        self.state_item = self.state.item.numpy() if hasattr(self.state, "item") else self.vectors[self.items]
        weights = getattr(self.state, "weights", None)
        self.graph_weight = None if weights is None else weights[:, 0].numpy()
        self.relation_types = sorted({t[1] for t in snapshot.edges} - {"RECOMMENDED"})
        """Relationship types the model was trained over (explanation paths use only these)."""
        self._unit = {t: _normalise(v) for t, v in self.vectors.items()}
        self.messages = Messages.of(self.model) if hasattr(self.model, "prop") else None
        """Per-edge messages of kgrec's GNN (path support); ``None`` for the baselines."""

    @classmethod
    def load(cls, path: Path | str, snapshot: Path | str | None = None) -> ModelScores:
        """Load the bundle at ``path`` (its snapshot from ``snapshot.txt`` unless given).

        Raises:
            NotTrainedError: No bundle there, or its snapshot is missing.
        """
        path = Path(path)
        if not (path / "bundle.json").is_file():
            raise NotTrainedError(f"{path}: no trained model bundle (run `kgrec train --out {path}`)")
        if snapshot is None:
            note = path / "snapshot.txt"
            if not note.is_file():
                raise NotTrainedError(f"{path}: no snapshot recorded; pass the snapshot the model was trained on")
            snapshot = note.read_text(encoding="utf-8").strip()
        if not Path(snapshot).is_file():
            raise NotTrainedError(f"{path}: its snapshot {snapshot} is missing")
        snap = GraphSnapshot.load(snapshot)
        return cls(load_bundle(path, snap), snap)

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
                f"{where} was trained on another graph ({', '.join(trained['datasets'])}; this one holds "
                f"{', '.join(schema.datasets)}): pass --model (or KGREC_MODEL) a model trained on this graph, "
                f"or train one with `kgrec train --out DIR`"
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
        return set() if row is None else {self.item_keys[i] for i in self._rated_rows.get(row, ())}

    def fold_in_vector(self, liked: list[Any]) -> np.ndarray:
        """A new user's vector: the mean of the liked items' final vectors."""
        rows = [self.rows[self.items][k] for k in liked if k in self.rows[self.items]]
        if not rows:
            raise NotFoundError(f"none of the liked items {liked!r} is in the model")
        return self.vectors[self.items][rows].mean(axis=0)

    def vector_scores(self, user_vector: np.ndarray) -> np.ndarray:
        """Scores of every item for a user given by vector (the model's decoder, no retraining)."""
        state = _with_extra_user(self.state, torch.from_numpy(user_vector.astype(np.float32)))
        with torch.no_grad():
            scores = self.model.score_users(state, torch.tensor([len(self.user_keys)]))
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
        return self.messages.direct(self.rows, dst, sources)

    def user_vector(self, user: Any) -> np.ndarray:
        """The final vector of a known user."""
        return self.vectors[self.users][self.rows[self.users][user]]

    def nearest_users(self, vector: np.ndarray, n: int) -> list[Any]:
        """The ``n`` users whose vectors are closest in cosine to ``vector``."""
        sims = self._unit[self.users] @ _normalise(vector[None])[0]
        top = np.argpartition(-sims, min(n, len(sims) - 1))[:n]
        keys = list(self.rows[self.users])
        return [keys[i] for i in top[np.argsort(-sims[top])]]

    def nearest_items(self, item: Any, k: int) -> list[tuple[Any, float]]:
        """The ``k`` items closest to ``item`` in cosine over the final (fused) vectors."""
        row = self.rows[self.items].get(item)
        if row is None:
            raise NotFoundError(f"item {item!r} is not in the model")
        sims = self._unit[self.items] @ self._unit[self.items][row]
        sims[row] = -np.inf
        top = np.argsort(-sims)[:k]
        keys = list(self.rows[self.items])
        return [(keys[i], float(sims[i])) for i in top]

    # -- masking (faithfulness) -----------------------------------------------------------------

    def masked_score(self, user: Any, item: Any, masked: list[Node]) -> float:
        """The model's score of (``user``, ``item``) with ``masked`` nodes silenced in propagation.

        A masked node sends no messages in any layer, as if its relationships were
        removed. Only kgrec's GNN propagates over the knowledge graph; other models
        raise ``NotTrainedError``.
        """
        prop = getattr(self.model, "prop", None)
        if prop is None:
            raise NotTrainedError(f"{self.name}: masking needs kgrec's GNN")
        offsets = {t: prop.offsets[t] for t in prop.node_types}
        rows = [offsets[t] + self.rows[t][k] for t, k in masked if k in self.rows.get(t, {})]
        with _silenced(prop, torch.tensor(rows, dtype=torch.long)), torch.no_grad():
            state = self.model.embed()
            score = self.model.score_pairs(
                state, torch.tensor([self.user_index[user]]), torch.tensor([self.item_index[item]])
            )
        return float(score[0])


@dataclasses.dataclass(frozen=True)
class Messages:
    """The trained GNN's per-edge messages, for support scores of explanation paths.

    The propagation is linear: a node's final vector is the mean over layers
    ``0..L`` of its states, and layer ``l+1`` receives from each neighbour ``v``
    ``c_r * a * h_l(v)`` (``c_r`` the relation's learned vector times its
    attention, ``a`` the edge's normalised weight). So what ``v`` sends straight
    to ``dst`` over all layers is ``c_r * a * sum_{l<L} h_l(v) / (L + 1)``: the
    part of ``dst``'s vector that silencing ``v`` removes first.
    """

    layers: int
    offsets: dict[str, int]
    sent: np.ndarray
    """``(N, dim)``: ``sum_{l<L} h_l`` of every node (stacked in propagation order)."""
    coef: np.ndarray
    """``(edge types, dim)``: attention times relation vector of each relation."""
    rows_into: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    """Node type -> CSR of incoming edges: row pointers, source rows, weights, relation indices."""

    @classmethod
    def of(cls, model: Any) -> Messages:
        """Run ``model``'s propagation once, recording every layer's input."""
        prop = model.prop
        inputs: list[torch.Tensor] = []
        layer = prop._layer

        def recorded(h: dict[str, torch.Tensor], *rest: Any) -> dict[str, torch.Tensor]:
            inputs.append(torch.cat([h[t] for t in prop.node_types]))
            return layer(h, *rest)

        prop._layer = recorded
        try:
            with torch.no_grad():
                model.embed()
                coef = prop._coefficients().numpy()
        finally:
            del prop._layer
        dim = coef.shape[1]
        sent = torch.stack(inputs).sum(0).numpy() if inputs else np.zeros((0, dim), np.float32)
        rows_into = {}
        for t, rels in prop.into.items():
            adj = getattr(prop, f"adj_{t}")
            relation = torch.tensor(rels, dtype=torch.long)[getattr(prop, f"rel_{t}")]
            cols = adj.col_indices()
            rows_into[t] = (
                adj.crow_indices().numpy(),
                getattr(prop, f"gather_{t}")[cols].numpy(),
                adj.values().numpy(),
                relation[cols].numpy(),
            )
        return cls(prop.layers, dict(prop.offsets), sent, coef, rows_into)

    def _global(self, rows: dict[str, dict[Any, int]]) -> dict[Node, int]:
        """(label, key) -> row in the stacked propagation order (built once)."""
        cached = self.__dict__.get("_global_rows")
        if cached is None:
            cached = {(t, k): self.offsets[t] + r for t, by_key in rows.items() for k, r in by_key.items()}
            object.__setattr__(self, "_global_rows", cached)
        return cached

    def direct(self, rows: dict[str, dict[Any, int]], dst: Node, sources: list[Node]) -> np.ndarray:
        """``(len(sources), dim)``: each source's direct message into ``dst`` (see the class)."""
        out = np.zeros((len(sources), self.coef.shape[1]), dtype=np.float32)
        row = rows.get(dst[0], {}).get(dst[1])
        if row is None or dst[0] not in self.rows_into:
            return out
        ptr, src, weight, relation = self.rows_into[dst[0]]
        lo, hi = ptr[row], ptr[row + 1]
        glob = self._global(rows)
        wanted = np.fromiter((glob.get(n, -1) for n in sources), dtype=np.int64, count=len(sources))
        edge_src = src[lo:hi]
        by_id = np.argsort(wanted, kind="stable")
        at = np.searchsorted(wanted[by_id], edge_src).clip(max=len(wanted) - 1)
        hit = np.flatnonzero(wanted[by_id][at] == edge_src)  # edges from a wanted source (first of repeats)
        np.add.at(out, by_id[at[hit]], weight[lo + hit, None] * self.coef[relation[lo + hit]])
        known = wanted >= 0
        out[known] *= self.sent[wanted[known]] / (self.layers + 1)
        return out


@contextlib.contextmanager
def _silenced(prop: torch.nn.Module, rows: torch.Tensor) -> Iterator[None]:
    """Zero the given stacked rows of every layer's input (instance-level patch, undone on exit)."""
    layer = prop._layer
    types = prop.node_types

    def masked_layer(h: dict[str, torch.Tensor], *rest: Any) -> dict[str, torch.Tensor]:
        stacked = torch.cat([h[t] for t in types]).clone()
        stacked[rows] = 0
        parts = torch.split(stacked, [h[t].shape[0] for t in types])
        return layer(dict(zip(types, parts)), *rest)

    prop._layer = masked_layer
    try:
        yield
    finally:
        del prop._layer


def _node_vectors(model: Any, state: Any, snapshot: GraphSnapshot, labels: tuple[str, str]) -> tuple[dict, dict]:
    nodes = getattr(state, "nodes", None)
    if nodes is None:
        user, item = (state.user, state.item) if hasattr(state, "user") else state
        if not isinstance(user, torch.Tensor) or user.dim() != 2:
            raise NotTrainedError("this model has no user and item vectors (a popularity baseline?)")
        nodes = {labels[0]: user, labels[1]: item}
    rows, vectors = {}, {}
    for t, v in nodes.items():
        ids = model.node_ids(t).cpu().numpy() if hasattr(model, "node_ids") else np.arange(len(v))
        rows[t] = {_plain(k): i for i, k in enumerate(snapshot.node_keys[t][ids])}
        vectors[t] = v.detach().cpu().numpy().astype(np.float32)
    return rows, vectors


def _rated_rows(split: Any) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for part in (split.train, split.valid, split.test, split.cold_test):
        for u, i in zip(*np.asarray(part, dtype=np.int64)):
            out.setdefault(int(u), []).append(int(i))
    return out


def _with_extra_user(state: Any, vector: torch.Tensor) -> Any:
    if dataclasses.is_dataclass(state) and hasattr(state, "user"):
        return dataclasses.replace(state, user=torch.cat([state.user, vector[None]]))
    user, item = state
    return torch.cat([user, vector[None]]), item


def _normalise(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def _plain(key: Any) -> Any:
    return key.item() if isinstance(key, np.generic) else key
