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

from kgrec.recommend.csr import join, lookup, ranges, runs, scatter_add, sum_by_key

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
    found = [fx.by_sender.find(int(t), nodes) for t in at]  # the edges from silenced nodes into each target
    edges = np.concatenate([f[0] for f in found])
    d = np.concatenate([np.repeat(np.arange(len(nodes)), f[1]) for f in found])
    target = np.repeat(np.arange(len(at)), [len(f[0]) for f in found])
    p, keep = lookup(need, d * width + target)
    if not keep.any():
        return lost
    size = len(fx.coef)
    key, total = sum_by_key(p[keep] * size + fx.in_rel[edges[keep]], fx.in_weight[edges[keep]], len(need) * size)
    row, r = key // size, key % size
    values = total[:, None] * fx.coef[r]
    first = runs(row)
    row = row[first]
    w = nodes[need[row] // width]
    lost[row] = np.add.reduceat(values, first, axis=0) * (fx.h[0][w].astype(np.float64) + fx.h[1][w])
    return lost


def _entries(fx: MaskingEffect, nodes: np.ndarray, need: np.ndarray, width: int, at: np.ndarray) -> _Passed:
    """Layer 2's entries of the needed (node, target) pairs: each silenced node's edges to a neighbour that
    has an edge into the target. Per pair, the shorter list is searched in the longer one: the node's
    out-edges among the target's senders, or the target's senders among the node's out-edges (a hub's
    tens of thousands of edges are not read for a user with ten)."""
    node, target = need // width, need % width
    lo, hi = fx.out_ptr[nodes[node]], fx.out_ptr[nodes[node] + 1]
    senders = [len(fx.by_sender.row(int(at[q]))[0]) for q in range(width)]
    small = hi - lo <= np.asarray(senders)[target]
    parts = [_from_out_edges(fx, np.flatnonzero(small), lo, hi, target, at)]
    parts += [_from_senders(fx, int(p), int(lo[p]), int(hi[p]), int(at[target[p]])) for p in np.flatnonzero(~small)]
    pair, first, second = (np.concatenate([part[j] for part in parts]) for j in range(3))
    return _Passed(
        width,
        pair,
        node[pair],
        target[pair],
        fx.out_dst[first],
        fx.out_rel[first],
        fx.out_weight[first].astype(np.float64),
        fx.in_rel[second],
        fx.in_weight[second].astype(np.float64),
    )


Entries = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Layer 2's entries as (needed pair, the node's out-edge to the neighbour, the neighbour's edge into the target)."""


def _from_out_edges(
    fx: MaskingEffect, pairs: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray, at: np.ndarray
) -> Entries:
    """The entries of ``pairs``, each out-edge of the pair's node looked up among its target's senders."""
    found: list[Entries] = [(np.zeros(0, dtype=np.int64),) * 3]
    by_target = pairs[np.argsort(target[pairs], kind="stable")]
    bounds = np.searchsorted(target[by_target], np.arange(len(at) + 1))
    for q in np.flatnonzero(np.diff(bounds)).tolist():
        mine = by_target[bounds[q] : bounds[q + 1]]
        out, owner = ranges(lo[mine], hi[mine]), np.repeat(mine, hi[mine] - lo[mine])
        second, many, _ = fx.by_sender.find(int(at[q]), fx.out_dst[out])  # neighbour -> target
        found.append((np.repeat(owner, many), np.repeat(out, many), second))
    return tuple(np.concatenate([f[j] for f in found]) for j in range(3))  # type: ignore[return-value]


def _from_senders(fx: MaskingEffect, pair: int, lo: int, hi: int, target: int) -> Entries:
    """The entries of one pair, each sender into its target looked up among the node's out-edges (sorted
    by neighbour within a node)."""
    senders, bounds, edges = fx.by_sender.row(target)
    dst = fx.out_dst[lo:hi]
    first, last = np.searchsorted(dst, senders, "left"), np.searchsorted(dst, senders, "right")
    hit = np.flatnonzero(last > first)
    outs, ins = last[hit] - first[hit], bounds[hit + 1] - bounds[hit]  # every out-edge with every in-edge
    count = outs * ins
    k = np.repeat(np.arange(len(hit)), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    out = lo + first[hit][k] + step // ins[k]
    second = edges[bounds[hit][k] + step % ins[k]]
    return np.full(len(out), pair, dtype=np.int64), out, second


def _passed(fx: MaskingEffect, lost: np.ndarray, passed: _Passed, nodes: np.ndarray, need: np.ndarray) -> None:
    """Layer 2 passing layer 1's change on to the targets: a scalar sum per (pair, relation pair), then
    one vector each."""
    if not len(passed.pair):
        return
    size = len(fx.coef)
    keys = (passed.pair * size + passed.rel1) * size + passed.rel2
    key, total = sum_by_key(keys, passed.weight1 * passed.weight2, (passed.pair.max() + 1) * size * size)
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
    u = fx.final(np.array([user]))[0].astype(np.float64)
    i = fx.final(items).astype(np.float64)
    weight, content = fx.decoder(item_rows)
    base = weight * (i @ u) + content @ u
    u2, i2 = u - change[:, 0], i[pair_of] - change[:, 1]
    after = weight[pair_of] * (u2 * i2).sum(1) + (u2 * content[pair_of]).sum(1)
    drops, ends = base[pair_of] - after, np.cumsum(counts).tolist()
    return [drops[a:b] for a, b in zip([0, *ends], ends)]
