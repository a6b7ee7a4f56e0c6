"""Build the model a :class:`~kgrec.learn.config.TrainConfig` names, on its training graph."""

from __future__ import annotations

import torch
from torch_geometric.data import HeteroData

from kgrec.errors import ConfigError
from kgrec.learn.bpr_mf import BPRMF
from kgrec.learn.config import TrainConfig
from kgrec.learn.data import interaction_type, to_hetero
from kgrec.learn.kgrec_model import KGRecModel
from kgrec.learn.lightgcn import LightGCN
from kgrec.learn.popularity import Popularity
from kgrec.learn.recommender import Recommender
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot


def training_graph(snapshot: GraphSnapshot, split: Split, config: TrainConfig) -> HeteroData:
    """The graph ``config`` trains on (knowledge graph and modalities as configured)."""
    modalities = config.modalities if config.fusion != "none" else []
    return to_hetero(
        snapshot,
        split,
        interaction=interaction_type(snapshot),
        kg=config.kg,
        drop=config.drop_relations,
        modalities=modalities,
    )


def build_model(config: TrainConfig, split: Split, data: HeteroData | None = None) -> Recommender:
    """A fresh, seeded model; ``data`` is required for ``kgrec``."""
    torch.manual_seed(config.seed)
    if config.model == "pop":
        return Popularity(split)
    if config.model == "bprmf":
        return BPRMF(split.num_users, split.num_items, dim=config.dim)
    if config.model == "lightgcn":
        return LightGCN(
            split.num_users,
            split.num_items,
            split.train,
            dim=config.dim,
            layers=config.layers,
            reg_weight=config.reg_weight,
        )
    if data is None:
        raise ConfigError("the kgrec model needs its training graph (kgrec.learn.factory.training_graph)")
    return KGRecModel(data, config)
