"""Masking effects layer by layer, for one user and one item, for a GNN of any depth (see
:mod:`kgrec.recommend.effect`; two layers have the faster :mod:`kgrec.recommend.two_layers`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kgrec.recommend.csr import lookup, scatter_add, slices

if TYPE_CHECKING:
    from kgrec.recommend.effect import MaskingEffect


class Pair:
    """One user and one item: their incoming edges, the nodes whose states reach them, their score.

    Args:
        fx: The model's layers and edges.
        user: The user's stacked row.
        item: The item's stacked row.
        item_row: The item's row in the model's item order.
    """

    def __init__(self, fx: MaskingEffect, user: int, item: int, item_row: int) -> None:
        self.fx, self.targets = fx, np.array([user, item], dtype=np.int64)
        self.tables = [fx.incoming(int(t)) for t in self.targets]
        nodes = np.union1d(np.union1d(self.targets, self.tables[0][0]), self.tables[1][0])
        self.reach = {1: nodes}  # k -> the nodes within k hops upstream of the pair (sorted)
        for k in range(2, fx.L):
            self.reach[k] = nodes = np.union1d(nodes, _around(fx, nodes))
        weight, content = fx.decoder(np.array([item_row]))
        self.graph_weight, self.content = float(weight[0]), content[0]
        self.u, self.i = fx.final(np.asarray(self.targets, dtype=np.int64)).astype(np.float64)
        self.base = float(self.graph_weight * (self.u @ self.i) + self.u @ self.content)

    def drops(self, masks: list[np.ndarray]) -> np.ndarray:
        """The score drop for each of ``masks`` (stacked rows silenced together), layer by layer: changes
        travel as entries (mask, node, value); nodes may repeat (the sums are linear)."""
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
                    at, hit = lookup(src, senders)
                    scatter_add(change, sender_by[hit] * 2 + j, coef[at[hit]] * sent[hit])
            else:
                by, node, delta = self._push(senders, sender_by, sent, self.reach[fx.L - layer])
                for j, t in enumerate(self.targets):
                    on = np.flatnonzero(node == t)
                    scatter_add(change, by[on] * 2 + j, delta[on])
        change = change.reshape(len(masks), 2, dim) / (fx.L + 1)
        u, i = self.u - change[:, 0], self.i - change[:, 1]
        return self.base - (self.graph_weight * (u * i).sum(1) + u @ self.content)

    def _push(
        self, senders: np.ndarray, by: np.ndarray, sent: np.ndarray, reach: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What ``senders`` send less over their edges to the nodes ``reach`` (sorted): one entry
        (mask, node, value) per edge."""
        fx = self.fx
        edge, owner = slices(fx.out_ptr, senders)
        keep = lookup(reach, fx.out_dst[edge])[1]
        edge, owner = edge[keep], owner[keep]
        value = sent[owner] * (fx.coef[fx.out_rel[edge]] * fx.out_weight[edge, None])
        return by[owner], fx.out_dst[edge], value


def _around(fx: MaskingEffect, nodes: np.ndarray) -> np.ndarray:
    """The senders into ``nodes``."""
    return np.unique(fx.in_src[slices(fx.in_ptr, nodes)[0]])
