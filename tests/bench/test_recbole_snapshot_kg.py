"""kgrec's own knowledge graph (every non-user relationship of the snapshot) as RecBole .kg/.link files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.recbole.snapshot_kg import write_snapshot_kg
from kgrec.learn.run import split_of
from tests.twotastes import toy_snapshot


def test_every_item_side_relationship_is_exported_and_user_side_ones_are_not(tmp_path: Path) -> None:
    snap = toy_snapshot()
    friends = np.array([[0, 1], [1, 2]], dtype=np.int64)
    snap = replace(snap, edges={**snap.edges, ("User", "FRIEND_OF", "User"): friends})
    split = split_of(snap, seed=1)
    counts = write_snapshot_kg(snap, split, tmp_path, "toy")
    kg = (tmp_path / "toy.kg").read_text().splitlines()
    assert kg[0] == "head_id:token\trelation_id:token\ttail_id:token"
    # 32 items, each with one director and one genre; no RATED, no FRIEND_OF
    assert counts["kg"] == 64 and len(kg) == 65
    assert "Item:101\tItem.DIRECTED_BY.Entity\tEntity:dir:x" in kg
    assert "Item:132\tItem.IN_GENRE.Genre\tGenre:Y" in kg
    assert not any("User" in line for line in kg)
    links = (tmp_path / "toy.link").read_text().splitlines()
    assert links[0] == "item_id:token\tentity_id:token"
    # the link's item token is the .inter token (the original key), its entity the head token above
    assert links[1:3] == ["101\tItem:101", "102\tItem:102"] and counts["link"] == 32
