"""GraphSnapshot without a server: save/load round trip, id maps, schema fingerprint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.errors import ConfigError
from kgrec.snapshot import GraphSnapshot, column

TEXT = ["日本語 · émoji 🎬 \u202e", None, "", "a\x00b\x00", 'O\'Brien "q"']


def _snapshot() -> GraphSnapshot:
    return GraphSnapshot(
        node_keys={
            "User": np.array([1, 2, 3], dtype=np.int64),
            "Item": np.array([10, 20, 30, 40, 50], dtype=np.int64),
            "Entity": column(["http://e/a", "http://e/é", "http://e/z"]),
        },
        edges={
            ("User", "RATED", "Item"): np.array([[0, 0, 2], [1, 4, 0]], dtype=np.int64),
            ("Item", "DIRECTED_BY", "Entity"): np.array([[0, 3], [2, 1]], dtype=np.int64),
        },
        node_props={"Item": {"title": column(TEXT), "year": column([1999, None, 2001, 2002, 2003])}},
        edge_props={
            ("User", "RATED", "Item"): {
                "rating": np.array([4.5, np.nan, 1.0]),
                "timestamp": np.array([1, 2, 3], dtype=np.int64),
            }
        },
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    snap = _snapshot()
    path = snap.save(tmp_path / "snap.npz")
    back = GraphSnapshot.load(path)
    assert back == snap
    assert back.node_props["Item"]["title"].tolist() == TEXT
    assert back.node_keys["Entity"].tolist() == ["http://e/a", "http://e/é", "http://e/z"]
    assert back.node_props["Item"]["year"].dtype == np.float64
    assert back.edge_props[("User", "RATED", "Item")]["timestamp"].dtype == np.int64
    assert back.schema_fingerprint() == snap.schema_fingerprint()


def test_lists_of_text_are_accepted_as_props(tmp_path: Path) -> None:
    snap = GraphSnapshot({"Genre": column(["a", "b"])}, {}, {"Genre": {"label": ["Ä", None]}})  # type: ignore[dict-item]
    back = GraphSnapshot.load(snap.save(tmp_path / "s.npz"))
    assert back.node_props["Genre"]["label"].tolist() == ["Ä", None]


def test_id_maps() -> None:
    snap = _snapshot()
    assert snap.num_nodes("Item") == 5 and snap.num_nodes("Entity") == 3
    assert [snap.id_of("Item", k) for k in (10, 30, 50)] == [0, 2, 4]
    assert snap.id_of("Entity", "http://e/é") == 1
    assert snap.key_of("Item", 3) == 40 and type(snap.key_of("Item", 3)) is int
    assert snap.key_of("Entity", 2) == "http://e/z"
    for bad in (("Item", 15), ("Item", 99), ("Entity", "nope"), ("Item", "10")):
        with pytest.raises(KeyError):
            snap.id_of(*bad)


def test_fingerprint_follows_the_schema_only() -> None:
    snap = _snapshot()
    same = GraphSnapshot(dict(reversed(snap.node_keys.items())), dict(reversed(snap.edges.items())))
    assert same.schema_fingerprint() == snap.schema_fingerprint()
    more = dict(snap.edges)
    more[("User", "LIKES", "Entity")] = np.zeros((2, 0), dtype=np.int64)
    assert GraphSnapshot(snap.node_keys, more).schema_fingerprint() != snap.schema_fingerprint()


def test_not_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, manifest=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(ConfigError, match="not a kgrec snapshot"):
        GraphSnapshot.load(path)


def test_column_rejects_mixed_values() -> None:
    with pytest.raises(ValueError, match="mixed"):
        column([1, "a"])


def test_a_missing_or_foreign_snapshot_is_one_kgrec_error(tmp_path: Path) -> None:
    from kgrec.errors import DataNotFoundError, KgrecError

    with pytest.raises(DataNotFoundError, match="no such snapshot"):
        GraphSnapshot.load(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("not an archive", encoding="utf-8")
    np.savez(tmp_path / "other.npz", manifest=np.frombuffer(b'{"format": "x"}', dtype=np.uint8))
    for name in ("text.npz", "other.npz"):
        with pytest.raises(ConfigError, match="not a kgrec snapshot") as caught:
            GraphSnapshot.load(tmp_path / name)
        assert isinstance(caught.value, KgrecError) and "\n" not in str(caught.value)
