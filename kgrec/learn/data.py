"""From the plain hand-off to torch: a :class:`~torch_geometric.data.HeteroData` for training.

:func:`to_hetero` turns a :class:`~kgrec.snapshot.GraphSnapshot` and a
:class:`~kgrec.learn.split.Split` into the graph a model trains on:

* every node type of the snapshot, with ``num_nodes`` (node ids are the
  snapshot's, so they are deterministic);
* every relationship type, plus a reverse edge type ``rev_<TYPE>`` for each;
* the interaction relationship (the schema's; ``data.interaction`` names it) holds the
  **training interactions only**: validation, test and cold-start interactions
  never reach the model's graph;
* item modality features ``x_<modality>`` (``float32``, zeros where missing) and
  availability masks ``has_<modality>``, read from the snapshot's
  ``feat_<modality>`` vector columns. A modality the snapshot lacks is simply
  absent (all masks false): it never fails training.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import HeteroData

from kgrec.errors import ConfigError
from kgrec.learn.split import Split
from kgrec.modalities import feature_property
from kgrec.schema import recorded_schema
from kgrec.snapshot import GraphSnapshot
from kgrec.types import EdgeType

log = logging.getLogger(__name__)

REVERSE_PREFIX = "rev_"


@dataclass(frozen=True, slots=True)
class Coverage:
    """How many items carry one modality."""

    modality: str
    present: int
    total: int
    dim: int

    @property
    def share(self) -> float:
        """Share of items with the modality (0 when there are no items)."""
        return self.present / self.total if self.total else 0.0


def interaction_type(snapshot: GraphSnapshot) -> EdgeType:
    """The interaction edge type the snapshot's schema declares (:func:`kgrec.schema.recorded_schema`)."""
    return recorded_schema(snapshot.schema).edge_type()


def interactions_of(snapshot: GraphSnapshot, etype: EdgeType | None = None) -> np.ndarray:
    """The ``(2, E)`` user/item id pairs that count as positives.

    Every interaction is a positive unless the schema declares a ``min_weight``: then
    interactions whose weight is below it (or missing) are left out.

    Args:
        snapshot: The exported graph.
        etype: The interaction edge type (default: :func:`interaction_type`).

    Raises:
        ConfigError: The snapshot has no such relationship, or no positive is left.
    """
    schema = recorded_schema(snapshot.schema)
    etype = etype or schema.edge_type()
    if etype not in snapshot.edges:
        known = ", ".join("-".join(t) for t in sorted(snapshot.edges)) or "none"
        raise ConfigError(f"the graph has no {'-'.join(etype)} interactions (edge types: {known})")
    pairs = np.asarray(snapshot.edges[etype], dtype=np.int64)
    decl = schema.interaction
    if decl.min_weight is None or decl.weight is None:
        return pairs
    weight = snapshot.edge_props.get(etype, {}).get(decl.weight)
    if weight is None:
        raise ConfigError(f"{etype[1]}.{decl.weight}: the declared weight was not exported")
    kept = pairs[:, np.asarray(weight, dtype=np.float64) >= decl.min_weight]
    if not kept.shape[1]:
        raise ConfigError(f"no {etype[1]} interaction has {decl.weight} >= {decl.min_weight:g} (min_weight)")
    return kept


def to_hetero(
    snapshot: GraphSnapshot,
    split: Split,
    *,
    interaction: EdgeType | None = None,
    kg: bool = True,
    drop: Sequence[str] = (),
    modalities: Sequence[str] = (),
    min_degree: int = 2,
) -> HeteroData:
    """Build the training graph.

    Args:
        snapshot: The exported graph.
        split: The split whose ``train`` interactions replace the snapshot's.
        interaction: The interaction edge type (default: the snapshot's, :func:`interaction_type`).
        kg: Keep the knowledge-graph relationships (default: ``True``); without
            them the graph holds users, items and training interactions only.
        drop: Relationship types (names or shell patterns) left out; each must match a
            knowledge relationship type of the snapshot.
        modalities: Item modalities to attach, e.g. ``("text", "image")``.
        min_degree: Knowledge-graph nodes (neither users nor items) with fewer
            relationships are left out (default: ``2``): a leaf such as an actor
            seen in one film links nothing and only adds parameters. Kept nodes
            of those types are renumbered; ``data[t].orig_id`` holds their
            snapshot ids.

    Raises:
        ConfigError: The split was made over other users or items than the snapshot's, or a
            ``drop`` entry matches no knowledge relationship type.
    """
    interaction = interaction or interaction_type(snapshot)
    user_t, _, item_t = interaction
    _check_keys(snapshot, split, user_t, item_t)
    data = HeteroData()
    edges = {interaction: np.asarray(split.train, dtype=np.int64)}
    if kg:
        dropped = dropped_types(snapshot, interaction, drop)
        edges.update({e: idx for e, idx in snapshot.edges.items() if e != interaction and e[1] not in dropped})
    types = set(snapshot.node_keys) if kg else {user_t, item_t}
    kept = _kept_nodes(snapshot, edges, types - {user_t, item_t}, min_degree)
    edges = _renumbered(edges, kept)
    for t in sorted(types):
        data[t].num_nodes = len(kept[t]) if t in kept else snapshot.num_nodes(t)
        if t in kept:
            data[t].orig_id = torch.from_numpy(kept[t])
    for (s, r, d), idx in sorted(edges.items()):
        index = torch.as_tensor(np.asarray(idx, dtype=np.int64))
        data[s, r, d].edge_index = index
        data[d, REVERSE_PREFIX + r, s].edge_index = index.flip(0)
    for m in modalities:
        _attach_modality(data, snapshot, item_t, m)
    data.interaction = interaction
    return data


def dropped_types(snapshot: GraphSnapshot, interaction: EdgeType, drop: Sequence[str]) -> set[str]:
    """The relationship types ``drop`` names (exact names or shell patterns such as ``"FILM_*"``).

    Raises:
        ConfigError: An entry matches no relationship type other than the interaction.
    """
    types = sorted({r for (_, r, _) in snapshot.edges if r != interaction[1]})
    out: set[str] = set()
    for pattern in drop:
        if fnmatch.fnmatchcase(interaction[1], pattern):
            raise ConfigError(f"drop_relations: {pattern!r} would drop the interaction {interaction[1]}")
        found = fnmatch.filter(types, pattern)
        if not found:
            known = ", ".join(types)
            raise ConfigError(f"drop_relations: {pattern!r} matches no relationship type; the graph has: {known}")
        out.update(found)
    return out


def coverage(data: HeteroData, modalities: Sequence[str], item_type: str = "Item") -> list[Coverage]:
    """Per-modality coverage of the items in ``data``."""
    out = []
    for m in modalities:
        store = data[item_type]
        mask = store[f"has_{m}"] if f"has_{m}" in store else torch.zeros(store.num_nodes, dtype=torch.bool)
        dim = int(store[f"x_{m}"].shape[1]) if f"x_{m}" in store else 0
        out.append(Coverage(m, int(mask.sum()), int(store.num_nodes), dim))
    return out


def _kept_nodes(
    snapshot: GraphSnapshot, edges: dict[EdgeType, np.ndarray], types: set[str], min_degree: int
) -> dict[str, np.ndarray]:
    """Sorted snapshot ids of the nodes of ``types`` with at least ``min_degree`` relationships."""
    degree = {t: np.zeros(snapshot.num_nodes(t), dtype=np.int64) for t in types}
    for (s, _, d), idx in edges.items():
        for t, ids in ((s, idx[0]), (d, idx[1])):
            if t in degree:
                degree[t] += np.bincount(ids, minlength=len(degree[t]))
    return {t: np.flatnonzero(deg >= min_degree) for t, deg in degree.items()}


def _renumbered(edges: dict[EdgeType, np.ndarray], kept: dict[str, np.ndarray]) -> dict[EdgeType, np.ndarray]:
    """Edges between kept nodes only, with the kept nodes' new ids."""
    out = {}
    for (s, r, d), idx in edges.items():
        idx = np.asarray(idx, dtype=np.int64)
        ok = np.ones(idx.shape[1], dtype=bool)
        cols = []
        for row, t in ((0, s), (1, d)):
            if t in kept:
                pos = np.searchsorted(kept[t], idx[row]).clip(max=max(len(kept[t]) - 1, 0))
                ok &= (kept[t][pos] == idx[row]) if len(kept[t]) else False
                cols.append(pos)
            else:
                cols.append(idx[row])
        if ok.any():
            out[(s, r, d)] = np.stack(cols)[:, ok]
    return out


def _check_keys(snapshot: GraphSnapshot, split: Split, user_t: str, item_t: str) -> None:
    for t, keys in ((user_t, split.user_keys), (item_t, split.item_keys)):
        if t not in snapshot.node_keys or not np.array_equal(snapshot.node_keys[t], keys):
            raise ConfigError(f"the split's {t} ids do not match the graph's: make the split from this snapshot")


def _attach_modality(data: HeteroData, snapshot: GraphSnapshot, item_t: str, modality: str) -> None:
    column = snapshot.node_props.get(item_t, {}).get(feature_property(modality))
    n = snapshot.num_nodes(item_t)
    if column is None or np.asarray(column).ndim != 2:
        log.warning("no %s features in the graph: every item lacks that modality", modality)
        data[item_t][f"has_{modality}"] = torch.zeros(n, dtype=torch.bool)
        return
    values = np.asarray(column, dtype=np.float32)
    present = ~np.isnan(values).any(axis=1)
    values = np.where(present[:, None], values, 0.0).astype(np.float32)
    data[item_t][f"x_{modality}"] = torch.from_numpy(values)
    data[item_t][f"has_{modality}"] = torch.from_numpy(present)
