"""How the knowledge graph enters kgrec's GNN: attention share, gated residual, relay-only entities, regularisation."""

from __future__ import annotations

import pytest
import torch

from kgrec.learn.config import TrainConfig
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.kgrec_model import KGRecModel
from tests.learn.test_kgrec_model import _taste_precision, _trained
from tests.twotastes import COLD_ROWS as COLD
from tests.twotastes import toy_snapshot, toy_split


def _model(**overrides: object) -> KGRecModel:
    torch.set_num_threads(1)
    config = TrainConfig(**{"dim": 8, "fusion": "none", **overrides})
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config)).eval()
    assert isinstance(model, KGRecModel)
    return model


def _item_shares(model: KGRecModel) -> dict[str, float]:
    return model.prop.relation_attention()["Item"]


@pytest.mark.parametrize("share", [0.3, 0.8])
def test_attention_starts_with_the_configured_interaction_share(share: float) -> None:
    shares = _item_shares(_model(kg_mode="attention", kg_inputs="learned", interaction_share=share))
    assert shares["User-RATED"] == pytest.approx(share, abs=1e-4)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("gate", [0.05, 0.3])
def test_residual_keeps_the_interactions_whole_and_gives_the_graph_its_gate(gate: float) -> None:
    model = _model(kg_mode="residual", kg_gate=gate)
    shares = _item_shares(model)
    assert shares.pop("User-RATED") == 1.0
    assert sum(shares.values()) == pytest.approx(gate, abs=1e-6)
    assert "kg_gate" not in dict(model.named_parameters())  # a hyperparameter, not learned


def test_residual_knowledge_graph_vectors_cannot_outgrow_the_gate() -> None:
    model = _model(kg_mode="residual", kg_gate=0.2)
    with torch.no_grad():
        model.prop.rel_weight.fill_(5.0)  # as if training had inflated every relation vector
    rels = model.prop.into["Item"]
    coef = model.prop.coefficients_into("Item").detach()
    for row, i in zip(coef, rels):
        if i in model.prop.is_cf:
            assert torch.equal(row, torch.full_like(row, 5.0))  # the interactions' vector stays learned
        else:
            assert float(row.abs().max()) <= 0.2 + 1e-6


def test_a_zero_gate_leaves_users_and_items_as_without_the_graph() -> None:
    model = _model(kg_mode="residual", kg_gate=1e-9, kg_inputs="learned")
    before = model.embed()
    with torch.no_grad():
        model.emb["Entity"].weight.normal_(std=10.0)
        model.emb["Genre"].weight.normal_(std=10.0)
    after = model.embed()
    assert torch.allclose(before.item, after.item, atol=1e-6)
    assert torch.allclose(before.user, after.user, atol=1e-6)
    gated = _model(kg_mode="residual", kg_gate=0.3, kg_inputs="learned")
    before = gated.embed()
    with torch.no_grad():
        gated.emb["Entity"].weight.normal_(std=10.0)
    assert not torch.allclose(before.item, gated.embed().item, atol=1e-3)


def test_zero_inputs_give_the_graph_no_embeddings_of_its_own() -> None:
    model = _model(kg_inputs="zero")
    assert set(model.emb) == {"User", "Item"}
    state = model.embed()
    assert state.nodes["Entity"].shape == (2, 8)
    assert torch.count_nonzero(state.nodes["Entity"]) > 0  # entities relay their films' vectors


@pytest.mark.parametrize(
    "settings",
    [
        {"kg_mode": "attention", "kg_inputs": "zero"},
        {"kg_mode": "residual", "kg_gate": 0.3, "kg_inputs": "learned"},
        {"kg_mode": "residual", "kg_gate": 0.3, "kg_inputs": "zero"},
    ],
)
def test_graph_variants_still_rank_the_users_taste_and_the_cold_films(settings: dict) -> None:
    model, evaluator = _trained(fusion="none", **settings)
    assert _taste_precision(model) >= 0.95
    assert evaluator.evaluate(model, "cold")["cold_only/hit@1"] >= 0.85


def test_kg_reg_penalises_the_graphs_embeddings_and_relation_drift() -> None:
    plain, reg = _model(kg_inputs="learned"), _model(kg_inputs="learned", kg_reg=0.5)
    state = plain.embed()
    batch = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([4, COLD[0]])
    with torch.no_grad():
        for m in (plain, reg):
            m.prop.rel_weight.fill_(3.0)
    base = plain.regularisation(state, *batch)
    tables = sum(float(reg.emb[t].weight.square().sum(1).mean()) for t in ("Entity", "Genre"))
    drift = 4.0 * reg.prop.rel_weight.shape[1]  # (3 - 1)^2 per dimension
    assert float(reg.regularisation(state, *batch) - base) == pytest.approx(0.5 * (tables + drift), rel=1e-5)
