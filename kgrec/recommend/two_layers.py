"""Masking effects of a two-layer GNN for one user and many items at once (the answers' case).

With two layers, what silencing a node ``w`` takes from a target ``t``'s layer sum is (see
:mod:`kgrec.recommend.effect`)::

    c(w -> t) * h_0[w]                                   layer 1, when w is next to t
    c(w -> t) * h_1[w]                                   layer 2, when w is next to t
    sum over x next to t of c(x -> t) * c(w -> x) * h_0[w]   layer 2, what w's neighbours x pass on

except that a neighbour ``x`` silenced in the same mask passes nothing on. Every term but that exception
belongs to one node, whatever it is silenced with, so it is computed once per distinct node of all
the masks of all the items (start items recur across a user's recommendations), the exception once
per pair of silenced neighbours, and a mask's change is the sum over its nodes. Array work grows
with the silenced nodes' edges, not with the number of masks or items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kgrec.recommend.csr import join, lookup, scatter_add, slices

if TYPE_CHECKING:
    from kgrec.recommend.effect import MaskingEffect


def user_drops(
    fx: MaskingEffect, user: int, items: np.ndarray, item_rows: np.ndarray, masks: list[list[np.ndarray]]
) -> list[np.ndarray]:
    """Score drops of (``user``, ``items[q]``) for each of ``masks[q]`` (stacked rows silenced together).

    Args:
        fx: The model's layers and edges.
        user: The user's stacked row.
        items: The items' stacked rows (distinct).
        item_rows: The items' rows in the model's item order (the decoder's weights and content).
        masks: Per item, its masks.
    """
    dim, pairs = fx.h[0].shape[1], len(items)
    flat = [np.asarray(m, dtype=np.int64) for ms in masks for m in ms]
    pair_of = np.repeat(np.arange(pairs), [len(ms) for ms in masks])
    silenced = np.concatenate([*flat, np.zeros(0, np.int64)])
    nodes = np.unique(silenced)
    owner = np.repeat(np.arange(len(flat)), [len(m) for m in flat])
    mask = np.unique(owner * len(nodes) + np.searchsorted(nodes, silenced))  # (mask, node), each once
    mask, node = mask // len(nodes), mask % len(nodes)
    member = np.zeros((len(flat), len(nodes)))  # which nodes each mask silences
    member[mask, node] = 1.0
    k, j = join(mask, mask)  # (mask, node, another node of the same mask)
    both = np.stack([mask[j], node[j], node[k]], axis=1)[node[j] != node[k]]
    at = np.r_[items, user]  # target q; q = pairs is the user
    src, rel, weight, target = _edges_into(fx, at)
    edge, owner = slices(fx.out_ptr, nodes)  # layer 1: what each node's silence takes from its neighbours
    keep = lookup(np.union1d(src, at), fx.out_dst[edge])[1]
    edge, owner = edge[keep], owner[keep]
    sent = _Sent(owner, fx.out_dst[edge], fx.out_rel[edge], fx.out_weight[edge])
    lost = np.zeros((len(nodes) * (pairs + 1), dim))  # row d * (pairs + 1) + q: node d's silence, target q
    by_target = np.argsort(at, kind="stable")
    k, e = join(at[by_target], sent.dst)  # layer 1 reaches a target itself
    _reached(fx, lost, nodes, sent, e, by_target[k], pairs)
    t, e = join(src, sent.dst)  # layer 2: the neighbours pass the change on...
    _passed(fx, lost, nodes, sent, e, rel[t], weight[t], target[t], pairs)
    change = np.zeros((len(flat) * 2, dim))  # row 2g + 0: mask g's user, 2g + 1: its item
    _unpassed(fx, change, both, pair_of, nodes, sent, e, rel[t], weight[t], target[t], pairs)
    t, d = join(src, nodes)  # ... and silenced neighbours send their layer-1 state no more
    scatter_add(lost, d * (pairs + 1) + target[t], fx.coef[rel[t]] * weight[t, None] * fx.h[1][nodes[d]])
    change = change.reshape(len(flat), 2, dim)
    lost = lost.reshape(len(nodes), pairs + 1, dim)
    change[:, 0] += member @ lost[:, pairs]
    change[:, 1] += np.einsum("gn,ngd->gd", member, lost[:, pair_of])
    return _drops(fx, user, items, item_rows, change, pair_of, [len(ms) for ms in masks])


class _Sent:
    """Layer-1 entries: (silenced node position, neighbour, relation, edge weight)."""

    def __init__(self, owner: np.ndarray, dst: np.ndarray, rel: np.ndarray, weight: np.ndarray) -> None:
        self.owner, self.dst, self.rel, self.weight = owner, dst, rel, weight


def _edges_into(fx: MaskingEffect, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edges into ``targets``, sorted by sender: senders, relations, weights, target positions."""
    edges, target = slices(fx.in_ptr, targets)
    order = np.argsort(fx.in_src[edges], kind="stable")
    edges, target = edges[order], target[order]
    return fx.in_src[edges], fx.in_rel[edges], fx.in_weight[edges], target


def _reached(
    fx: MaskingEffect, lost: np.ndarray, nodes: np.ndarray, sent: _Sent, e: np.ndarray, target: np.ndarray, pairs: int
) -> None:
    """Layer 1 reaching a target itself (entry ``e[j]`` reaches ``target[j]``): a scalar sum per (node,
    target, relation), then one vector each."""
    if not len(e):
        return
    size = len(fx.coef)
    key, inverse = np.unique((sent.owner[e] * (pairs + 1) + target) * size + sent.rel[e], return_inverse=True)
    total = np.bincount(inverse, weights=sent.weight[e])
    row, r = key // size, key % size
    scatter_add(lost, row, total[:, None] * fx.coef[r] * fx.h[0][nodes[row // (pairs + 1)]])


def _passed(
    fx: MaskingEffect,
    lost: np.ndarray,
    nodes: np.ndarray,
    sent: _Sent,
    e: np.ndarray,
    rel: np.ndarray,
    weight: np.ndarray,
    target: np.ndarray,
    pairs: int,
) -> None:
    """Layer 2 passing layer 1's change on to the targets (entry ``e[j]`` over edge ``rel[j], weight[j]``
    into ``target[j]``): a scalar sum per (node, target, relation pair), then one vector each."""
    if not len(e):
        return
    size = len(fx.coef)
    row = sent.owner[e] * (pairs + 1) + target
    key, inverse = np.unique((row * size + sent.rel[e]) * size + rel, return_inverse=True)
    total = np.bincount(inverse, weights=sent.weight[e] * weight)
    row, r2, r1 = key // (size * size), key // size % size, key % size
    scatter_add(lost, row, total[:, None] * fx.coef[r2] * fx.coef[r1] * fx.h[0][nodes[row // (pairs + 1)]])


def _unpassed(
    fx: MaskingEffect,
    change: np.ndarray,
    both: np.ndarray,
    pair_of: np.ndarray,
    nodes: np.ndarray,
    sent: _Sent,
    e: np.ndarray,
    rel: np.ndarray,
    weight: np.ndarray,
    target: np.ndarray,
    pairs: int,
) -> None:
    """Takes from ``change`` (row ``2g``: mask ``g``'s user, ``2g + 1``: its item) what a neighbour
    silenced in the same mask did not pass on after all.

    ``both`` lists (mask, node, another node of that mask), positions in ``nodes``; ``sent`` entry ``e[j]``
    was passed on over edge ``rel[j], weight[j]`` into ``target[j]``.
    """
    at, silenced = lookup(nodes, sent.dst[e])
    j = np.flatnonzero(silenced)
    if not len(j) or not len(both):
        return
    size = len(nodes)
    key = (sent.owner[e[j]] * size + at[j]) * (pairs + 1) + target[j]  # (sender, silenced neighbour, target)
    pair = both[:, 1] * size + both[:, 2]
    wanted = np.r_[pair * (pairs + 1) + pairs, pair * (pairs + 1) + pair_of[both[:, 0]]]  # the user, the item
    rows = np.r_[both[:, 0] * 2, both[:, 0] * 2 + 1]
    order = np.argsort(key, kind="stable")
    k, w = join(key[order], wanted)
    j = j[order[k]]
    first = fx.coef[sent.rel[e[j]]] * (sent.weight[e[j]] * weight[j])[:, None]
    scatter_add(change, rows[w], -first * fx.coef[rel[j]] * fx.h[0][nodes[sent.owner[e[j]]]])


def _drops(
    fx: MaskingEffect,
    user: int,
    items: np.ndarray,
    item_rows: np.ndarray,
    change: np.ndarray,
    pair_of: np.ndarray,
    counts: list[int],
) -> list[np.ndarray]:
    """Per item, the score drops of its masks, from what each mask takes from the layer sums."""
    change = change / (fx.L + 1)
    u = fx.final[user].astype(np.float64)
    i = fx.final[items].astype(np.float64)
    weight, content = fx.decoder(item_rows)
    base = weight * (i @ u) + content @ u
    u2, i2 = u - change[:, 0], i[pair_of] - change[:, 1]
    after = weight[pair_of] * (u2 * i2).sum(1) + (u2 * content[pair_of]).sum(1)
    return np.split(base[pair_of] - after, np.cumsum(counts)[:-1])
