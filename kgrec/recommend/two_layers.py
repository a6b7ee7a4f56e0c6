"""Masking effects of a two-layer GNN for one user and many items at once (the answers' case).

With two layers, what silencing a node ``w`` takes from a target ``t``'s layer sum is (see
:mod:`kgrec.recommend.effect`)::

    c(w -> t) * h_0[w]                                   layer 1, when w is next to t
    c(w -> t) * h_1[w]                                   layer 2, when w is next to t
    sum over x next to t of c(x -> t) * c(w -> x) * h_0[w]   layer 2, what w's neighbours x pass on

except that a neighbour ``x`` silenced in the same mask passes nothing on. Every term but that exception
belongs to one (node, target) pair, whatever the node is silenced with, so it is computed once per pair
that some mask needs: each silenced node with the user, and with the item of each mask it is in (start
items recur across a user's recommendations); the exception once per pair of silenced neighbours; a
mask's change is the sum over its nodes. The sums run over scalars per relation (pair) first, then one
vector each. Array work grows with the silenced nodes' edges into the targets they are needed for, not
with the number of masks or items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kgrec.recommend.csr import join, lookup, ranges, runs, scatter_add, slices

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
    mask = np.unique(owner * len(nodes) + np.searchsorted(nodes, silenced))  # (mask, node), each once, by mask
    mask, node = mask // len(nodes), mask % len(nodes)
    width = pairs + 1  # target q of a node: its items 0..pairs-1, the user (q = pairs)
    need = np.unique(np.concatenate([node * width + pairs, node * width + pair_of[mask]]))  # (node, target) needed
    at = np.append(items, user)
    lost = _reached(fx, nodes, need, width, at)
    passed = _entries(fx, nodes, need, width, at)
    _passed(fx, lost, passed, nodes, need)
    change = np.zeros((len(flat) * 2, dim))  # row 2g + 0: mask g's user, 2g + 1: its item
    if len(mask):
        first = runs(mask)
        mine = np.searchsorted(need, node * width + pairs), np.searchsorted(need, node * width + pair_of[mask])
        for side, p in enumerate(mine):
            change[mask[first] * 2 + side] += np.add.reduceat(lost[p], first, axis=0)
    k, j = join(mask, mask)  # (mask, node, another node of the same mask)
    both = np.stack([mask[j], node[j], node[k]], axis=1)[node[j] != node[k]]
    _unpassed(fx, change, passed, both, pair_of, nodes)
    return _drops(fx, user, items, item_rows, change.reshape(len(flat), 2, dim), pair_of, [len(ms) for ms in masks])


@dataclass(frozen=True)
class _Passed:
    """Layer 2's entries: silenced node ``node`` -> neighbour ``via`` -> ``target``, one per pair of edges.

    ``pair`` is the (node, target) pair's position in the needed pairs (``node * width + target``);
    ``rel1, weight1`` the edge into the neighbour, ``rel2, weight2`` the neighbour's edge into the target.
    """

    width: int
    pair: np.ndarray
    node: np.ndarray
    """Positions in the silenced nodes."""
    target: np.ndarray
    via: np.ndarray
    """Stacked rows."""
    rel1: np.ndarray
    weight1: np.ndarray
    rel2: np.ndarray
    weight2: np.ndarray


def _reached(fx: MaskingEffect, nodes: np.ndarray, need: np.ndarray, width: int, at: np.ndarray) -> np.ndarray:
    """Per needed (node, target) pair, what the node's silence takes from the target's layer sum over the
    edges between them, in both layers: ``c(w -> t) * (h_0[w] + h_1[w])``."""
    lost = np.zeros((len(need), fx.h[0].shape[1]))
    edges, target = slices(fx.in_ptr, at)
    d, silenced = lookup(nodes, fx.in_src[edges])
    p, needed = lookup(need, d * width + target)
    keep = silenced & needed
    if not keep.any():
        return lost
    size = len(fx.coef)
    key, inverse = np.unique(p[keep] * size + fx.in_rel[edges[keep]], return_inverse=True)
    total = np.bincount(inverse, weights=fx.in_weight[edges[keep]])
    row, r = key // size, key % size
    values = total[:, None] * fx.coef[r]
    first = runs(row)
    row = row[first]
    w = nodes[need[row] // width]
    lost[row] = np.add.reduceat(values, first, axis=0) * (fx.h[0][w].astype(np.float64) + fx.h[1][w])
    return lost


def _entries(fx: MaskingEffect, nodes: np.ndarray, need: np.ndarray, width: int, at: np.ndarray) -> _Passed:
    """Layer 2's entries of the needed (node, target) pairs: each silenced node's edges to a neighbour that
    has an edge into the target."""
    edges, target = slices(fx.in_ptr, at)
    senders = np.unique(fx.in_src[edges])  # the targets' neighbours, numbered 0..S-1 below
    into = target * len(senders) + np.searchsorted(senders, fx.in_src[edges])  # (target, neighbour)
    order = np.argsort(into, kind="stable")
    count = np.bincount(into, minlength=width * len(senders))
    begin = np.cumsum(count) - count  # the edges of each (target, neighbour) among ``edges[order]``
    out, owner = slices(fx.out_ptr, nodes)
    via, keep = lookup(senders, fx.out_dst[out])  # only neighbours with an edge into some target pass on
    out, owner, via = out[keep], owner[keep], via[keep]
    ptr = np.searchsorted(need // width, np.arange(len(nodes) + 1))  # the needed pairs of each node
    lo, hi = ptr[owner], ptr[owner + 1]
    pair = ranges(lo, hi)  # each entry once per target its node is needed for
    entry = np.repeat(np.arange(len(out)), hi - lo)
    cell = need[pair] % width * len(senders) + via[entry]
    start, many = begin[cell], count[cell]
    second = edges[order[ranges(start, start + many)]]
    first, pair = np.repeat(out[entry], many), np.repeat(pair, many)
    return _Passed(
        width,
        pair,
        need[pair] // width,
        need[pair] % width,
        fx.out_dst[first],
        fx.out_rel[first],
        fx.out_weight[first],
        fx.in_rel[second],
        fx.in_weight[second],
    )


def _passed(fx: MaskingEffect, lost: np.ndarray, passed: _Passed, nodes: np.ndarray, need: np.ndarray) -> None:
    """Layer 2 passing layer 1's change on to the targets: a scalar sum per (pair, relation pair), then
    one vector each."""
    if not len(passed.pair):
        return
    size = len(fx.coef)
    key, inverse = np.unique((passed.pair * size + passed.rel1) * size + passed.rel2, return_inverse=True)
    total = np.bincount(inverse, weights=passed.weight1 * passed.weight2)
    row, r1, r2 = key // (size * size), key // size % size, key % size
    values = total[:, None] * fx.coef[r1] * fx.coef[r2]
    first = runs(row)
    row = row[first]
    lost[row] += np.add.reduceat(values, first, axis=0) * fx.h[0][nodes[need[row] // passed.width]]


def _unpassed(
    fx: MaskingEffect, change: np.ndarray, passed: _Passed, both: np.ndarray, pair_of: np.ndarray, nodes: np.ndarray
) -> None:
    """Takes from ``change`` (row ``2g``: mask ``g``'s user, ``2g + 1``: its item) what a neighbour
    silenced in the same mask did not pass on after all.

    ``both`` lists (mask, node, another node of that mask), positions in ``nodes``.
    """
    at, silenced = lookup(nodes, passed.via)
    j = np.flatnonzero(silenced)
    if not len(j) or not len(both):
        return
    size = len(nodes)
    key = (passed.node[j] * size + at[j]) * passed.width + passed.target[j]  # (sender, silenced neighbour, target)
    pair = both[:, 1] * size + both[:, 2]
    user = passed.width - 1
    wanted = np.concatenate([pair * passed.width + user, pair * passed.width + pair_of[both[:, 0]]])  # user, item
    rows = np.concatenate([both[:, 0] * 2, both[:, 0] * 2 + 1])
    order = np.argsort(key, kind="stable")
    k, w = join(key[order], wanted)
    j = j[order[k]]
    first = fx.coef[passed.rel1[j]] * (passed.weight1[j] * passed.weight2[j])[:, None]
    scatter_add(change, rows[w], -first * fx.coef[passed.rel2[j]] * fx.h[0][nodes[passed.node[j]]])


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
    drops, ends = base[pair_of] - after, np.cumsum(counts).tolist()
    return [drops[a:b] for a, b in zip([0, *ends], ends)]
