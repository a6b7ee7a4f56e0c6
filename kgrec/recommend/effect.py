"""The exact score drop of masking a path's nodes, computed locally around one user and one item.

Masking (``KGRecModel.embed(silent=...)``) silences nodes in every propagation layer: they send no
message, their own vectors still count. The propagation is linear, so the masked states differ from
the trained ones by ``delta``, which starts at the silenced nodes and spreads one hop per layer::

    delta_0 = 0
    delta_l[v] = sum over edges w -> v of  a_e * c_r * (h_{l-1}[w] if w is silenced else delta_{l-1}[w])

(``a_e`` the edge's normalised weight, ``c_r`` its relation's coefficient, ``h_l`` the trained layer
states). A final vector is the mean of layers ``0..L``, so the masked user and item vectors are
``f - sum_l delta_l / (L + 1)``. Only ``delta_l`` at nodes within ``L - l`` hops of the user or the
item reaches them: those are all that :class:`MaskingEffect` computes (pushed from the silenced nodes
for the inner layers, pulled into the user and the item for the last one). The scores of both vector
pairs then go through the model's decoder (the graph score weighted as in late fusion, plus the
content scores, which depend on the user's vector). The result equals a full re-propagation's score
drop (tests/recommend/test_faithful_effect.py), at a cost of the silenced nodes' and the pair's
edges, not the graph's.

Where the decoder is not linear in the graph vectors (``hybrid`` fusion's per-item attention, the new-item
map for never-rated items) or the model is not kgrec's GNN, there is no effect (``None``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from kgrec.recommend.model import ModelScores, Node

__all__ = ["MaskingEffect"]

log = logging.getLogger(__name__)

CHUNK = 65536
"""Edges per step when the layers are re-built at load."""
TABLES = 4096
"""Nodes whose incoming edges :meth:`MaskingEffect.incoming` keeps."""
TOLERANCE = 1e-3
"""Largest difference between the re-built layer means and the model's final vectors (else no effects)."""


class MaskingEffect:
    """Per-layer states and edges of the trained GNN, for local masking effects.

    Build with :meth:`of` (``None`` where the model has no exact local effect).
    """

    def __init__(self, scores: ModelScores, layers: list[np.ndarray]) -> None:
        msg = scores.messages
        assert msg is not None
        self.scores, self.h, self.L = scores, layers, msg.layers
        self.offsets = dict(msg.offsets)
        self.n = layers[0].shape[0]
        dst, src, weight, rel = _edges(msg, self.n)
        self.coef = msg.coef.astype(np.float64)
        self.in_ptr = _ptr(dst, self.n)  # edges are grouped by destination
        self.in_src, self.in_weight, self.in_rel = src, weight, rel
        by_src = np.argsort(src, kind="stable")
        self.out_ptr, self.out_dst = _ptr(src[by_src], self.n), dst[by_src]
        self.out_weight, self.out_rel = weight[by_src], rel[by_src]
        self.final = sum(layers[1:], layers[0]) / (self.L + 1)
        self.state = state = scores.state
        self.weights = None if state.weights is None else state.weights.detach().numpy().astype(np.float64)
        self.content = [z.detach().numpy() for z in state.content]
        self._tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def incoming(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """The senders into stacked row ``node`` (sorted, unique) and the summed coefficient of their edges
        into it (kept for the most recent ``TABLES`` nodes: a user's table serves all their items)."""
        table = self._tables.get(node)
        if table is None:
            if len(self._tables) >= TABLES:
                self._tables.clear()
            table = self._tables[node] = _incoming(self, node)
        return table

    @classmethod
    def of(cls, scores: ModelScores) -> MaskingEffect | None:
        """Local effects for ``scores``' model, or ``None`` where they would not be exact."""
        model, msg = scores.model, scores.messages
        late = getattr(model, "late", None)
        if msg is None or (late is not None and getattr(late, "gate", "weights") != "weights"):
            return None
        try:
            h0 = _inputs(scores, msg.offsets, msg.sent.shape)
        except (AttributeError, KeyError) as e:
            log.warning("no masking effects for %s: %s", scores.name, e)
            return None
        layers = [h0]
        for _ in range(msg.layers):
            layers.append(_propagate(msg, layers[-1]))
        final = sum(layers[1:], layers[0]) / (msg.layers + 1)
        if not _matches(scores, msg.offsets, final) or not np.allclose(sum(layers[:-1]), msg.sent, atol=TOLERANCE):
            log.warning("no masking effects for %s: re-built layers differ from the model's vectors", scores.name)
            return None
        return cls(scores, layers)

    def rows(self, nodes: list[Node]) -> np.ndarray:
        """Stacked rows of ``nodes`` (those the model lacks left out)."""
        rows = self.scores.rows
        found = [self.offsets[t] + r for t, k in nodes if t in self.offsets and (r := rows[t].get(k)) is not None]
        return np.asarray(found, dtype=np.int64)

    def pair(self, user: Any, item: Any) -> _Pair | None:
        """The computation around (``user``, ``item``), for :meth:`_Pair.drops`; ``None`` where the decoder
        is not exact for them (a user the model does not know, a never-rated item under a new-item map)."""
        s = self.scores
        if user not in s.user_index or item not in s.item_index:
            return None
        if self.state.new is not None and not bool(s.model.item_seen[s.item_index[item]]):
            return None
        u, i = self.offsets[s.users] + s.rows[s.users][user], self.offsets[s.items] + s.rows[s.items][item]
        return _Pair(self, np.array([u, i], dtype=np.int64), s.item_index[item])

    def drops(self, user: Any, item: Any, masks: list[list[Node]]) -> list[float] | None:
        """Score drop of (``user``, ``item``) when each of ``masks`` is silenced (``None``: see :meth:`pair`)."""
        pair = self.pair(user, item)
        return None if pair is None else pair.drops([self.rows(m) for m in masks]).tolist()


class _Pair:
    """One user and one item: their incoming edges, the nodes whose states reach them, their score."""

    def __init__(self, fx: MaskingEffect, targets: np.ndarray, item_row: int) -> None:
        self.fx, self.targets = fx, targets
        self.tables = [fx.incoming(int(t)) for t in targets]
        nodes = np.union1d(np.union1d(targets, self.tables[0][0]), self.tables[1][0])
        self.reach = {1: nodes}  # k -> the nodes within k hops upstream of the pair (sorted)
        for k in range(2, fx.L):
            self.reach[k] = nodes = np.union1d(nodes, _around(fx.in_ptr, fx.in_src, nodes))
        w = None if fx.weights is None else fx.weights[item_row]
        self.graph_weight = 1.0 if w is None else float(w[0])
        self.content = np.zeros(fx.h[0].shape[1])  # the content scores' weighted item side: they add <u, content>
        for wm, z in zip([] if w is None else w[1:], fx.content):
            self.content += wm * z[item_row]
        self.u, self.i = (fx.final[t].astype(np.float64) for t in targets)
        self.base = float(self.graph_weight * (self.u @ self.i) + self.u @ self.content)

    def drop(self, silent: np.ndarray) -> float:
        """The score drop when the stacked rows ``silent`` send nothing in any layer."""
        return float(self.drops([silent])[0])

    def drops(self, masks: list[np.ndarray]) -> np.ndarray:
        """The score drop for each of ``masks`` (stacked rows silenced together), all in one pass."""
        return self._two_layers(masks) if self.fx.L == 2 else self._any_layers(masks)

    def _any_layers(self, masks: list[np.ndarray]) -> np.ndarray:
        """:meth:`drops` for any number of layers, layer by layer: changes travel as entries (mask, node,
        value); nodes may repeat (the sums are linear)."""
        fx, dim = self.fx, self.fx.h[0].shape[1]
        keys = [k * fx.n + np.asarray(m, dtype=np.int64) for k, m in enumerate(masks)]
        keys = np.unique(np.concatenate([*keys, np.zeros(0, dtype=np.int64)]))
        silent, owner = keys % fx.n, keys // fx.n
        by, node, delta = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, dim))
        change = np.zeros((len(masks) * 2, dim))  # row 2k + j: how much target j's layer sum lost under mask k
        for layer in range(1, fx.L + 1):
            keep = ~np.isin(by * fx.n + node, keys)  # a silenced node forwards nothing
            senders, sender_by = np.concatenate([silent, node[keep]]), np.concatenate([owner, by[keep]])
            sent = np.concatenate([fx.h[layer - 1][silent], delta[keep]])
            if layer == fx.L:  # the last layer only matters where it reaches the pair: pulled from its edges
                for j, (src, coef) in enumerate(self.tables):
                    at = np.searchsorted(src, senders).clip(max=max(len(src) - 1, 0))
                    hit = np.flatnonzero(src[at] == senders) if len(src) else at[:0]
                    _scatter_add(change, sender_by[hit] * 2 + j, coef[at[hit]] * sent[hit])
            else:
                by, node, delta = self._push(senders, sender_by, sent, self.reach[fx.L - layer])
                for j, t in enumerate(self.targets):
                    on = np.flatnonzero(node == t)
                    _scatter_add(change, by[on] * 2 + j, delta[on])
        return self._dropped(change.reshape(len(masks), 2, dim))

    def _dropped(self, change: np.ndarray) -> np.ndarray:
        """Score drops from ``(masks, 2, dim)``: what each mask takes from the pair's layer sums."""
        change = change / (self.fx.L + 1)
        u, i = self.u - change[:, 0], self.i - change[:, 1]
        return self.base - (self.graph_weight * (u * i).sum(1) + u @ self.content)

    def _two_layers(self, masks: list[np.ndarray]) -> np.ndarray:
        """:meth:`drops` for two layers, where what a silenced node takes away is the same in every mask
        but for the neighbours silenced with it: computed once per node, then summed per mask."""
        fx, dim = self.fx, self.fx.h[0].shape[1]
        nodes = np.unique(np.concatenate([np.asarray(m, dtype=np.int64) for m in masks] + [np.zeros(0, np.int64)]))
        member = np.zeros((len(masks), len(nodes)))
        for k, m in enumerate(masks):
            member[k, np.searchsorted(nodes, np.asarray(m, dtype=np.int64))] = 1.0
        edge, owner = _slices(fx.out_ptr, nodes)  # layer 1: each node's state, less, to its neighbours
        near = _member(self.reach[1], fx.out_dst[edge])
        edge, owner = edge[near], owner[near]
        dst = fx.out_dst[edge]
        value = fx.h[0][nodes[owner]] * (fx.coef[fx.out_rel[edge]] * fx.out_weight[edge, None])
        per_node = np.zeros((len(nodes), 2, dim))
        change = np.zeros((len(masks), 2, dim))
        for j, (src, coef) in enumerate(self.tables):
            on = np.flatnonzero(dst == self.targets[j])  # layer 1 reaches the pair itself
            _scatter_add(per_node[:, j], owner[on], value[on])
            at, hit = _lookup(src, dst)  # layer 2: the neighbours forward the change to the pair...
            forwarded = coef[at[hit]] * value[hit]
            _scatter_add(per_node[:, j], owner[hit], forwarded)
            at_node, hit_node = _lookup(src, nodes)  # ... and the silenced neighbours send their state no more
            per_node[hit_node, j] += coef[at_node[hit_node]] * fx.h[1][nodes[hit_node]]
            quiet, silenced = _lookup(nodes, dst[hit])  # but a neighbour silenced in the same mask forwards nothing
            if silenced.any():
                both = member[:, owner[hit][silenced]] * member[:, quiet[silenced]]
                change[:, j] -= both @ forwarded[silenced]
        change += np.einsum("kn,njd->kjd", member, per_node)
        return self._dropped(change)

    def _push(
        self, senders: np.ndarray, by: np.ndarray, sent: np.ndarray, reach: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What ``senders`` send less over their edges to the nodes ``reach`` (sorted): one entry
        (mask, node, value) per edge."""
        fx = self.fx
        edge, owner = _slices(fx.out_ptr, senders)
        at = np.searchsorted(reach, fx.out_dst[edge]).clip(max=len(reach) - 1)
        keep = reach[at] == fx.out_dst[edge]
        edge, owner = edge[keep], owner[keep]
        value = sent[owner] * (fx.coef[fx.out_rel[edge]] * fx.out_weight[edge, None])
        return by[owner], fx.out_dst[edge], value


def _lookup(sorted_nodes: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``nodes`` in ``sorted_nodes`` and whether each is there."""
    if not len(sorted_nodes):
        return np.zeros(len(nodes), dtype=np.int64), np.zeros(len(nodes), dtype=bool)
    at = np.searchsorted(sorted_nodes, nodes).clip(max=len(sorted_nodes) - 1)
    return at, sorted_nodes[at] == nodes


def _member(sorted_nodes: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    return _lookup(sorted_nodes, nodes)[1]


def _incoming(fx: MaskingEffect, t: int) -> tuple[np.ndarray, np.ndarray]:
    """The senders into ``t`` (sorted, unique) and the summed coefficient of their edges into it."""
    lo, hi = fx.in_ptr[t], fx.in_ptr[t + 1]
    src, coef = fx.in_src[lo:hi], fx.coef[fx.in_rel[lo:hi]] * fx.in_weight[lo:hi, None]
    order = np.argsort(src, kind="stable")
    src, coef = src[order], coef[order]
    first = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else np.zeros(0, dtype=np.int64)
    return src[first], (np.add.reduceat(coef, first, axis=0) if len(src) else coef)


def _scatter_add(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``out[index] += values`` where ``index`` may repeat (faster than ``np.add.at``)."""
    if not len(index):
        return
    order = np.argsort(index, kind="stable")
    index = index[order]
    first = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    out[index[first]] += np.add.reduceat(values[order], first, axis=0)


def _edges(msg: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every edge as stacked (destination, source, weight, relation), grouped by destination."""
    parts = []
    for t, (ptr, src, weight, rel) in msg.into.items():
        dst = msg.offsets[t] + np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        parts.append((dst, src, weight, rel))
    dst, src, weight, rel = (np.concatenate([p[j] for p in parts]) for j in range(4))
    order = np.argsort(dst, kind="stable")
    return dst[order], src[order].astype(np.int64), weight[order].astype(np.float64), rel[order].astype(np.int64)


def _ptr(sorted_rows: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(sorted_rows, np.arange(n + 1))


def _slices(ptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edge numbers of ``nodes``' CSR slices, and the position in ``nodes`` each belongs to."""
    counts = ptr[nodes + 1] - ptr[nodes]
    owner = np.repeat(np.arange(len(nodes)), counts)
    start = np.repeat(ptr[nodes] - np.cumsum(counts) + counts, counts)
    return start + np.arange(counts.sum()), owner


def _around(ptr: np.ndarray, src: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    edge, _ = _slices(ptr, nodes)
    return np.unique(src[edge])


def _inputs(scores: ModelScores, offsets: dict[str, int], shape: tuple[int, int]) -> np.ndarray:
    """Layer 0 of every node (stacked): users' and items' input vectors, learned embeddings, else zeros."""
    model, state = scores.model, scores.state
    h0 = np.zeros(shape, dtype=np.float32)
    given = {scores.users: state.ego_user, scores.items: state.ego_item}
    for t, at in offsets.items():
        x = given.get(t, model.emb[t].weight if t in model.emb else None)
        if x is not None:
            h0[at : at + x.shape[0]] = x.detach().numpy()
    return h0


def _propagate(msg: Any, h: np.ndarray) -> np.ndarray:
    """One layer over every edge (``torch.index_add_``), in chunks of edges."""
    hh, out = torch.from_numpy(h), torch.zeros(h.shape, dtype=torch.float32)
    coef = torch.from_numpy(msg.coef)
    for t, (ptr, src, weight, rel) in msg.into.items():
        dst = torch.from_numpy(msg.offsets[t] + np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)))
        src, weight, rel = (torch.from_numpy(np.asarray(a)) for a in (src, weight, rel))
        for lo in range(0, len(dst), CHUNK):
            part = slice(lo, lo + CHUNK)
            values = hh[src[part].long()] * coef[rel[part].long()] * weight[part, None].float()
            out.index_add_(0, dst[part], values)
    return out.numpy()


def _matches(scores: ModelScores, offsets: dict[str, int], final: np.ndarray) -> bool:
    """Whether the re-built layer means are the model's final vectors."""
    for t, nodes in scores.state.nodes.items():
        at = offsets[t]
        if not np.allclose(final[at : at + nodes.shape[0]], nodes.detach().numpy(), atol=TOLERANCE):
            return False
    return True
