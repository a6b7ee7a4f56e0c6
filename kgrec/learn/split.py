"""The train/valid/test split every model is trained and evaluated on.

The protocol is RecBole's (``eval_args: split RS [0.8, 0.1, 0.1], order RO,
group_by user``) so that numbers compare: every rating is one implicit
interaction, each user's interactions are shuffled with a seeded generator and
cut by ratio with RecBole's rounding. Optionally a share of the items is held
out entirely first (cold start): all their interactions go to ``cold_test`` and
none of them appear in training, validation or test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kgrec.errors import ConfigError
from kgrec.snapshot import save_npz_atomic

FORMAT = "kgrec-split"
VERSION = 1
_EDGE_ARRAYS = ("train", "valid", "test", "cold_test")


@dataclass(frozen=True, eq=False)
class Split:
    """A per-user random split of implicit interactions over dense ids.

    Args:
        user_keys: ``(U,)`` original user keys; the index is the dense user id.
        item_keys: ``(I,)`` original item keys; the index is the dense item id.
        train: ``(2, E)`` ``int64`` dense user ids over dense item ids, sorted by (user, item).
        valid: ``(2, E)`` validation interactions, same layout.
        test: ``(2, E)`` test interactions, same layout.
        cold_items: ``(C,)`` sorted dense ids of the items held out entirely (empty without a cold-start hold-out).
        cold_test: ``(2, E)`` every interaction with a cold item (never in train, valid or test).
        seed: The seed the split was drawn with.
    """

    user_keys: np.ndarray
    item_keys: np.ndarray
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    cold_items: np.ndarray
    cold_test: np.ndarray
    seed: int

    @property
    def num_users(self) -> int:
        """Number of users (dense ids ``0..num_users-1``)."""
        return len(self.user_keys)

    @property
    def num_items(self) -> int:
        """Number of items (dense ids ``0..num_items-1``), cold items included."""
        return len(self.item_keys)

    def save(self, path: Path | str) -> Path:
        """Write the split to ``path`` (one ``.npz``, replaced atomically) and return it."""
        path = Path(path)
        arrays = {name: np.asarray(getattr(self, name), dtype=np.int64) for name in (*_EDGE_ARRAYS, "cold_items")}
        arrays["user_keys"] = _storable_keys(self.user_keys)
        arrays["item_keys"] = _storable_keys(self.item_keys)
        arrays["seed"] = np.asarray(self.seed, dtype=np.int64)
        arrays["format"] = np.asarray(f"{FORMAT}/{VERSION}")
        return save_npz_atomic(path, arrays)

    @classmethod
    def load(cls, path: Path | str) -> Split:
        """Read a split written by :meth:`save` (never unpickles).

        Raises:
            ConfigError: The file is missing or not a kgrec split of a known version.
        """
        try:
            npz = np.load(Path(path), allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ConfigError(f"{path}: cannot read the split ({e})") from e
        with npz:
            if "format" not in npz or str(npz["format"]) != f"{FORMAT}/{VERSION}":
                raise ConfigError(f"{path}: not a kgrec split of version {VERSION}; delete it to split again")
            return cls(
                user_keys=_loaded_keys(npz["user_keys"]),
                item_keys=_loaded_keys(npz["item_keys"]),
                **{name: npz[name] for name in (*_EDGE_ARRAYS, "cold_items")},
                seed=int(npz["seed"]),
            )

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the key arrays, the interaction arrays and the seed."""
        h = hashlib.sha256()
        for name in ("user_keys", "item_keys"):
            h.update(name.encode() + b"\0" + _key_bytes(getattr(self, name)))
        for name in (*_EDGE_ARRAYS, "cold_items"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=np.int64)
            h.update(f"{name}{arr.shape}".encode() + b"\0" + arr.tobytes())
        h.update(f"seed={self.seed}".encode())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Split):
            return NotImplemented
        return self.fingerprint() == other.fingerprint()

    __hash__ = None  # type: ignore[assignment]


def make_split(
    user_keys: np.ndarray,
    item_keys: np.ndarray,
    interactions: np.ndarray,
    *,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    cold_item_share: float = 0.0,
    seed: int = 2020,
) -> Split:
    """Split implicit interactions per user into train/valid/test, RecBole style.

    Args:
        user_keys: ``(U,)`` original user keys (index = dense user id).
        item_keys: ``(I,)`` original item keys (index = dense item id).
        interactions: ``(2, E)`` dense user ids over dense item ids; duplicate pairs
            collapse to one implicit interaction.
        ratios: Train, valid and test shares (normalised; default: ``(0.8, 0.1, 0.1)``).
        cold_item_share: Share of the items with interactions to hold out entirely
            into ``cold_test`` before splitting (default: ``0.0``, none).
        seed: Seed of the numpy generator that draws cold items and shuffles users
            (default: ``2020``).

    Raises:
        ConfigError: ``ratios`` or ``cold_item_share`` are invalid.
        ValueError: ``interactions`` is not ``(2, E)`` or holds ids out of range.
    """
    shares = _check_ratios(ratios)
    if not 0.0 <= cold_item_share < 1.0:
        raise ConfigError(f"cold_item_share must be in [0, 1), got {cold_item_share}")
    pairs = _unique_pairs(interactions, len(user_keys), len(item_keys))
    rng = np.random.default_rng(seed)
    cold_items = _draw_cold_items(pairs[1], cold_item_share, rng)
    is_cold = np.isin(pairs[1], cold_items)
    warm = pairs[:, ~is_cold]
    phase = _assign_phases(warm[0], shares, rng)
    return Split(
        user_keys=np.asarray(user_keys),
        item_keys=np.asarray(item_keys),
        train=warm[:, phase == 0],
        valid=warm[:, phase == 1],
        test=warm[:, phase == 2],
        cold_items=cold_items,
        cold_test=pairs[:, is_cold],
        seed=seed,
    )


def split_counts(total: int, ratios: Sequence[float]) -> tuple[int, ...]:
    """How many of ``total`` interactions go to each part, with RecBole's rounding.

    Every part but the first is rounded down, the first takes the rest; then,
    from the last part backwards, a part whose exact share is in ``(0, 1)`` gets
    one interaction from the first part while that keeps more than one. This is
    ``Dataset._calcu_split_ids`` of RecBole 1.2 (``recbole/data/dataset/dataset.py``),
    which ``split_by_ratio`` applies to every user group.
    """
    return _split_counts(total, tuple(_check_ratios(ratios)))


@lru_cache(maxsize=4096)
def _split_counts(total: int, shares: tuple[float, ...]) -> tuple[int, ...]:
    cnt = [int(r * total) for r in shares]
    cnt[0] = total - sum(cnt[1:])
    for i in range(1, len(shares)):
        if cnt[0] <= 1:
            break
        if 0 < shares[-i] * total < 1:
            cnt[-i] += 1
            cnt[0] -= 1
    return tuple(cnt)


def _check_ratios(ratios: Sequence[float]) -> tuple[float, ...]:
    if len(ratios) != 3 or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise ConfigError(f"ratios must be three non-negative shares (train, valid, test), got {tuple(ratios)}")
    total = sum(ratios)
    return tuple(float(r) / total for r in ratios)


def _unique_pairs(interactions: np.ndarray, num_users: int, num_items: int) -> np.ndarray:
    """Distinct (user, item) pairs sorted by (user, item), as ``(2, E)`` ``int64``."""
    inter = np.asarray(interactions, dtype=np.int64)
    if inter.ndim != 2 or inter.shape[0] != 2:
        raise ConfigError(f"interactions must have shape (2, E), got {inter.shape}")
    users, items = inter
    if inter.size and (users.min() < 0 or users.max() >= num_users or items.min() < 0 or items.max() >= num_items):
        raise ConfigError(f"interaction ids out of range for {num_users} users and {num_items} items")
    codes = np.unique(users * num_items + items)
    return np.stack([codes // num_items, codes % num_items]) if num_items else inter


def _draw_cold_items(items: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted ids of ``share`` of the items that have interactions (at least one when share > 0)."""
    candidates = np.unique(items)
    if share <= 0 or len(candidates) == 0:
        return np.empty(0, dtype=np.int64)
    n = min(max(1, round(share * len(candidates))), len(candidates))
    return np.sort(rng.choice(candidates, size=n, replace=False)).astype(np.int64)


def _assign_phases(users: np.ndarray, shares: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    """Phase (0 train, 1 valid, 2 test) of each interaction; ``users`` is sorted.

    Each user's interactions are put in a seeded random order, then the first
    ``cnt[0]`` go to train, the next ``cnt[1]`` to valid and the rest to test.
    """
    phase = np.empty(len(users), dtype=np.int8)
    if len(users) == 0:
        return phase
    order = np.lexsort((rng.random(len(users)), users))
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    sizes = np.diff(np.r_[starts, len(users)])
    counts = np.array([_split_counts(int(n), shares) for n in sizes], dtype=np.int64)
    position = np.arange(len(users)) - np.repeat(starts, sizes)
    ends = np.repeat(np.cumsum(counts, axis=1), sizes, axis=0)
    phase[order] = (position[:, None] >= ends[:, :2]).sum(axis=1)
    return phase


def _storable_keys(keys: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys)
    return keys.astype(str) if keys.dtype == object else keys


def _loaded_keys(keys: np.ndarray) -> np.ndarray:
    return keys.astype(object) if keys.dtype.kind == "U" else keys


def _key_bytes(keys: np.ndarray) -> bytes:
    keys = np.asarray(keys)
    if keys.dtype == object or keys.dtype.kind == "U":
        return "\x1f".join(str(k) for k in keys).encode()
    return np.ascontiguousarray(keys, dtype=np.int64).tobytes()
