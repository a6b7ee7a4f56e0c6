"""Cold-start simulation: rated items propagated, for one training pass, as if never rated."""

from __future__ import annotations

import pytest
import torch

from kgrec.errors import ConfigError
from kgrec.learn.config import TrainConfig
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.kgrec_model import KGRecModel
from tests.learn.test_kgrec_model import _trained
from tests.twotastes import COLD_ROWS as COLD
from tests.twotastes import NUM_ITEMS, NUM_USERS, taste, toy_snapshot, toy_split, user_taste


def _model(**overrides: object) -> KGRecModel:
    torch.set_num_threads(1)
    config = TrainConfig(**{"dim": 8, "fusion": "none", "kg_inputs": "learned", **overrides})
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config)).eval()
    assert isinstance(model, KGRecModel)
    return model


def test_hidden_items_are_propagated_exactly_as_never_rated_items() -> None:
    """A hidden item hears nothing from users and tells them nothing: as if its ratings were gone."""
    model = _model()
    prop, hood = model.prop, model._graph
    x = {t: e.weight.detach() for t, e in model.emb.items()}
    hidden = torch.zeros(model.num_items, dtype=torch.bool)
    item = int(hood["User", "RATED", "Item"].edge_index[1, 0])
    hidden[item] = True
    got = prop(x, hidden)
    # the same graph with that item's interaction edges really removed, normalisation kept
    for t in prop.into:
        for name in (f"adj_{t}", f"adjT_{t}"):
            adj = getattr(prop, name)
            items = getattr(prop, name.replace("adj", "cfitem"))
            values = torch.where(items == item, torch.zeros_like(adj.values()), adj.values())
            setattr(prop, name, torch.sparse_csr_tensor(adj.crow_indices(), adj.col_indices(), values, adj.shape))
    want = prop(x)
    for t in got:
        assert torch.allclose(got[t], want[t], atol=1e-6)
    # and the hidden item's own vector no longer depends on any user's embedding
    users = {**x, "User": x["User"] * 0 + 5.0}
    assert torch.allclose(prop(users, hidden)["Item"][item], got["Item"][item], atol=1e-6)


def test_nothing_hidden_changes_nothing() -> None:
    model = _model()
    x = {t: e.weight.detach() for t, e in model.emb.items()}
    none = torch.zeros(model.num_items, dtype=torch.bool)
    plain, masked = model.prop(x), model.prop(x, none)
    for t in plain:
        assert torch.allclose(plain[t], masked[t], atol=1e-6)


def test_every_interaction_edge_knows_its_item() -> None:
    """Each stored interaction weight is tagged with the item at its end; knowledge edges with -1."""
    model = _model()
    prop = model.prop
    tagged = sum(int((getattr(prop, f"cfitem_{t}") >= 0).sum()) for t in prop.into)
    edges = model._graph["User", "RATED", "Item"].edge_index.shape[1]
    assert tagged == 2 * edges  # RATED into items and rev_RATED into users
    assert all(
        int((getattr(prop, f"cfitem_{t}") >= 0).sum()) == int((getattr(prop, f"cfitemT_{t}") >= 0).sum())
        for t in prop.into
    )


def test_simulation_only_while_training() -> None:
    model = _model(cold_simulation=0.5)
    assert model._simulated_cold() is None  # eval mode
    model.train()
    drawn = model._simulated_cold()
    assert drawn is not None and bool(drawn.any())
    assert not bool(drawn[list(COLD)].any())  # only rated items are simulated


def test_cold_simulation_trains_and_ranks_the_cold_films() -> None:
    model, evaluator = _trained(fusion="late", modalities=["text"], cold_simulation=0.2)
    assert evaluator.evaluate(model, "cold")["cold_only/hit@1"] >= 0.85


def test_cold_simulation_refuses_sampled_training() -> None:
    with pytest.raises(ConfigError, match="full-batch"):
        _model(cold_simulation=0.1).neighbour_sampler([2, 2])


def _cold_above_other_taste(model: KGRecModel) -> float:
    """Share of users whose cold film of their taste outscores every film of the other taste."""
    with torch.no_grad():
        scores = model.score_users(model.embed(), torch.arange(NUM_USERS))
    wins = []
    for u in range(NUM_USERS):
        mine = user_taste(u)
        others = [i for i in range(NUM_ITEMS) if taste(i) != mine]
        wins.append(float(scores[u, COLD[mine]] > scores[u, others].max()))
    return sum(wins) / len(wins)


def test_simulated_cold_films_are_scored_on_the_warm_films_scale() -> None:
    """Ranked among all films, a new film of the user's taste beats the films of the other taste."""
    model, _ = _trained(fusion="late", modalities=["text"], cold_simulation=0.2)
    assert _cold_above_other_taste(model) >= 0.9
