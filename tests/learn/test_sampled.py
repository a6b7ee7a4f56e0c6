"""Mini-batch training over neighbour-sampled subgraphs (``batching = "sampled"``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kgrec.errors import ConfigError
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.kgrec_model import KGRecModel
from kgrec.learn.neighbours import _floyd
from kgrec.learn.trainer import Trainer
from tests.learn.test_kgrec_model import FAST, _taste_precision
from tests.twotastes import COLD_ROWS as COLD
from tests.twotastes import toy_snapshot, toy_split

SEEDS = {"User": torch.tensor([3, 0, 20, 13]), "Item": torch.tensor([5, 31, 2, 17, COLD[0]])}


def _model(**overrides: object) -> KGRecModel:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = TrainConfig(**{"dim": 8, "fusion": "hybrid", "modalities": ["text"], **overrides})
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config)).eval()
    with torch.no_grad():  # relations must differ, or mixing them up would go unnoticed
        model.prop.rel_weight.normal_()
        model.prop.rel_logit.normal_()
    return model


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_fanouts_covering_every_neighbourhood_reproduce_the_full_batch_forward(layers: int) -> None:
    model = _model(layers=layers)
    with torch.no_grad():
        full = model.embed()
        sub = model.neighbour_sampler([1000] * layers).sample(SEEDS, np.random.default_rng(0))
        part = model.embed_sampled(sub)
    users, items = SEEDS["User"], SEEDS["Item"]
    assert torch.allclose(part.user, full.user[users], atol=1e-6)
    assert torch.allclose(part.item, full.item[items], atol=1e-6)
    assert torch.allclose(part.weights, full.weights[items], atol=1e-6)
    assert torch.allclose(part.content[0], full.content[0][items], atol=1e-6)
    pairs = torch.arange(4), torch.arange(4)
    assert torch.allclose(model.score_pairs(part, *pairs), model.score_pairs(full, users, items[:4]), atol=1e-6)


def test_a_batch_with_several_negatives_keeps_them_per_row_in_the_subgraph() -> None:
    model = _model()
    users, pos = torch.tensor([3, 0, 3]), torch.tensor([5, 31, 2])
    neg = torch.tensor([[17, 2, 30], [5, 5, 9], [31, 17, 1]])
    sub, u_rows, p_rows, n_rows = model.neighbour_sampler([1000, 1000]).around_triples(
        users, pos, neg, np.random.default_rng(0)
    )
    assert n_rows.shape == neg.shape
    items = sub.nodes["Item"]
    assert torch.equal(items[p_rows], pos) and torch.equal(items[n_rows], neg)
    assert torch.equal(sub.nodes["User"][u_rows], users)
    with torch.no_grad():
        full, part = model.embed(), model.embed_sampled(sub)
    expected = model.score_pairs(full, users.repeat_interleave(3), neg.reshape(-1))
    got = model.score_pairs(part, u_rows.repeat_interleave(3), n_rows.reshape(-1))
    assert torch.allclose(got, expected, atol=1e-6)


def test_small_fanouts_give_unbiased_estimates_of_the_full_forward() -> None:
    model = _model(layers=2, fusion="none")
    sampler = model.neighbour_sampler([1, 2])
    rng = np.random.default_rng(0)
    with torch.no_grad():
        full = model.embed()
        draws = [model.embed_sampled(sampler.sample(SEEDS, rng)) for _ in range(400)]
    for name, t in (("user", "User"), ("item", "Item")):
        exact = getattr(full, name)[SEEDS[t]]
        sampled = torch.stack([getattr(d, name) for d in draws])
        assert (sampled[0] - exact).norm() / exact.norm() > 0.2  # one draw is noisy...
        # ...but right on average: without the degree/fanout scaling this is 0.26 (items), 0.54 (users)
        assert (sampled.mean(0) - exact).norm() / exact.norm() < 0.08


def test_the_sampler_draws_distinct_neighbours_up_to_the_fanout() -> None:
    model = _model(layers=1)
    sub = model.neighbour_sampler([2]).sample(SEEDS, np.random.default_rng(1))
    block = sub.layers[0].blocks["Item"]
    adj = block.adj.to_dense()
    per_relation = [(adj[:, block.relation == r] != 0).sum(1) for r in block.relation.unique()]
    assert max(int(n.max()) for n in per_relation) == 2
    for t, ids in sub.nodes.items():
        assert ids.unique().numel() == ids.numel(), t
    for m in (block.adj, block.adj_t):  # valid CSR (built without torch's checks)
        torch.sparse_csr_tensor(m.crow_indices(), m.col_indices(), m.values(), m.shape, check_invariants=True)
    assert torch.equal(block.adj.to_dense().T, block.adj_t.to_dense())
    assert sub.seeds == {"Entity": 0, "Genre": 0, "Item": 5, "User": 4}


def test_floyd_draws_uniform_distinct_offsets() -> None:
    drawn = _floyd(np.full(20_000, 5), 2, np.random.default_rng(0))
    assert (drawn[:, 0] != drawn[:, 1]).all() and drawn.min() == 0 and drawn.max() == 4
    share = np.bincount(drawn.ravel(), minlength=5) / drawn.shape[0]
    assert np.allclose(share, 2 / 5, atol=0.02)


def test_sampled_training_learns_the_tastes_and_the_cold_films() -> None:
    torch.set_num_threads(1)
    config = TrainConfig(**FAST, fusion="none", batching="sampled", fanouts=[3, 3])
    snapshot, split = toy_snapshot(), toy_split()
    model = build_model(config, split, training_graph(snapshot, split, config))
    Trainer(model, split, config).fit()
    assert _taste_precision(model) >= 0.95
    cold = Evaluator(split, ks=(1, 5)).evaluate(model, "cold")
    assert cold["cold_only/hit@1"] >= 0.85, cold  # which of the two cold films comes first: 0.5 by chance


def test_sampled_training_is_reproducible() -> None:
    config = TrainConfig(**{**FAST, "epochs": 2}, batching="sampled", fanouts=[2, 2])
    snapshot, split = toy_snapshot(), toy_split()
    runs = []
    for _ in range(2):
        model = build_model(config, split, training_graph(snapshot, split, config))
        runs.append(Trainer(model, split, config).fit())
    assert [e.loss for e in runs[0].history] == [e.loss for e in runs[1].history]


def test_bad_sampled_settings_are_config_errors() -> None:
    split = toy_split()
    with pytest.raises(ConfigError, match="one per layer"):
        _model(layers=2).neighbour_sampler([5])
    config = TrainConfig(model="bprmf", batching="sampled")
    with pytest.raises(ConfigError, match="sampled path"):
        Trainer(build_model(config, split), split, config)
    with pytest.raises(ValueError, match="distinct"):
        _model(layers=1).neighbour_sampler([2]).sample({"User": torch.tensor([1, 1])}, np.random.default_rng(0))
