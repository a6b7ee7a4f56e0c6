"""The RecBole-style split: rounding, determinism, disjointness, cold items, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.errors import ConfigError
from kgrec.learn.split import Split, make_split, split_counts


def _interactions(seed: int = 0, users: int = 40, items: int = 60, per_user: tuple[int, int] = (1, 30)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        n = rng.integers(per_user[0], per_user[1] + 1)
        rows += [(u, int(i)) for i in rng.choice(items, size=n, replace=False)]
    return np.array(rows, dtype=np.int64).T


def _make(cold: float = 0.0, seed: int = 2020, **kw) -> Split:
    inter = _interactions(**kw)
    return make_split(np.arange(40), np.arange(60), inter, cold_item_share=cold, seed=seed)


def _pairs(a: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, a.T.tolist()))


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (1, (1, 0, 0)),  # int(0.1) = 0 twice; first part keeps 1 and may not give any away
        (2, (1, 0, 1)),  # test gets one (0 < 0.2 < 1), then train is down to 1 and stops
        (3, (1, 1, 1)),  # test then valid each get one (0.3 in (0, 1))
        (9, (7, 1, 1)),  # int(0.9) = 0 -> bumped to 1 each
        (10, (8, 1, 1)),  # int(1.0) = 1 each, no bump
        (11, (9, 1, 1)),  # int(1.1) = 1 each
        (25, (21, 2, 2)),  # int(2.5) = 2 each
    ],
)
def test_recbole_rounding(total: int, expected: tuple[int, int, int]) -> None:
    assert split_counts(total, (0.8, 0.1, 0.1)) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 9, 10, 11])
def test_per_user_sizes_follow_the_rounding(n: int) -> None:
    inter = np.array([[0] * n, list(range(n))])
    split = make_split(np.arange(1), np.arange(n), inter, seed=1)
    sizes = (split.train.shape[1], split.valid.shape[1], split.test.shape[1])
    assert sizes == split_counts(n, (0.8, 0.1, 0.1))


def test_every_interaction_lands_exactly_once() -> None:
    inter = _interactions()
    doubled = np.concatenate([inter, inter[:, :25]], axis=1)  # duplicates collapse
    split = make_split(np.arange(40), np.arange(60), doubled, cold_item_share=0.1)
    parts = [split.train, split.valid, split.test, split.cold_test]
    assert sum(p.shape[1] for p in parts) == len(_pairs(inter))
    assert set().union(*map(_pairs, parts)) == _pairs(inter)
    for p in parts:
        assert p.dtype == np.int64 and p.shape[0] == 2
        assert np.array_equal(np.lexsort((p[1], p[0])), np.arange(p.shape[1])), "sorted by (user, item)"


def test_ratios_per_user() -> None:
    split = _make(per_user=(20, 30))
    for u in range(40):
        sizes = [int((p[0] == u).sum()) for p in (split.train, split.valid, split.test)]
        assert tuple(sizes) == split_counts(sum(sizes), (0.8, 0.1, 0.1))


def test_cold_items_are_held_out_entirely() -> None:
    split = _make(cold=0.1)
    interacted = np.unique(_interactions()[1])
    assert len(split.cold_items) == round(0.1 * len(interacted))
    assert np.isin(split.cold_items, interacted).all()
    for p in (split.train, split.valid, split.test):
        assert not np.isin(p[1], split.cold_items).any()
    assert np.isin(split.cold_test[1], split.cold_items).all()
    assert set(split.cold_test[1].tolist()) == set(split.cold_items.tolist())


def test_no_cold_hold_out_by_default() -> None:
    split = _make()
    assert split.cold_items.shape == (0,) and split.cold_test.shape == (2, 0)


def test_deterministic_for_a_seed_and_different_for_another() -> None:
    a, b, c = _make(cold=0.1), _make(cold=0.1), _make(cold=0.1, seed=7)
    for name in ("train", "valid", "test", "cold_items", "cold_test"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.fingerprint() == b.fingerprint() and a == b
    assert a.fingerprint() != c.fingerprint() and not np.array_equal(a.test, c.test)


def test_round_trip_with_int_keys(tmp_path: Path) -> None:
    split = _make(cold=0.1)
    loaded = Split.load(split.save(tmp_path / "split.npz"))
    assert loaded == split and loaded.fingerprint() == split.fingerprint()
    assert loaded.user_keys.dtype == np.int64 and loaded.seed == 2020
    assert (loaded.num_users, loaded.num_items) == (40, 60)
    assert not (tmp_path / "split.npz.tmp").exists()


def test_round_trip_with_str_keys(tmp_path: Path) -> None:
    users = np.array(["u:ä", "u:b", "u:c"], dtype=object)
    items = np.array(["tt001", "tt002", "tt0000003"], dtype=object)
    inter = np.array([[0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 0, 2]])
    split = make_split(users, items, inter)
    loaded = Split.load(split.save(tmp_path / "s.npz"))
    assert loaded.fingerprint() == split.fingerprint()
    assert loaded.item_keys.dtype == object and list(loaded.item_keys) == list(items)
    assert list(loaded.user_keys) == list(users)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as npz:
        assert npz["user_keys"].dtype.kind == "U"


def test_fingerprint_sees_keys_and_seed() -> None:
    inter = np.array([[0, 1], [1, 0]])
    a = make_split(np.arange(2), np.arange(2), inter, seed=1)
    b = make_split(np.arange(2) + 10, np.arange(2), inter, seed=1)
    c = make_split(np.arange(2), np.arange(2), inter, seed=2)
    assert len({a.fingerprint(), b.fingerprint(), c.fingerprint()}) == 3


def test_load_rejects_other_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "x.npz", a=np.zeros(2))
    with pytest.raises(ConfigError, match="not a kgrec split"):
        Split.load(tmp_path / "x.npz")


@pytest.mark.parametrize("kw", [{"ratios": (0.8, 0.2)}, {"ratios": (0.8, -0.1, 0.3)}, {"cold_item_share": 1.0}])
def test_bad_options(kw: dict) -> None:
    with pytest.raises(ConfigError):
        make_split(np.arange(2), np.arange(2), np.array([[0], [1]]), **kw)


def test_ids_out_of_range() -> None:
    with pytest.raises(ConfigError, match="out of range"):
        make_split(np.arange(2), np.arange(2), np.array([[0], [2]]))


@pytest.mark.realdata
def test_movielens_100k_split_sizes(data_dir: Path) -> None:
    raw = np.loadtxt(data_dir / "movielens-100k" / "u.data", dtype=np.int64)
    users, u = np.unique(raw[:, 0], return_inverse=True)
    items, i = np.unique(raw[:, 1], return_inverse=True)
    split = make_split(users, items, np.stack([u, i]))
    assert (split.num_users, split.num_items) == (943, 1682)
    sizes = [split.train.shape[1], split.valid.shape[1], split.test.shape[1]]
    assert sum(sizes) == 100_000
    assert 0.79 < sizes[0] / 100_000 < 0.81 and 0.09 < sizes[2] / 100_000 < 0.11
    assert len(np.unique(split.test[0])) == 943  # every ml-100k user has >= 20 ratings


def test_a_missing_or_foreign_split_file_is_one_config_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", format=np.array("something-else"))
    for path in (tmp_path / "none.npz", tmp_path / "other.npz"):
        with pytest.raises(ConfigError, match="split") as caught:
            Split.load(path)
        assert "\n" not in str(caught.value)
