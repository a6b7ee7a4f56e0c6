"""KGRec: kgrec's heterogeneous GNN recommender with modality fusion.

Encoder: every node type starts from a learned embedding (users, entities,
genres, ...); items start from their id embedding plus, with ``early`` or
``hybrid`` fusion, a projection of their modality vectors. Relation-aware
propagation (:class:`~kgrec.learn.propagation.RelationalPropagation`) then mixes
collaborative signal (training interactions) and knowledge-graph structure.

Decoder: the dot product of user and item representations, combined with
per-modality scores under ``late`` or ``hybrid`` fusion
(:class:`~kgrec.learn.fusion.LateFusion`).

Cold items: an item without training interactions has no trained id embedding,
so it is represented without one, from its content and its knowledge-graph
neighbours. Two training options teach the model to do so:

* ``id_dropout`` drops an item's id embedding per step; the item keeps its
  interaction edges, so it still hears from the users who rated it;
* ``cold_simulation`` treats a share of the rated items as new at every step
  (DropoutNet-style): no id embedding *and* no interaction edges in that pass,
  exactly what a never-rated item has at test time, while their training
  interactions still count in the loss.

Both teach the model to *order* new items; to *mix* them into a top-k among
rated items, ``new_item_ridge > 0`` fits a :class:`~kgrec.learn.new_items.NewItemMap`
after training (:meth:`KGRecModel.fit_new_items`), which gives never-rated items
vectors on the rated items' scale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from kgrec.errors import ConfigError
from kgrec.learn.config import TrainConfig
from kgrec.learn.fusion import EarlyFusion, LateFusion, Standardise
from kgrec.learn.messages import EdgeMessages
from kgrec.learn.neighbours import NeighbourSampler, Subgraph
from kgrec.learn.new_items import NewItemMap
from kgrec.learn.propagation import RelationalPropagation
from kgrec.learn.recommender import NodeVectors, Recommender
from kgrec.types import EdgeType


@dataclass(frozen=True)
class KGRecState:
    """What scores are read from: final user/item vectors, ego vectors, late-fusion parts."""

    user: Tensor
    item: Tensor
    ego_user: Tensor
    ego_item: Tensor
    content: list[Tensor]
    weights: Tensor | None
    nodes: dict[str, Tensor]
    """Final vectors of every node type (entities, genres, ...), for explanations."""
    new: Tensor | None = None
    """``(I, dim)``: never-rated items' predicted vectors (rows of rated items unused), with a new-item map."""


class KGRecModel(Recommender):
    """Heterogeneous GNN over the training graph with early, late or hybrid fusion.

    Every option (width, layers, fusion, modalities, id dropout, cold-start simulation, new-item
    map, regularisation, knowledge-graph mode) comes from one :class:`~kgrec.learn.config.TrainConfig`,
    whose fields document them and hold their only defaults.

    Args:
        data: The training graph from :func:`kgrec.learn.data.to_hetero` (``data.interaction``
            names the interaction edge type).
        config: The run's configuration.
    """

    def __init__(self, data: HeteroData, config: TrainConfig) -> None:
        interaction: EdgeType = tuple(data.interaction)  # type: ignore[assignment]
        dim, fusion, kg_inputs = config.dim, config.fusion, config.kg_inputs
        modalities: Sequence[str] = config.modalities
        id_dropout, cold_simulation, new_item_ridge = config.id_dropout, config.cold_simulation, config.new_item_ridge
        reg_weight, kg_reg = config.reg_weight, config.kg_reg
        self.user_t, _, self.item_t = interaction
        self._graph, self._interaction = data, interaction  # kept (not copied) for neighbour samplers
        super().__init__(data[self.user_t].num_nodes, data[self.item_t].num_nodes)
        self.fusion, self.id_dropout, self.reg_weight, self.kg_reg = fusion, id_dropout, reg_weight, kg_reg
        self.cold_simulation = cold_simulation
        learned = [t for t in data.node_types if kg_inputs == "learned" or t in (self.user_t, self.item_t)]
        self.emb = nn.ModuleDict({t: nn.Embedding(data[t].num_nodes, dim) for t in learned})
        self.relays = {t: data[t].num_nodes for t in data.node_types if t not in learned}
        for e in self.emb.values():
            nn.init.xavier_normal_(e.weight)
        self.prop = RelationalPropagation(
            data,
            dim,
            layers=config.layers,
            interaction=interaction,
            interaction_share=config.interaction_share,
            kg_mode=config.kg_mode,
            kg_gate=config.kg_gate,
        )
        for t in data.node_types:  # snapshot ids of each row (kept nodes only, after pruning)
            orig = data[t].orig_id if "orig_id" in data[t] else torch.arange(data[t].num_nodes)
            self.register_buffer(f"orig_{t}", orig, persistent=False)
        seen = torch.zeros(self.num_items, dtype=torch.bool)
        seen[data[interaction].edge_index[1]] = True
        self.register_buffer("item_seen", seen, persistent=False)
        self.modalities = self._register_modalities(data, modalities if fusion != "none" else ())
        dims = {m: getattr(self, f"x_{m}").shape[1] for m in self.modalities}
        self.early = EarlyFusion(dims, dim) if fusion in ("early", "hybrid") and dims else None
        gate = "attention" if fusion == "hybrid" else "weights"
        self.late = LateFusion(dims, dim, gate=gate) if fusion in ("late", "hybrid") and dims else None
        width = dim + sum(d + 1 for d in dims.values())
        self.new_items = NewItemMap(width, dim, new_item_ridge) if new_item_ridge > 0 else None

    def _register_modalities(self, data: HeteroData, modalities: Sequence[str]) -> list[str]:
        kept = []
        store = data[self.item_t]
        for m in modalities:
            if f"x_{m}" in store and bool(store[f"has_{m}"].any()):
                self.register_buffer(f"x_{m}", store[f"x_{m}"], persistent=False)
                self.register_buffer(f"has_{m}", store[f"has_{m}"], persistent=False)
                setattr(self, f"std_{m}", Standardise(store[f"x_{m}"], store[f"has_{m}"]))
                kept.append(m)
        return kept

    def _features(self, items: Tensor | None = None) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Standardised modality vectors (zero where missing) and masks, of all items or of ``items``."""
        x, has = {}, {}
        for m in self.modalities:
            raw, has[m] = getattr(self, f"x_{m}"), getattr(self, f"has_{m}")
            if items is not None:
                raw, has[m] = raw.index_select(0, items), has[m].index_select(0, items)
            x[m] = getattr(self, f"std_{m}")(raw) * has[m].unsqueeze(1)
        return x, has

    def embed(self, *, silent: Mapping[str, Tensor] | None = None) -> KGRecState:
        """One full pass: input features, propagation, late-fusion representations.

        Args:
            silent: Node type -> rows (of :meth:`node_vectors`) that send no message in any layer,
                as if their relationships were removed (faithfulness checks; default: none).
        """
        return self._embed(silent=silent)

    def input_vectors(self) -> dict[str, Tensor]:
        """Layer 0 of every node type with a learned embedding, by type (users' and items' own inputs,
        with their content fused in, are :class:`KGRecState`'s ``ego_user``/``ego_item``)."""
        return {t: e.weight for t, e in self.emb.items()}

    @property
    def linear_decoder(self) -> bool:
        """Whether scores are linear in the propagated vectors (no attention gate over the item's
        modalities): what exact masking effects computed outside the model need."""
        return self.late is None or self.late.gate == "weights"

    def edge_messages(self) -> EdgeMessages:
        """What every edge carries in one full pass (see :mod:`kgrec.learn.messages`)."""
        return self.embed_with_messages()[1]

    def embed_with_messages(self) -> tuple[KGRecState, EdgeMessages]:
        """:meth:`embed` without autograd and what every edge carried in that same pass: one pass where
        serving needs both (at 10M interactions a pass takes about a minute)."""
        inputs: list[Tensor] = []
        with torch.no_grad():
            state = self._embed(record=inputs)
            coef = self.prop.coefficients().cpu().numpy()
        sent = torch.stack(inputs).sum(0).cpu().numpy() if inputs else np.zeros((0, coef.shape[1]), np.float32)
        into = {t: _narrow(*self.prop.edges_into(t)) for t in self.prop.into}
        messages = EdgeMessages(self.prop.layers, dict(self.prop.offsets), sent, coef, into)  # type: ignore[arg-type]
        return state, messages

    def _embed(self, *, silent: Mapping[str, Tensor] | None = None, record: list[Tensor] | None = None) -> KGRecState:
        x = {t: e.weight for t, e in self.emb.items()}
        x.update({t: x[self.user_t].new_zeros(n, x[self.user_t].shape[1]) for t, n in self.relays.items()})
        feats, has = self._features()
        hidden = self._simulated_cold()
        seen = self.item_seen if hidden is None else self.item_seen & ~hidden
        x[self.item_t] = self._item_input(x[self.item_t], seen, feats, has)
        rows = None if silent is None else self.prop.stacked_rows(dict(silent))
        h = self.prop(x, hidden, silent=rows, record=record)
        state = self._state(h, x, feats, has)
        if self.new_items is not None and bool(self.new_items.fitted) and not self.training:
            new = self.new_items(self._new_item_inputs(h[self.item_t], feats, has))
            state = dataclasses.replace(state, new=new)
        return state

    def _new_item_inputs(self, item: Tensor, feats: dict[str, Tensor], has: dict[str, Tensor]) -> Tensor:
        """What a new item has: its vector without interaction edges, its modality vectors and their bits."""
        parts = [item]
        for m in self.modalities:
            parts += [feats[m], has[m].unsqueeze(1).to(item.dtype)]
        return torch.cat(parts, dim=1)

    @torch.no_grad()
    def fit_new_items(self, *, share: float = 0.1, passes: int = 40, seed: int = 0) -> int:
        """Fit the new-item map on the rated items; returns how many rated items it was fitted on.

        Each pass hides a random ``share`` of the rated items (no id, no interaction
        edges, as a new item); a rated item's input is the mean of its vectors in the
        passes that hid it, its target its vector in the full pass.
        """
        if self.new_items is None:
            raise ConfigError("new_item_ridge is 0: this model has no new-item map")
        was_training = self.training
        self.eval()
        feats, has = self._features()
        target = self._effective(self._pass(torch.zeros_like(self.item_seen), feats, has), feats, has)
        total = torch.zeros_like(target)
        count = torch.zeros(self.num_items, device=target.device)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        for _ in range(passes):
            hidden = (torch.rand(self.num_items, generator=gen) < share).to(self.item_seen.device) & self.item_seen
            vectors = self._pass(hidden, feats, has)
            total += vectors * hidden.unsqueeze(1)
            count += hidden.to(count.dtype)
        rows = count > 0
        inputs = self._new_item_inputs(total[rows] / count[rows].unsqueeze(1), *self._rows(feats, has, rows))
        self.new_items.fit(inputs, target[rows])
        self.train(was_training)
        return int(rows.sum())

    def _pass(self, hidden: Tensor, feats: dict[str, Tensor], has: dict[str, Tensor]) -> Tensor:
        """Item vectors of one propagation with ``hidden`` items as new (no id, no interaction edges)."""
        x = {t: e.weight for t, e in self.emb.items()}
        x.update({t: x[self.user_t].new_zeros(n, x[self.user_t].shape[1]) for t, n in self.relays.items()})
        x[self.item_t] = self._item_input(x[self.item_t], self.item_seen & ~hidden, feats, has)
        return self.prop(x, hidden)[self.item_t]

    def _effective(self, item: Tensor, feats: dict[str, Tensor], has: dict[str, Tensor]) -> Tensor:
        """``(I, dim)``: the one vector per item whose dot product with a user is the item's score.

        Fusion weights are per item (never per user), so ``sum_k w_k <u, v_k> = <u, sum_k w_k v_k>``.
        """
        if self.late is None:
            return item
        content = self.late.representations(feats)
        weights = self.late.weights(item, content, has)
        return (weights.unsqueeze(2) * torch.stack([item, *content], dim=1)).sum(1)

    @staticmethod
    def _rows(
        feats: dict[str, Tensor], has: dict[str, Tensor], rows: Tensor
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return {m: v[rows] for m, v in feats.items()}, {m: v[rows] for m, v in has.items()}

    def _simulated_cold(self) -> Tensor | None:
        """Rated items that this training pass treats as new (``cold_simulation``), or ``None``."""
        if not self.training or self.cold_simulation <= 0:
            return None
        draw = torch.rand(self.num_items, device=self.item_seen.device) < self.cold_simulation
        return draw & self.item_seen

    def embed_sampled(self, sub: Subgraph) -> KGRecState:
        """The state of a sampled subgraph's seeds: rows follow ``sub``'s seed order per type.

        Only the subgraph's nodes are gathered and propagated, so memory and time
        per step follow the sample, not the graph. With fan-outs that cover every
        neighbourhood the result equals :meth:`embed` at the seeds.
        """
        x = {t: e.weight.index_select(0, sub.nodes[t]) for t, e in self.emb.items()}
        x.update({t: x[self.user_t].new_zeros(len(sub.nodes[t]), x[self.user_t].shape[1]) for t in self.relays})
        items = sub.nodes[self.item_t]
        feats, has = self._features(items)
        x[self.item_t] = self._item_input(x[self.item_t], self.item_seen.index_select(0, items), feats, has)
        h = self.prop.forward_sampled(x, sub)
        n_users, n_items = sub.seeds[self.user_t], sub.seeds[self.item_t]
        x = {self.user_t: x[self.user_t][:n_users], self.item_t: x[self.item_t][:n_items]}
        feats = {m: v[:n_items] for m, v in feats.items()}
        return self._state(h, x, feats, {m: v[:n_items] for m, v in has.items()})

    def neighbour_sampler(self, fanouts: Sequence[int]) -> NeighbourSampler:
        """A sampler over this model's training graph, for :meth:`embed_sampled`.

        Raises:
            ConfigError: Not one fan-out per propagation layer, or cold-start simulation on (full-batch only).
        """
        if self.cold_simulation > 0:
            raise ConfigError("cold_simulation needs full-batch training (batching = 'full')")
        if len(fanouts) != self.prop.layers:
            raise ConfigError(f"fanouts {list(fanouts)}: need one per layer ({self.prop.layers} layers)")
        return NeighbourSampler(self._graph, fanouts, interaction=self._interaction)

    def _item_input(self, ids: Tensor, seen: Tensor, feats: dict[str, Tensor], has: dict[str, Tensor]) -> Tensor:
        """Items' input features: id embedding (dropped for cold items and by id dropout) + early fusion."""
        keep = seen
        if self.training and self.id_dropout > 0:
            keep = keep & (torch.rand(seen.numel(), device=keep.device) >= self.id_dropout)
        item0 = ids * keep.unsqueeze(1).to(ids.dtype)
        if self.early is not None:
            item0 = item0 + self.early(feats, has)
        return item0

    def _state(
        self, h: dict[str, Tensor], x: dict[str, Tensor], feats: dict[str, Tensor], has: dict[str, Tensor]
    ) -> KGRecState:
        user, item = h[self.user_t], h[self.item_t]
        content, weights = [], None
        if self.late is not None:
            content = self.late.representations(feats)
            weights = self.late.weights(item, content, has)
        return KGRecState(user, item, x[self.user_t], x[self.item_t], content, weights, h)

    def score_pairs(self, state: KGRecState, users: Tensor, items: Tensor) -> Tensor:
        u = state.user[users]
        sources = [state.item[items], *(z[items] for z in state.content)]
        scores = torch.stack([(u * v).sum(-1) for v in sources], dim=1)
        combined = _combine(scores, None if state.weights is None else state.weights[items])
        if state.new is None:
            return combined
        return torch.where(self.item_seen[items], combined, (u * state.new[items]).sum(-1))

    def score_users(self, state: KGRecState, users: Tensor) -> Tensor:
        u = state.user[users]
        if state.weights is None:  # the graph score alone: no content scores to make and drop
            combined = u @ state.item.T
        else:
            combined = _combine(torch.stack([u @ v.T for v in [state.item, *state.content]], dim=2), state.weights)
        if state.new is None:
            return combined
        return torch.where(self.item_seen.unsqueeze(0), combined, u @ state.new.T)

    def regularisation(self, state: KGRecState, users: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
        ego = state.ego_user[users].square().sum() + state.ego_item[pos].square().sum()
        ego = ego + state.ego_item[neg].square().sum()
        loss = self.reg_weight * ego / max(1, users.numel())
        return loss + self.kg_reg * self._kg_norm() if self.kg_reg else loss

    def _kg_norm(self) -> Tensor:
        """Mean squared row norm of every knowledge-graph embedding table, plus the relation vectors' drift from 1."""
        tables = [e.weight for t, e in self.emb.items() if t not in (self.user_t, self.item_t)]
        norm = sum((w.square().sum(1).mean() for w in tables), torch.zeros((), device=self.prop.rel_weight.device))
        return norm + (self.prop.rel_weight - 1).square().sum(1).mean()

    def node_ids(self, node_type: str) -> Tensor:
        """Snapshot ids of the rows of ``state.nodes[node_type]``."""
        return getattr(self, f"orig_{node_type}")

    def user_item_vectors(self, state: KGRecState) -> tuple[Tensor, Tensor]:
        """Final user and item (graph) vectors."""
        return state.user, state.item

    def node_vectors(self, state: KGRecState, *, users: str, items: str) -> dict[str, NodeVectors]:
        """Final vectors of every node type of the training graph (pruned leaves left out)."""
        return {t: NodeVectors(self.node_ids(t), v) for t, v in state.nodes.items()}

    def item_graph_vectors(self, state: KGRecState) -> tuple[Tensor, Tensor | None]:
        """Items' graph vectors and, with late or hybrid fusion, the weight of the graph score."""
        return state.item, None if state.weights is None else state.weights[:, 0]

    def score_vectors(self, state: KGRecState, users: Tensor) -> Tensor:
        """Scores of every item for users given by vector, through the same decoder (fusion, new items)."""
        state = dataclasses.replace(state, user=users)
        return self.score_users(state, torch.arange(len(users), device=users.device))

    def diagnostics(self) -> dict[str, object]:
        """Learned relation attention and fusion weights, for the training report."""
        out: dict[str, object] = {"relation_attention": self.prop.relation_attention()}
        if self.late is not None:
            names = ["graph", *self.late.modalities]
            out["fusion_logits"] = dict(zip(names, self.late.logits.tolist()))
        return out


def _combine(scores: Tensor, weights: Tensor | None) -> Tensor:
    """Weighted sum over the last axis of ``scores`` (the graph score alone without weights)."""
    if weights is None:
        return scores[..., 0]
    return (scores * weights).sum(-1)


def _narrow(ptr: Tensor, src: Tensor, weight: Tensor, relation: Tensor) -> tuple[np.ndarray, ...]:
    """An incoming-edge CSR as numpy, sources and relations as ``int32`` (half the memory of tens of
    millions of edges; they index, nothing is computed with them)."""
    narrow = np.int32 if src.numel() == 0 or int(src.max()) < 2**31 else np.int64
    sources, relations = src.cpu().numpy().astype(narrow), relation.cpu().numpy().astype(np.int32)
    return ptr.cpu().numpy(), sources, weight.cpu().numpy(), relations
