"""The contract every model variant fulfils, kgrec's GNN included: shapes, consistent scores, the
answer layer's vectors, and a save/load round trip through a bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from kgrec.errors import NotTrainedError
from kgrec.learn.bundle import load_bundle, save_bundle
from kgrec.learn.config import TrainConfig
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.recommender import Recommender
from tests.twotastes import NUM_ITEMS, NUM_USERS, toy_snapshot, toy_split

VARIANTS = {
    "pop": {"model": "pop"},
    "bprmf": {"model": "bprmf"},
    "lightgcn": {"model": "lightgcn"},
    "kgrec": {"model": "kgrec"},
    "kgrec-attention": {"model": "kgrec", "fusion": "none", "kg_mode": "attention", "kg_inputs": "learned"},
    "kgrec-hybrid": {"model": "kgrec", "fusion": "hybrid"},
}


def _built(name: str) -> tuple[Recommender, TrainConfig]:
    config = TrainConfig(**VARIANTS[name], dim=8, seed=4)
    snapshot, split = toy_snapshot(), toy_split()
    data = training_graph(snapshot, split, config) if config.model == "kgrec" else None
    model = build_model(config, split, data)
    with torch.no_grad():  # weights no fresh model of this seed has: the round trip must carry them
        gen = torch.Generator().manual_seed(99)
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    return model.eval(), config


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_shapes_and_consistent_scores(name: str) -> None:
    model, _ = _built(name)
    users, items = torch.tensor([0, 5, NUM_USERS - 1]), torch.tensor([1, 17, NUM_ITEMS - 1])
    with torch.no_grad():
        state = model.embed()
        full = model.score_users(state, users)
        assert full.shape == (3, NUM_ITEMS) and torch.isfinite(full).all()
        assert torch.allclose(model.score_pairs(state, users, items), full[torch.arange(3), items], atol=1e-5)
        assert model.regularisation(state, users, items, items).numel() == 1


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_vectors_the_answer_layer_reads(name: str) -> None:
    model, _ = _built(name)
    with torch.no_grad():
        state = model.embed()
        nodes = model.node_vectors(state, users="User", items="Item")
        if name == "pop":
            assert nodes == {}
            with pytest.raises(NotTrainedError):
                model.score_vectors(state, torch.zeros(1, 8))
            return
        assert nodes["User"].vectors.shape == (NUM_USERS, 8) and nodes["Item"].vectors.shape == (NUM_ITEMS, 8)
        assert nodes["User"].ids.tolist() == list(range(NUM_USERS))
        for node in nodes.values():
            assert len(node.ids) == len(node.vectors)
        # a known user's own vector, given as a vector, scores every item as the user does
        own = model.score_vectors(state, nodes["User"].vectors[[2, 20]])
        assert torch.allclose(own, model.score_users(state, torch.tensor([2, 20])), atol=1e-5)
        item, weight = model.item_graph_vectors(state)
        assert item.shape == (NUM_ITEMS, 8) and (weight is None) == (name != "kgrec-hybrid" and name != "kgrec")


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_save_and_load_round_trip(tmp_path: Path, name: str) -> None:
    model, config = _built(name)
    save_bundle(tmp_path / name, model, config, toy_split(), toy_snapshot(), {})
    loaded = load_bundle(tmp_path / name).model
    users = torch.arange(NUM_USERS)
    with torch.no_grad():
        assert torch.equal(loaded.score_users(loaded.embed(), users), model.score_users(model.embed(), users))
