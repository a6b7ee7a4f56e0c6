"""Relation-aware, LightGCN-style message passing over a heterogeneous graph.

One layer computes, for every node type ``t``::

    h'[t] = sum over relations r into t of  a[t, r] * (A_r @ h[src(r)]) * w_r

``A_r`` is the fixed, normalised adjacency of relation ``r`` (symmetric
``1/sqrt(deg_u deg_v)`` for the interaction relation and its reverse, as in
LightGCN; the mean over neighbours for knowledge-graph relations), ``w_r`` a
learned per-relation vector (diagonal relation transform, initialised to ones)
and ``a[t, :]`` a softmax over the relations that reach ``t`` (learned
attention over relation types). The output is the mean of layers ``0..L``.

With ``kg_mode="residual"`` a node type reached by interactions (items) keeps
them at weight 1 and takes the knowledge-graph relations as a residual::

    h'[item] = (A_cf @ h[user]) * w_cf + g * sum over KG relations r of  a[r] * (A_r @ h[src(r)])

with ``g`` a fixed gate and ``a`` a softmax among the knowledge-graph relations
only (no relation vectors on them), so the collaborative propagation stays
LightGCN's and the knowledge graph cannot take over the items' vectors.

Because ``A_r`` is constant, each relation costs one sparse-dense product
whose backward pass needs only ``A_r^T``; no per-edge tensors are built.
Collaborative propagation (users <-> items over training interactions) and
knowledge-graph propagation (items <-> entities) happen in the same layers, so
an item's representation mixes who liked it with what it is, and a cold item
(no interactions) still receives its neighbours' knowledge.

Cold-start simulation: ``forward(x, hidden=mask)`` leaves out the interaction
edges of the masked items (both directions) for that pass, so those items are
propagated exactly as a never-rated item is at test time, while everything
else keeps its edges.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from kgrec.types import EdgeType

if TYPE_CHECKING:
    from kgrec.learn.neighbours import Subgraph


CHUNK_EDGES = 1 << 20
"""Default of :attr:`RelationalPropagation.chunk_edges`: a pass without autograd multiplies the
adjacency into a node type a block of destination rows at a time, gathering the source rows of about
this many edges per block (1M edges x dim 64: 256 MiB), instead of every gathered source row at once."""


class RelationalPropagation(nn.Module):
    """Stacked parameter-light propagation layers over the edge types of ``data``.

    For speed, the relations into one node type are fused into a single sparse
    product: their adjacencies are laid side by side over just the source rows
    each relation uses, and the per-relation factors scale those gathered rows.

    Args:
        data: The training graph (edge types with ``edge_index``, node types with ``num_nodes``).
        dim: Embedding width.
        layers: Number of propagation layers (default: ``2``).
        interaction: The interaction edge type; it and its reverse get symmetric normalisation.
        interaction_share: Initial attention share of the interaction relation at the
            node types it reaches; the rest is split evenly.
        kg_mode: ``attention`` or ``residual`` (see the module).
        kg_gate: The fixed weight of the knowledge-graph residual under ``residual``.
    """

    def __init__(
        self,
        data: HeteroData,
        dim: int,
        *,
        layers: int = 2,
        interaction: EdgeType,
        interaction_share: float,
        kg_mode: str,
        kg_gate: float,
    ) -> None:
        super().__init__()
        if kg_mode not in ("attention", "residual"):
            raise ValueError(f"kg_mode {kg_mode!r}: expected 'attention' or 'residual'")
        self.layers, self.kg_mode = layers, kg_mode
        self.chunk_edges = CHUNK_EDGES
        """Edges per block of a pass without autograd (evaluation, answers); see :data:`CHUNK_EDGES`."""
        self.node_types = list(data.node_types)
        self.edge_types: list[EdgeType] = list(data.edge_types)
        sizes = [data[t].num_nodes for t in self.node_types]
        self.offsets = dict(zip(self.node_types, itertools.accumulate([0, *sizes[:-1]])))
        cf = {interaction, (interaction[2], "rev_" + interaction[1], interaction[0])}
        self.into: dict[str, list[int]] = defaultdict(list)
        for i, et in enumerate(self.edge_types):
            self.into[et[2]].append(i)
        for t, rels in self.into.items():
            adj, gather, rel_of_row = self._fused(data, t, rels, cf)
            self.register_buffer(f"adj_{t}", csr(adj), persistent=False)
            self.register_buffer(f"adjT_{t}", csr(adj.t()), persistent=False)
            self.register_buffer(f"gather_{t}", gather, persistent=False)
            self.register_buffer(f"rel_{t}", rel_of_row, persistent=False)
        self.rel_weight = nn.Parameter(torch.ones(len(self.edge_types), dim))
        self.is_cf = {i for i, et in enumerate(self.edge_types) if et in cf}
        self.item_type = interaction[2]
        for t in self.into:
            adj = getattr(self, f"adj_{t}")
            self.register_buffer(f"cfitem_{t}", self._cf_items(t, *_csr_coords(adj)), persistent=False)
            rows_t, cols_t = _csr_coords(getattr(self, f"adjT_{t}"))
            self.register_buffer(f"cfitemT_{t}", self._cf_items(t, cols_t, rows_t), persistent=False)
        if kg_mode == "attention":
            self.rel_logit = nn.Parameter(self._initial_logits(cf, interaction_share))
        else:  # attention among knowledge-graph relations only; a gate scales them beside the interactions
            self.rel_logit = nn.Parameter(torch.zeros(len(self.edge_types)))
            self.gated = [t for t, rels in self.into.items() if self._split(rels)[0] and self._split(rels)[1]]
            # a fixed hyperparameter: learned, it grows to fit the training interactions and hurts validation
            self.register_buffer("kg_gate", torch.tensor(float(kg_gate)), persistent=False)

    def _fused(self, data: HeteroData, t: str, rels: list[int], cf: set[EdgeType]) -> tuple[Tensor, Tensor, Tensor]:
        """``[A_r1 | A_r2 | ...]`` over used source rows, their global row ids and relation positions."""
        blocks, gathers, owners, width = [], [], [], 0
        for pos, i in enumerate(rels):
            et = self.edge_types[i]
            dst, src, values = normalised_edges(data, et, symmetric=et in cf)
            used, col = torch.unique(src, return_inverse=True)
            blocks.append((dst, col + width, values))
            gathers.append(used + self.offsets[et[0]])
            owners.append(torch.full((used.numel(),), pos, dtype=torch.long))
            width += used.numel()
        rows = torch.cat([b[0] for b in blocks])
        cols = torch.cat([b[1] for b in blocks])
        vals = torch.cat([b[2] for b in blocks])
        adj = torch.sparse_coo_tensor(
            torch.stack([rows, cols]), vals, (data[t].num_nodes, width), check_invariants=True
        ).coalesce()
        return adj, torch.cat(gathers), torch.cat(owners)

    def _cf_items(self, t: str, dst_rows: Tensor, cols: Tensor) -> Tensor:
        """Per nonzero of the fused adjacency into ``t``: the item of an interaction edge, else ``-1``."""
        rels = torch.tensor(self.into[t], dtype=torch.long)[getattr(self, f"rel_{t}")[cols]]
        cf = torch.tensor([i in self.is_cf for i in range(len(self.edge_types))], dtype=torch.bool)[rels]
        # users -> item: the destination row is the item; item -> user: the gathered source row
        into_items = t == self.item_type
        item = dst_rows if into_items else getattr(self, f"gather_{t}")[cols] - self.offsets[self.item_type]
        return torch.where(cf, item, torch.full_like(item, -1))

    def _initial_logits(self, cf: set[EdgeType], share: float) -> Tensor:
        logits = torch.zeros(len(self.edge_types))
        for rels in self.into.values():
            has_cf = [i for i in rels if self.edge_types[i] in cf]
            others = len(rels) - len(has_cf)
            if has_cf and others and 0 < share < 1:
                # softmax gives the interaction relation `share` of the weight at this node type
                for i in has_cf:
                    logits[i] = math.log(share * others / (1 - share))
        return logits

    def _split(self, rels: list[int]) -> tuple[list[int], list[int]]:
        """Positions (in ``rels``) of the interaction relations and of the knowledge-graph ones."""
        cf = [p for p, i in enumerate(rels) if i in self.is_cf]
        return cf, [p for p, i in enumerate(rels) if i not in self.is_cf]

    def shares(self, t: str) -> Tensor:
        """``(len(into[t]),)``: the scalar weight of each relation into ``t``.

        ``attention``: a softmax over every relation into ``t``. ``residual``: at a node
        type reached by interactions, those keep weight 1 (LightGCN's propagation)
        and the knowledge-graph relations share ``gate[t]`` by a softmax among
        themselves; elsewhere a softmax over the relations, as in ``attention``.
        """
        rels = self.into[t]
        logits = self.rel_logit[rels]
        if self.kg_mode == "attention" or t not in self.gated:
            return torch.softmax(logits, 0)
        _, kg = self._split(rels)
        out = torch.ones_like(logits)
        return out.index_put((torch.tensor(kg, device=logits.device),), self.kg_gate * torch.softmax(logits[kg], 0))

    def coefficients_into(self, t: str) -> Tensor:
        """``(len(into[t]), dim)``: share times relation vector of each relation into ``t``.

        Under ``residual`` only the interaction relations keep a learned vector (the
        knowledge-graph ones stay ones), so the knowledge graph cannot outgrow its gate.
        """
        rels = self.into[t]
        weight = self.rel_weight[rels]
        if self.kg_mode == "residual":
            cf = torch.tensor([i in self.is_cf for i in rels], device=weight.device).unsqueeze(1)
            weight = torch.where(cf, weight, torch.ones_like(weight))
        return self.shares(t).unsqueeze(1) * weight

    def forward(
        self,
        x: dict[str, Tensor],
        hidden: Tensor | None = None,
        *,
        silent: Tensor | None = None,
        record: list[Tensor] | None = None,
    ) -> dict[str, Tensor]:
        """Propagate ``x`` (node type -> ``(N_t, dim)``) and return the layer means.

        Args:
            x: Input vectors per node type.
            hidden: ``(num_items,)`` bool: items whose interaction edges are left out of this
                pass (cold-start simulation; default: none).
            silent: Stacked rows (:meth:`stacked_rows`) that send no message in any layer, as if
                their relationships were removed; their own vectors still count (default: none).
            record: When given, every layer's stacked input is appended to it (default: none).
        """
        adjacency = None if hidden is None else self._without_items(hidden)
        total = dict(x)
        h = x
        for _ in range(self.layers):
            h = self._layer(h, adjacency, silent, record)
            total = {t: total[t] + h[t] for t in total}
        return {t: v / (self.layers + 1) for t, v in total.items()}

    def _without_items(self, hidden: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        """Node type -> (adjacency, transpose) with the interaction edges of ``hidden`` items zeroed."""
        out = {}
        for t in self.into:
            pair = []
            for name, items in ((f"adj_{t}", f"cfitem_{t}"), (f"adjT_{t}", f"cfitemT_{t}")):
                adj, item = getattr(self, name), getattr(self, items)
                drop = (item >= 0) & hidden[item.clamp(min=0)]
                values = adj.values().masked_fill(drop, 0.0)
                pair.append(
                    torch.sparse_csr_tensor(
                        adj.crow_indices(), adj.col_indices(), values, adj.shape, check_invariants=False
                    )
                )
            out[t] = (pair[0], pair[1])
        return out

    def forward_sampled(self, x: dict[str, Tensor], sub: Subgraph) -> dict[str, Tensor]:
        """Propagate over a sampled subgraph; ``x`` holds its nodes' inputs, the result its seeds' layer means.

        Relation weights and attention are the full-batch ones, looked up by
        global edge-type index, so a batch that lacks a relation just gets no
        messages along it.
        """
        coef = self.coefficients()
        total = {t: v[: sub.seeds[t]] for t, v in x.items()}
        h = x
        for layer in sub.layers:
            stacked = torch.cat([h[t][: layer.rows_in[t]] for t in self.node_types])
            out = {}
            for t in self.node_types:
                block = layer.blocks.get(t)
                if block is None:
                    out[t] = stacked.new_zeros(layer.rows_out[t], stacked.shape[1])
                    continue
                rows = stacked.index_select(0, block.gather) * coef[block.relation]
                out[t] = _SparseMatmul.apply(block.adj, block.adj_t, rows)
            h = out
            total = {t: total[t] + h[t][: sub.seeds[t]] for t in total}
        return {t: v / (self.layers + 1) for t, v in total.items()}

    def coefficients(self) -> Tensor:
        """``(edge types, dim)``: attention times relation weight of every relation, by global index."""
        parts, order = [], []
        for t, rels in self.into.items():
            parts.append(self.coefficients_into(t))
            order += rels
        position = torch.empty(len(order), dtype=torch.long)
        position[torch.tensor(order, dtype=torch.long)] = torch.arange(len(order))
        return torch.cat(parts).index_select(0, position.to(self.rel_weight.device))

    def relation_attention(self) -> dict[str, dict[str, float]]:
        """Current attention over incoming relation types per node type (for reports)."""
        out = {}
        for t, rels in self.into.items():
            a = self.shares(t).tolist()
            out[t] = {f"{self.edge_types[i][0]}-{self.edge_types[i][1]}": round(w, 4) for i, w in zip(rels, a)}
        return out

    def stacked_rows(self, rows: dict[str, Tensor]) -> Tensor:
        """Rows of node type -> their rows in the stacked propagation order (types in :attr:`node_types` order)."""
        parts = [rows[t].to(torch.long) + self.offsets[t] for t in self.node_types if t in rows]
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)

    def edges_into(self, t: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Every edge into node type ``t`` as CSR: row pointers, stacked source rows, weights, relation indices.

        Row ``r``'s edges are ``ptr[r]:ptr[r + 1]``; a relation index is a position in :attr:`edge_types`.
        """
        adj = getattr(self, f"adj_{t}")
        relation = torch.tensor(self.into[t], dtype=torch.long)[getattr(self, f"rel_{t}")]
        cols = adj.col_indices()
        return adj.crow_indices(), getattr(self, f"gather_{t}")[cols], adj.values(), relation[cols]

    def _layer(
        self,
        h: dict[str, Tensor],
        adjacency: dict[str, tuple[Tensor, Tensor]] | None = None,
        silent: Tensor | None = None,
        record: list[Tensor] | None = None,
    ) -> dict[str, Tensor]:
        stacked = torch.cat([h[t] for t in self.node_types])
        if record is not None:
            record.append(stacked)
        if silent is not None:
            stacked = stacked.index_fill(0, silent.to(stacked.device), 0.0)
        out: dict[str, Tensor] = {}
        for t in self.into:
            coef = self.coefficients_into(t)
            adj, adj_t = (getattr(self, f"adj_{t}"), getattr(self, f"adjT_{t}")) if adjacency is None else adjacency[t]
            gather, rel = getattr(self, f"gather_{t}"), getattr(self, f"rel_{t}")
            if not torch.is_grad_enabled() and adj.values().numel() > self.chunk_edges:
                out[t] = _chunked_product(adj, stacked, gather, coef, rel, self.chunk_edges)
                continue
            rows = stacked.index_select(0, gather) * coef[rel]
            out[t] = _SparseMatmul.apply(adj, adj_t, rows)
        for t in h:
            out.setdefault(t, torch.zeros_like(h[t]))
        return out


def _chunked_product(adj: Tensor, stacked: Tensor, gather: Tensor, coef: Tensor, rel: Tensor, chunk: int) -> Tensor:
    """``adj @ (stacked[gather] * coef[rel])`` without autograd, a block of destination rows at a time.

    Each block gathers only the source rows its edges use (about ``chunk`` edges' worth), so the
    working memory is bounded by ``chunk``, not by the graph; a row's sum runs over the same
    values in the same order as the one-product path.
    """
    crow, col, val = adj.crow_indices(), adj.col_indices(), adj.values()
    out = stacked.new_empty(adj.shape[0], stacked.shape[1])
    start, n_rows = 0, adj.shape[0]
    while start < n_rows:
        end = int(torch.searchsorted(crow, crow[start] + chunk, right=True)) - 1
        end = min(n_rows, max(end, start + 1))
        lo, hi = int(crow[start]), int(crow[end])
        used, local = torch.unique(col[lo:hi], return_inverse=True)
        rows = stacked.index_select(0, gather[used]) * coef[rel[used]]
        shape = (end - start, len(used))
        block = torch.sparse_csr_tensor(crow[start : end + 1] - lo, local, val[lo:hi], shape, check_invariants=False)
        out[start:end] = torch.sparse.mm(block, rows)
        start = end
    return out


class _SparseMatmul(torch.autograd.Function):
    """``A @ X`` for a constant sparse ``A`` whose transpose is precomputed (no re-sorting in backward)."""

    @staticmethod
    def forward(ctx: Any, adj: Tensor, adj_t: Tensor, x: Tensor) -> Tensor:
        ctx.save_for_backward(adj_t)
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None, Tensor]:
        (adj_t,) = ctx.saved_tensors
        return None, None, torch.sparse.mm(adj_t, grad)


def _csr_coords(adj: Tensor) -> tuple[Tensor, Tensor]:
    """Row and column index of every stored value of a CSR tensor, in storage order."""
    crow = adj.crow_indices()
    rows = torch.repeat_interleave(torch.arange(crow.numel() - 1), crow.diff())
    return rows, adj.col_indices()


def csr(adj: Tensor) -> Tensor:
    """``adj`` as sparse CSR (coalesced first)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta": sparse.mm on CSR is stable
        return adj.coalesce().to_sparse_csr()


def normalised_edges(data: HeteroData, et: EdgeType, *, symmetric: bool) -> tuple[Tensor, Tensor, Tensor]:
    """Destination ids, source ids and full-graph normalised weights of the edges of ``et``."""
    src_t, _, dst_t = et
    n_src, n_dst = data[src_t].num_nodes, data[dst_t].num_nodes
    src, dst = data[et].edge_index
    ones = torch.ones(src.numel())
    deg_dst = torch.zeros(n_dst).index_add_(0, dst, ones)
    if symmetric:
        deg_src = torch.zeros(n_src).index_add_(0, src, ones)
        values = (deg_dst[dst] * deg_src[src]).clamp(min=1).rsqrt()
    else:
        values = 1.0 / deg_dst[dst].clamp(min=1)
    return dst, src, values
