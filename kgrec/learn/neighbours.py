"""Neighbour sampling for mini-batch training on graphs too large for full-batch steps.

Why a sampler of our own: PyG's ``NeighborLoader`` needs ``pyg-lib`` or
``torch-sparse``, which have no PyPI wheels for current torch (``torch-sparse``
builds from source in about 12 minutes, against one exact torch version, and
breaks on every torch upgrade). The sampling kgrec needs is small: a CSR of
incoming edges per relation, built once with numpy, and per batch a few
vectorised numpy operations. So kgrec installs from PyPI alone and samples the
same way on every platform.

Sampling (GraphSAGE-style, per relation): from the batch's seed nodes (its
users and its positive and negative items), hop ``k`` draws, for every node
first reached at hop ``k`` and every relation into its type, up to
``fanouts[k]`` incoming neighbours uniformly without replacement (Floyd's
algorithm, vectorised over nodes). A node's neighbours are drawn once, at the
hop where it is first reached, so the subgraph is a union of trees whose size
is bounded by ``seeds * prod(fanouts) * relations``: it does not grow with the
graph.

Weights: every sampled edge keeps its FULL-graph normalised weight (the same
``1/sqrt(d_u d_v)`` or ``1/d_v`` as full-batch propagation) times ``d_v / k_v``
(neighbours of ``v`` in the relation over neighbours drawn). Propagation is
linear in the input embeddings, so this Horvitz-Thompson scaling makes every
sampled seed representation an unbiased estimate of its full-batch value, and
equal to it when the fan-outs cover every neighbourhood.

Layers: nodes are numbered seeds first, then in the order they were reached,
so the nodes whose layer-``l`` output is needed (within ``L - l`` hops of a
seed) are a prefix of each type. Each :class:`SampledLayer` holds, per node
type, the relations into it fused into one sparse product exactly as in
:class:`~kgrec.learn.propagation.RelationalPropagation`.
"""

from __future__ import annotations

import itertools
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.errors import ConfigError
from kgrec.learn.propagation import normalised_edges
from kgrec.types import EdgeType


@dataclass(frozen=True)
class FusedBlock:
    """The sampled relations into one node type in one layer: ``out = adj @ (x[gather] * coef[relation])``."""

    adj: Tensor
    adj_t: Tensor
    gather: Tensor
    relation: Tensor
    """Global edge-type index of each gathered row."""


@dataclass(frozen=True)
class SampledLayer:
    """One propagation layer: input rows and output rows per node type, fused blocks per target type."""

    rows_in: dict[str, int]
    rows_out: dict[str, int]
    blocks: dict[str, FusedBlock]


@dataclass(frozen=True)
class Subgraph:
    """A sampled subgraph: global ids of its nodes (seeds first) and its layers."""

    nodes: dict[str, Tensor]
    seeds: dict[str, int]
    layers: list[SampledLayer]

    def to(self, device: torch.device) -> Subgraph:
        """The same subgraph on ``device``."""
        layers = [
            SampledLayer(
                layer.rows_in,
                layer.rows_out,
                {
                    t: FusedBlock(b.adj.to(device), b.adj_t.to(device), b.gather.to(device), b.relation.to(device))
                    for t, b in layer.blocks.items()
                },
            )
            for layer in self.layers
        ]
        return Subgraph({t: v.to(device) for t, v in self.nodes.items()}, self.seeds, layers)


@dataclass(frozen=True)
class _Incoming:
    """Incoming edges of one relation as CSR over destinations, with full-graph weights."""

    ptr: np.ndarray
    src: np.ndarray
    weight: np.ndarray


class NeighbourSampler:
    """Samples the subgraph that an L-layer propagation needs around a batch.

    Args:
        data: The training graph (the model's), edge types in the model's order.
        fanouts: Neighbours drawn per node and relation at each hop, one entry per layer.
        interaction: The interaction edge type; it and its reverse are normalised symmetrically.

    Memory: the CSRs (one int64 source and one float32 weight per edge) and one
    int64 scratch id map per node type, allocated once; per call, only the sample.
    One call at a time (the scratch map is shared).
    """

    def __init__(self, data: HeteroData, fanouts: Sequence[int], *, interaction: EdgeType) -> None:
        if any(f < 1 for f in fanouts):
            raise ConfigError(f"fanouts must be positive, got {list(fanouts)}")
        self.fanouts = list(fanouts)
        self.user_t, _, self.item_t = interaction
        self.node_types = list(data.node_types)
        self.edge_types: list[EdgeType] = list(data.edge_types)
        cf = {interaction, (interaction[2], "rev_" + interaction[1], interaction[0])}
        self._incoming = [_incoming(data, et, symmetric=et in cf) for et in self.edge_types]
        self._local = {t: np.full(data[t].num_nodes, -1, dtype=np.int64) for t in self.node_types}

    def around_triples(
        self, users: Tensor, pos: Tensor, neg: Tensor, rng: np.random.Generator
    ) -> tuple[Subgraph, Tensor, Tensor, Tensor]:
        """The subgraph around a batch of triples, and the triples in its seed-row ids (``neg``: ``(B,)`` or
        ``(B, K)``, several negatives per row, kept in its shape)."""
        user_ids, user_rows = torch.unique(users, return_inverse=True)
        item_ids, item_rows = torch.unique(torch.cat([pos, neg.reshape(-1)]), return_inverse=True)
        sub = self.sample({self.user_t: user_ids, self.item_t: item_ids}, rng)
        return sub, user_rows, item_rows[: pos.numel()], item_rows[pos.numel() :].reshape(neg.shape)

    def sample(self, seeds: Mapping[str, Tensor | np.ndarray], rng: np.random.Generator) -> Subgraph:
        """Sample around ``seeds`` (node type -> distinct global ids) with ``rng``.

        Raises:
            ValueError: A seed id repeats within its type.
        """
        nodes = {t: [np.asarray(seeds.get(t, np.empty(0)), dtype=np.int64)] for t in self.node_types}
        count = dict.fromkeys(self.node_types, 0)
        hops: list[list[_Edges]] = []
        try:
            for t in self.node_types:
                self._assign(t, nodes[t][0], count)
            for fanout in self.fanouts:
                drawn = self._hop({t: parts[-1] for t, parts in nodes.items()}, count, fanout, rng)
                new = self._new_nodes(drawn)
                for t in self.node_types:
                    nodes[t].append(new.get(t, np.empty(0, dtype=np.int64)))
                    self._assign(t, nodes[t][-1], count)
                hops.append([(i, dst, self._local[self.edge_types[i][0]][src], w) for i, dst, src, w in drawn])
        finally:
            for t, parts in nodes.items():
                self._local[t][np.concatenate(parts)] = -1
        reached = {t: np.cumsum([0, *map(len, parts)])[1:] for t, parts in nodes.items()}
        return Subgraph(
            {t: torch.from_numpy(np.concatenate(parts)) for t, parts in nodes.items()},
            {t: int(parts[0].size) for t, parts in nodes.items()},
            [self._layer(hops[: len(hops) - j], reached) for j in range(len(hops))],
        )

    def _assign(self, t: str, ids: np.ndarray, count: dict[str, int]) -> None:
        """Number ``ids`` (new nodes of type ``t``) after the ones already in the subgraph."""
        rows = np.arange(count[t], count[t] + ids.size)
        self._local[t][ids] = rows
        if not np.array_equal(self._local[t][ids], rows):
            raise ValueError(f"seed ids of {t} must be distinct")
        count[t] += ids.size

    def _hop(
        self, frontier: dict[str, np.ndarray], count: dict[str, int], fanout: int, rng: np.random.Generator
    ) -> list[_Edges]:
        """Edges drawn into the frontier: (edge type, destination row, source global id, weight)."""
        out = []
        for i, (_, _, dst_t) in enumerate(self.edge_types):
            ids = frontier[dst_t]
            if ids.size:
                inc = self._incoming[i]
                owner, pos, scale = _draw(inc.ptr, ids, fanout, rng)
                first_row = count[dst_t] - ids.size
                out.append((i, owner + first_row, inc.src[pos], inc.weight[pos] * scale))
        return out

    def _new_nodes(self, drawn: list[_Edges]) -> dict[str, np.ndarray]:
        """Sources not yet in the subgraph, per node type (sorted, distinct)."""
        found: dict[str, list[np.ndarray]] = defaultdict(list)
        for i, _, src, _ in drawn:
            t = self.edge_types[i][0]
            found[t].append(src[self._local[t][src] < 0])
        return {t: np.unique(np.concatenate(parts)) for t, parts in found.items()}

    def _layer(self, hops: list[list[_Edges]], reached: dict[str, np.ndarray]) -> SampledLayer:
        """The layer whose outputs are the nodes within ``len(hops) - 1`` hops of a seed."""
        rows_in = {t: int(r[len(hops)]) for t, r in reached.items()}
        rows_out = {t: int(r[len(hops) - 1]) for t, r in reached.items()}
        sizes = [rows_in[t] for t in self.node_types]
        offsets = dict(zip(self.node_types, itertools.accumulate([0, *sizes[:-1]])))
        width = max(1, sum(sizes))
        into: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = defaultdict(list)
        for i, dst, src, w in itertools.chain.from_iterable(hops):
            src_t, _, dst_t = self.edge_types[i]
            into[dst_t].append((dst, i * width + offsets[src_t] + src, w))
        blocks = {t: _fused(parts, rows_out[t], width) for t, parts in into.items() if any(p[0].size for p in parts)}
        return SampledLayer(rows_in, rows_out, blocks)


_Edges = tuple[int, np.ndarray, np.ndarray, np.ndarray]
"""Edges of one relation: (edge type index, destination rows, sources, weights)."""


def _fused(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], rows: int, width: int) -> FusedBlock:
    """One sparse product over the distinct (relation, source row) codes of ``parts``.

    Both CSR layouts are built with numpy sorts (no ``coalesce``): sampled edges never repeat.
    """
    dst = np.concatenate([p[0] for p in parts])
    code = np.concatenate([p[1] for p in parts])
    values = np.concatenate([p[2] for p in parts]).astype(np.float32)
    by_code = np.argsort(code * max(rows, 1) + dst)
    sorted_code = code[by_code]
    first = np.r_[True, sorted_code[1:] != sorted_code[:-1]]
    used = sorted_code[first]
    col = np.empty_like(dst)
    col[by_code] = np.cumsum(first) - 1
    by_dst = np.argsort(dst * used.size + col)
    adj = _csr_of(dst[by_dst], col[by_dst], values[by_dst], (rows, used.size))
    adj_t = _csr_of(col[by_code], dst[by_code], values[by_code], (used.size, rows))
    used_t = torch.from_numpy(used)
    return FusedBlock(adj, adj_t, used_t % width, used_t // width)


def _csr_of(row: np.ndarray, col: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> Tensor:
    """A CSR tensor from entries sorted by (row, col)."""
    crow = np.r_[0, np.cumsum(np.bincount(row, minlength=shape[0]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta": sparse.mm on CSR is stable
        return torch.sparse_csr_tensor(
            torch.from_numpy(crow), torch.from_numpy(col), torch.from_numpy(values), shape, check_invariants=False
        )


def _incoming(data: HeteroData, et: EdgeType, *, symmetric: bool) -> _Incoming:
    dst, src, weight = (v.numpy() for v in normalised_edges(data, et, symmetric=symmetric))
    order = np.argsort(dst, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=data[et[2]].num_nodes))])
    return _Incoming(ptr, src[order], weight[order].astype(np.float32))


def _draw(ptr: np.ndarray, ids: np.ndarray, fanout: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Up to ``fanout`` incoming edges of each node of ``ids``, without replacement.

    Returns:
        The drawn edges' owner (index into ``ids``), their positions in the CSR,
        and each edge's scale ``degree / drawn``.
    """
    start, deg = ptr[ids], ptr[ids + 1] - ptr[ids]
    small = np.flatnonzero(deg <= fanout)
    owner_s = np.repeat(small, deg[small])
    within = np.arange(owner_s.size) - np.repeat(np.cumsum(deg[small]) - deg[small], deg[small])
    big = np.flatnonzero(deg > fanout)
    offsets = _floyd(deg[big], fanout, rng) if big.size else np.empty((0, fanout), dtype=np.int64)
    owner = np.concatenate([owner_s, np.repeat(big, fanout)])
    pos = np.concatenate([start[owner_s] + within, (start[big, None] + offsets).reshape(-1)])
    scale = np.concatenate([np.ones(owner_s.size), np.repeat(deg[big] / fanout, fanout)]).astype(np.float32)
    return owner, pos, scale


def _floyd(deg: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct uniform offsets in ``[0, deg)`` per row (Floyd's algorithm, vectorised over rows)."""
    out = np.empty((deg.size, k), dtype=np.int64)
    for j in range(k):
        top = deg - k + j
        pick = np.minimum((rng.random(deg.size) * (top + 1)).astype(np.int64), top)
        taken = (out[:, :j] == pick[:, None]).any(axis=1)
        out[:, j] = np.where(taken, top, pick)
    return out
