"""The exact score drop of masking a path's nodes, computed locally around a user and their items.

Masking (``KGRecModel.embed(silent=...)``) silences nodes in every propagation layer: they send no
message, their own vectors still count. The propagation is linear, so the masked states differ from
the trained ones by ``delta``, which starts at the silenced nodes and spreads one hop per layer::

    delta_0 = 0
    delta_l[v] = sum over edges w -> v of  a_e * c_r * (h_{l-1}[w] if w is silenced else delta_{l-1}[w])

(``a_e`` the edge's normalised weight, ``c_r`` its relation's coefficient, ``h_l`` the trained layer
states, re-built here from the model's inputs and :meth:`KGRecModel.edge_messages`, and checked
against its final vectors). A final vector is the mean of layers ``0..L``, so the masked user and
item vectors are ``f - sum_l delta_l / (L + 1)``. Only ``delta_l`` at nodes within ``L - l`` hops of
the user or the item reaches them, and only that is computed: :mod:`kgrec.recommend.two_layers` for
two layers (all of a user's items in one pass), :mod:`kgrec.recommend.layers` layer by layer for
other depths. The masked vectors then go through the model's decoder (the graph score weighted as in
late fusion, plus the content scores, which depend on the user's vector). The result equals a full
re-propagation's score drop (``tests/recommend/test_faithful_effect.py``) at the cost of the
silenced nodes' and the targets' edges, not the graph's.

Where the decoder is not linear in the graph vectors (``hybrid`` fusion's per-item attention, the new-item
map for never-rated items) or the model is not kgrec's GNN, there is no effect (``None``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from kgrec.recommend.csr import BySender, group
from kgrec.recommend.layers import Pair
from kgrec.recommend.model import ModelScores, Node
from kgrec.recommend.two_layers import user_drops

__all__ = ["MaskingEffect"]

log = logging.getLogger(__name__)

CHUNK = 65536
"""Edges per step when the layers are re-built at load."""
TOLERANCE = 1e-3
"""Largest difference between the re-built layer means and the model's final vectors (else no effects)."""


class MaskingEffect:
    """Per-layer states and edges of the trained GNN, for local masking effects.

    Build with :meth:`of` (``None`` where the model has no exact local effect).
    """

    def __init__(self, scores: ModelScores, layers: list[np.ndarray]) -> None:
        msg = scores.messages
        assert msg is not None
        self.scores, self.L = scores, msg.layers
        self.h = layers[: msg.layers]
        """Layers ``0..L-1``: what silenced nodes would have sent (the last layer only adds up into the final
        vectors, which are the model's own: :meth:`final`)."""
        self.offsets = dict(msg.offsets)
        self.n = layers[0].shape[0]
        dst, src, weight, rel = _edges(msg)
        self.coef = msg.coef.astype(np.float64)
        by_dst, self.in_ptr = group(dst, self.n)
        dst, src, weight, rel = dst[by_dst], src[by_dst], weight[by_dst], rel[by_dst]
        self.in_src, self.in_weight, self.in_rel = src, weight, rel
        self.by_sender = BySender(self.in_ptr, self.in_src)
        """The incoming edges of the nodes asked about last, grouped by sender."""
        by_src, self.out_ptr = group(src, self.n)  # each sender's edges in destination order
        self.out_dst = dst[by_src].astype(src.dtype)
        self.out_weight, self.out_rel = weight[by_src], rel[by_src]
        self._final = {t: v.detach().numpy() for t, v in scores.state.nodes.items() if t in self.offsets}
        self.state = state = scores.state
        self.weights = None if state.weights is None else state.weights.detach().numpy().astype(np.float64)
        self.content = [z.detach().numpy() for z in state.content]

    def incoming(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """The senders into stacked row ``node`` (sorted, unique) and the summed coefficient of their edges
        into it (added in edge order)."""
        senders, bounds, edges = self.by_sender.row(node)
        coef = self.coef[self.in_rel[edges]] * self.in_weight[edges, None]
        return senders, (np.add.reduceat(coef, bounds[:-1], axis=0) if len(senders) else coef)

    @classmethod
    def of(cls, scores: ModelScores) -> MaskingEffect | None:
        """Local effects for ``scores``' model, or ``None`` where they would not be exact."""
        model, msg = scores.model, scores.messages
        if msg is None or not model.linear_decoder:
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

    def final(self, rows: np.ndarray) -> np.ndarray:
        """The model's final vectors of the stacked ``rows`` (users and items: the targets)."""
        out = np.zeros((len(rows), self.h[0].shape[1]), dtype=np.float32)
        for t, vectors in self._final.items():
            at = self.offsets[t]
            hit = (rows >= at) & (rows < at + len(vectors))
            out[hit] = vectors[rows[hit] - at]
        return out

    def rows(self, nodes: list[Node]) -> np.ndarray:
        """Stacked rows of ``nodes`` (those the model lacks left out)."""
        rows = self.scores.stacked_rows(nodes)
        return rows[rows >= 0]

    def decoder(self, item_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per item (model rows): the weight of its graph score and the weighted sum of its content
        vectors, so that its score for a user vector ``u`` is ``weight * <u, item> + <u, content>``."""
        if self.weights is None:
            return np.ones(len(item_rows)), np.zeros((len(item_rows), self.h[0].shape[1]))
        w = self.weights[item_rows]
        content = sum((w[:, m + 1, None] * z[item_rows] for m, z in enumerate(self.content)), np.zeros(1))
        return w[:, 0], np.broadcast_to(content, (len(item_rows), self.h[0].shape[1])).astype(np.float64)

    def user_drops(self, user: Any, items: list[Any], masks: list[list[list[Node]]]) -> list[list[float] | None]:
        """Per item, the score drop of (``user``, item) when each of its ``masks`` is silenced; ``None`` for
        an item without an exact local effect (a never-rated item under a new-item map), all ``None`` for a
        user the model does not know."""
        s = self.scores
        known = [j for j, i in enumerate(items) if i in s.item_index and self._exact(s.item_index[i])]
        out: list[list[float] | None] = [None] * len(items)
        if user not in s.user_index or not known:
            return out
        u = self.offsets[s.users] + s.rows[s.users][user]
        stacked = np.array([self.offsets[s.items] + s.rows[s.items][items[j]] for j in known], dtype=np.int64)
        rows = np.array([s.item_index[items[j]] for j in known], dtype=np.int64)
        silent = [[self.rows(m) for m in masks[j]] for j in known]
        if self.L == 2:
            found = user_drops(self, u, stacked, rows, silent)
        else:
            found = [Pair(self, u, int(i), int(r)).drops(m) for i, r, m in zip(stacked, rows, silent)]
        for j, drops in zip(known, found):
            out[j] = drops.tolist()
        return out

    def drops(self, user: Any, item: Any, masks: list[list[Node]]) -> list[float] | None:
        """Score drop of (``user``, ``item``) when each of ``masks`` is silenced (``None``: see :meth:`user_drops`)."""
        return self.user_drops(user, [item], [masks])[0]

    def _exact(self, item_row: int) -> bool:
        """Whether the decoder scores this item from its graph vector (not a never-rated item's new-item map)."""
        return self.state.new is None or bool(self.scores.model.item_seen[item_row])


def _edges(msg: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every edge as stacked (destination, source, weight, relation); in the messages' types (``int32``
    sources and relations, ``float32`` weights: exact in ``float64`` sums)."""
    parts = [
        (msg.offsets[t] + np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)), src, weight, rel)
        for t, (ptr, src, weight, rel) in msg.into.items()
    ]
    dst, src, weight, rel = (np.concatenate([p[j] for p in parts]) for j in range(4))
    return dst, src, weight, rel


def _inputs(scores: ModelScores, offsets: dict[str, int], shape: tuple[int, int]) -> np.ndarray:
    """Layer 0 of every node (stacked): users' and items' input vectors, learned embeddings, else zeros."""
    model, state = scores.model, scores.state
    h0 = np.zeros(shape, dtype=np.float32)
    given = model.input_vectors() | {scores.users: state.ego_user, scores.items: state.ego_item}
    for t, at in offsets.items():
        x = given.get(t)
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
