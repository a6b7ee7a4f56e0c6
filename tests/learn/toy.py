"""A small knowledge graph whose right recommendations are known.

Two tastes: the first ``USERS_PER_TASTE`` users like the "X" films (the first
``ITEMS_PER_TASTE`` items), the others the "Y" films. X films share director
``dir:x`` and genre ``X``; Y films ``dir:y`` and ``Y``. Each user trains on six
films of their taste and holds one out for validation and one for test. The
last film of each taste is *cold*: nobody interacted with it in training, but
the knowledge graph (director, genre) and its text vector say which taste it
belongs to. A model that uses the graph or the content must rank the cold film
of a user's taste above the other one, and films of the user's taste above the
others.
"""

from __future__ import annotations

import numpy as np

from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot

USERS_PER_TASTE = 12
ITEMS_PER_TASTE = 16
NUM_USERS = 2 * USERS_PER_TASTE
NUM_ITEMS = 2 * ITEMS_PER_TASTE
USERS = np.arange(1, NUM_USERS + 1, dtype=np.int64)
ITEMS = np.arange(101, 101 + NUM_ITEMS, dtype=np.int64)
COLD = (ITEMS_PER_TASTE - 1, NUM_ITEMS - 1)


def taste(item: int) -> int:
    """0 for X films, 1 for Y films (dense item ids)."""
    return 0 if item < ITEMS_PER_TASTE else 1


def user_taste(user: int) -> int:
    """0 for X fans, 1 for Y fans (dense user ids)."""
    return 0 if user < USERS_PER_TASTE else 1


def toy_split(seed: int = 3) -> Split:
    rng = np.random.default_rng(seed)
    train, valid, test, cold = [], [], [], []
    for u in range(NUM_USERS):
        t = user_taste(u)
        warm = [t * ITEMS_PER_TASTE + i for i in range(ITEMS_PER_TASTE - 1)]
        picked = rng.choice(warm, size=8, replace=False).tolist()
        train += [(u, i) for i in picked[:6]]
        valid.append((u, picked[6]))
        test.append((u, picked[7]))
        cold.append((u, COLD[t]))
    return Split(USERS, ITEMS, _pairs(train), _pairs(valid), _pairs(test), np.asarray(COLD, np.int64), _pairs(cold), 7)


def toy_snapshot(*, text_for: set[int] | None = None, seed: int = 0) -> GraphSnapshot:
    """The toy graph; ``text_for`` limits which items (dense ids) have a text vector (default: all)."""
    split = toy_split()
    rng = np.random.default_rng(seed)
    rated = np.concatenate([split.train, split.valid, split.test, split.cold_test], axis=1)
    rated = rated[:, np.lexsort([rated[1], rated[0]])]
    items = np.arange(NUM_ITEMS)
    tastes = np.array([taste(i) for i in items])
    axes = np.eye(8, dtype=np.float32)[[0, 1]]
    text = np.stack([axes[taste(i)] + 0.2 * rng.standard_normal(8).astype(np.float32) for i in items])
    if text_for is not None:
        text[[i for i in items if i not in text_for]] = np.nan
    return GraphSnapshot(
        node_keys={
            "User": USERS,
            "Item": ITEMS,
            "Entity": np.array(["dir:x", "dir:y"], dtype=object),
            "Genre": np.array(["X", "Y"], dtype=object),
        },
        edges={
            ("User", "RATED", "Item"): rated,
            ("Item", "DIRECTED_BY", "Entity"): np.stack([items, tastes]),
            ("Item", "IN_GENRE", "Genre"): np.stack([items, tastes]),
        },
        node_props={"Item": {"feat_text": text.astype(np.float32)}},
    )


def _pairs(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.asarray(sorted(pairs), dtype=np.int64).T.reshape(2, -1)
