"""Snapshot -> HeteroData: only training interactions, reverse edges, features, pruning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kgrec.errors import ConfigError
from kgrec.learn.config import load_config
from kgrec.learn.data import coverage, to_hetero
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot
from tests.twotastes import NUM_ITEMS, toy_snapshot, toy_split


def test_the_interaction_edges_are_the_training_split_only() -> None:
    split = toy_split()
    data = to_hetero(toy_snapshot(), split)
    assert torch.equal(data["User", "RATED", "Item"].edge_index, torch.from_numpy(split.train))
    assert torch.equal(data["Item", "rev_RATED", "User"].edge_index, torch.from_numpy(split.train[::-1].copy()))


def test_every_relationship_gets_a_reverse_edge_type() -> None:
    data = to_hetero(toy_snapshot(), toy_split())
    forward = {et for et in data.edge_types if not et[1].startswith("rev_")}
    assert {(d, "rev_" + r, s) for s, r, d in forward} == {et for et in data.edge_types if et[1].startswith("rev_")}
    assert data["Entity"].num_nodes == 2 and data["Genre"].num_nodes == 2


def test_without_kg_only_users_items_and_interactions_remain() -> None:
    data = to_hetero(toy_snapshot(), toy_split(), kg=False)
    assert set(data.node_types) == {"User", "Item"}
    assert {et[1] for et in data.edge_types} == {"RATED", "rev_RATED"}


def test_dropped_relations_leave_the_training_graph_and_their_only_nodes_with_them() -> None:
    data = to_hetero(toy_snapshot(), toy_split(), drop=["DIRECTED_*"])
    assert {et[1] for et in data.edge_types} == {"RATED", "rev_RATED", "IN_GENRE", "rev_IN_GENRE"}
    assert "Entity" not in data.node_types or data["Entity"].num_nodes == 0
    assert data["Genre"].num_nodes == 2


@pytest.mark.parametrize(
    ("drop", "reason"), [(["WROTE"], "matches no relationship type"), (["RAT*"], "would drop the interaction RATED")]
)
def test_a_drop_naming_nothing_or_the_interaction_is_refused(drop: list[str], reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        to_hetero(toy_snapshot(), toy_split(), drop=drop)


def test_drop_relations_changes_the_fingerprint_only_when_given() -> None:
    plain = load_config(None, {})
    assert load_config(None, {"drop_relations": []}).fingerprint() == plain.fingerprint()
    assert load_config(None, {"drop_relations": ["HAS_TAG"]}).fingerprint() != plain.fingerprint()


def test_features_keep_missing_items_masked() -> None:
    data = to_hetero(toy_snapshot(text_for={0, 3}), toy_split(), modalities=["text", "image"])
    assert data["Item"].has_text.tolist() == [i in (0, 3) for i in range(NUM_ITEMS)]
    assert torch.all(data["Item"].x_text[1] == 0)
    assert [(c.modality, c.present, c.total) for c in coverage(data, ["text", "image"])] == [
        ("text", 2, NUM_ITEMS),
        ("image", 0, NUM_ITEMS),
    ]


def test_leaf_entities_are_pruned_and_renumbered() -> None:
    snap = toy_snapshot()
    keys = dict(snap.node_keys, Entity=np.array(["a:leaf", "dir:x", "dir:y"], dtype=object))
    directed = snap.edges[("Item", "DIRECTED_BY", "Entity")].copy()
    directed[1] += 1
    leaf = np.array([[0], [0]])  # item 0 -> a:leaf, its only relationship
    edges = dict(snap.edges)
    edges[("Item", "DIRECTED_BY", "Entity")] = np.concatenate([leaf, directed], axis=1)
    data = to_hetero(GraphSnapshot(keys, edges, snap.node_props), toy_split())
    assert data["Entity"].num_nodes == 2
    assert data["Entity"].orig_id.tolist() == [1, 2]
    assert data["Item", "DIRECTED_BY", "Entity"].edge_index.shape[1] == NUM_ITEMS
    kept_all = to_hetero(GraphSnapshot(keys, edges, snap.node_props), toy_split(), min_degree=1)
    assert kept_all["Entity"].num_nodes == 3


def test_a_split_of_other_users_is_refused() -> None:
    split = toy_split()
    other = Split(
        split.user_keys + 1000,
        split.item_keys,
        split.train,
        split.valid,
        split.test,
        split.cold_items,
        split.cold_test,
        split.seed,
    )
    with pytest.raises(ConfigError, match="User ids do not match"):
        to_hetero(toy_snapshot(), other)


def test_config_overrides_are_typed_and_checked() -> None:
    config = load_config(None, ["fusion=late", "lr=1e-3", 'modalities=["text"]', "kg=false"])
    assert (config.fusion, config.lr, config.modalities, config.kg) == ("late", 1e-3, ["text"], False)
    with pytest.raises(ConfigError, match="fusion"):
        load_config(None, ["fusion=sideways"])
    with pytest.raises(ConfigError, match="colour"):
        load_config(None, ["colour=red"])
    with pytest.raises(ConfigError, match="key=value"):
        load_config(None, ["lr"])
